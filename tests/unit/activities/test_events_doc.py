"""docs/events.md, activities section, against services/activities/contract: every event the
service publishes is documented with its schema and a valid example, and no event can carry
a name, an ID number or a phone number."""

import json
import re

import jsonschema
import pytest

from services.activities.contract import EVENT_SCHEMAS
from tests.support import ROOT

DOC = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
MARKED_BLOCK = re.compile(r"<!-- activities-(schema|example): ([a-z_.]+) -->\n```json\n(.*?)\n```", re.S)
PERSONAL = re.compile(r"name|id_number|id_card|phone|mobile")


def blocks(kind):
    found = [(name, json.loads(text)) for marked, name, text in MARKED_BLOCK.findall(DOC) if marked == kind]
    assert len(found) == len(dict(found)), f"an event has two {kind} blocks"
    return dict(found)


def keys(value):
    """Every key of a JSON value, nested ones too."""
    if isinstance(value, dict):
        return [key for name, item in value.items() for key in (name, *keys(item))]
    if isinstance(value, list):
        return [key for item in value for key in keys(item)]
    return []


def test_every_activities_event_is_documented_with_its_schema_and_an_example():
    assert set(blocks("schema")) == set(blocks("example")) == set(EVENT_SCHEMAS)


@pytest.mark.parametrize("event_type", sorted(EVENT_SCHEMAS))
def test_the_documented_schema_is_the_published_one_and_the_example_valid(event_type):
    assert blocks("schema")[event_type] == EVENT_SCHEMAS[event_type]
    jsonschema.validate(
        blocks("example")[event_type], EVENT_SCHEMAS[event_type], format_checker=jsonschema.FormatChecker()
    )


@pytest.mark.parametrize("event_type", sorted(EVENT_SCHEMAS))
def test_no_event_declares_or_shows_a_name_an_id_number_or_a_phone(event_type):
    assert not [key for key in keys(EVENT_SCHEMAS[event_type]["properties"]) if PERSONAL.search(key)]
    assert not [key for key in keys(blocks("example")[event_type]) if PERSONAL.search(key)]


def test_each_event_is_documented_under_a_heading_of_its_own_in_the_activities_section():
    section = DOC[DOC.index("## The activities service (`activities.events`)") :]
    for event_type in EVENT_SCHEMAS:
        assert f"#### `{event_type}`\n" in section
