"""docs/events.md, activities section, against services/activities/contract: every event the
service publishes is documented with its schema and a valid example, and no event can carry
a name, an ID number or a phone number."""

import re

import pytest

from services.activities.contract import EVENT_SCHEMAS
from tests.support.event_docs import DOC, blocks, check_documented

PERSONAL = re.compile(r"name|id_number|id_card|phone|mobile")


def keys(value):
    """Every key of a JSON value, nested ones too."""
    if isinstance(value, dict):
        return [key for name, item in value.items() for key in (name, *keys(item))]
    if isinstance(value, list):
        return [key for item in value for key in keys(item)]
    return []


def test_every_activities_event_is_documented_with_its_schema_and_an_example():
    assert set(blocks("activities", "schema")) == set(blocks("activities", "example")) == set(EVENT_SCHEMAS)


@pytest.mark.parametrize("event_type", sorted(EVENT_SCHEMAS))
def test_the_documented_schema_is_the_published_one_and_the_example_valid(event_type):
    check_documented("activities", event_type, EVENT_SCHEMAS)


@pytest.mark.parametrize("event_type", sorted(EVENT_SCHEMAS))
def test_no_event_declares_or_shows_a_name_an_id_number_or_a_phone(event_type):
    assert not [key for key in keys(EVENT_SCHEMAS[event_type]["properties"]) if PERSONAL.search(key)]
    assert not [key for key in keys(blocks("activities", "example")[event_type]) if PERSONAL.search(key)]


def test_each_event_is_documented_under_a_heading_of_its_own_in_the_activities_section():
    section = DOC[DOC.index("## The activities service (`activities.events`)") :]
    for event_type in EVENT_SCHEMAS:
        assert f"#### `{event_type}`\n" in section
