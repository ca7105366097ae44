"""docs/events.md, volunteers section, against services/volunteers/contract: the page shows
the schemas the service publishes, every example is valid, and no event can carry an ID
number or a phone number."""

import json
import re

import jsonschema
import pytest

from services.volunteers.contract import EVENT_SCHEMAS
from services.volunteers.contract.hours import ATTENDANCE_CONFIRMED, ATTENDANCE_CONFIRMED_SCHEMA
from tests.support import ROOT

DOC = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
MARKED_BLOCK = re.compile(r"<!-- volunteers-(consumed-)?(schema|example): ([a-z_.]+) -->\n```json\n(.*?)\n```", re.S)
PERSONAL = re.compile(r"id_number|phone|id_card|mobile")


def blocks(kind, consumed=False):
    return {
        name: json.loads(text)
        for is_consumed, found, name, text in MARKED_BLOCK.findall(DOC)
        if found == kind and bool(is_consumed) is consumed
    }


def test_every_volunteers_event_is_documented_with_its_schema_and_an_example():
    assert set(blocks("schema")) == set(blocks("example")) == set(EVENT_SCHEMAS)


@pytest.mark.parametrize("event_type", sorted(EVENT_SCHEMAS))
def test_the_documented_schema_is_the_published_one_and_the_example_valid(event_type):
    assert blocks("schema")[event_type] == EVENT_SCHEMAS[event_type]
    jsonschema.validate(
        blocks("example")[event_type], EVENT_SCHEMAS[event_type], format_checker=jsonschema.FormatChecker()
    )


@pytest.mark.parametrize("event_type", sorted(EVENT_SCHEMAS))
def test_no_event_declares_an_id_number_or_a_phone(event_type):
    assert not PERSONAL.search(json.dumps(EVENT_SCHEMAS[event_type]["properties"]))


def test_the_consumed_attendance_event_is_documented_as_the_service_reads_it():
    assert blocks("schema", consumed=True) == {ATTENDANCE_CONFIRMED: ATTENDANCE_CONFIRMED_SCHEMA}
    example = blocks("example", consumed=True)[ATTENDANCE_CONFIRMED]
    jsonschema.validate(example, ATTENDANCE_CONFIRMED_SCHEMA, format_checker=jsonschema.FormatChecker())
