"""The marked blocks of docs/events.md: `<!-- <service>-schema: TYPE -->` and
`<!-- <service>-example: TYPE -->`, each followed by a ```json block."""

import json
import re

import jsonschema

from tests.support import ROOT

DOC = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")


def blocks(service, kind):
    """{event type: JSON} of the service's `kind` blocks (schema or example); a type shown
    twice is an error."""
    marked = re.compile(rf"<!-- {service}-{kind}: ([a-z_.]+) -->\n```json\n(.*?)\n```", re.S)
    found = [(name, json.loads(text)) for name, text in marked.findall(DOC)]
    assert len(found) == len(dict(found)), f"an event has two {service}-{kind} blocks"
    return dict(found)


def check_documented(service, event_type, schemas):
    """The documented schema of `event_type` is the published one, and its example is valid."""
    assert blocks(service, "schema")[event_type] == schemas[event_type]
    jsonschema.validate(
        blocks(service, "example")[event_type], schemas[event_type], format_checker=jsonschema.FormatChecker()
    )
