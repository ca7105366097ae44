"""docs/events.md, identity section, against services/identity/contract.py: the page shows the
schemas identity publishes, and its examples are valid."""

import json
import re

import jsonschema
import pytest

from services.identity.contract import EVENT_SCHEMAS
from tests.support import ROOT

DOC = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
MARKED_BLOCK = re.compile(r"<!-- identity-(schema|example): ([a-z_.]+) -->\n```json\n(.*?)\n```", re.S)


def blocks(kind):
    return {name: json.loads(text) for found, name, text in MARKED_BLOCK.findall(DOC) if found == kind}


def test_every_identity_event_is_documented_with_its_schema_and_an_example():
    assert set(blocks("schema")) == set(blocks("example")) == set(EVENT_SCHEMAS)


@pytest.mark.parametrize("event_type", sorted(EVENT_SCHEMAS))
def test_the_documented_schema_is_the_published_one_and_the_example_valid(event_type):
    assert blocks("schema")[event_type] == EVENT_SCHEMAS[event_type]
    jsonschema.validate(blocks("example")[event_type], EVENT_SCHEMAS[event_type])
