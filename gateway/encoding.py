"""The one JSON encoding of responses: compact UTF-8, Chinese left readable."""

import json


def encode(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
