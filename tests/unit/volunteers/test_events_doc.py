"""docs/events.md, volunteers section, against services/volunteers/contract: the page shows
the schemas the service publishes, every example is valid, no event can carry an ID number
or a phone number, and the event it consumes is shown once, where its publisher documents it."""

import json
import re

import pytest

from services.activities.contract import EVENT_SCHEMAS as ACTIVITIES_EVENT_SCHEMAS
from services.volunteers.contract import EVENT_SCHEMAS
from services.volunteers.contract.hours import ATTENDANCE_CONFIRMED, ATTENDANCE_CONFIRMED_SCHEMA
from tests.support.event_docs import DOC, blocks, check_documented

PERSONAL = re.compile(r"id_number|phone|id_card|mobile")


def test_every_volunteers_event_is_documented_with_its_schema_and_an_example():
    assert set(blocks("volunteers", "schema")) == set(blocks("volunteers", "example")) == set(EVENT_SCHEMAS)


@pytest.mark.parametrize("event_type", sorted(EVENT_SCHEMAS))
def test_the_documented_schema_is_the_published_one_and_the_example_valid(event_type):
    check_documented("volunteers", event_type, EVENT_SCHEMAS)


@pytest.mark.parametrize("event_type", sorted(EVENT_SCHEMAS))
def test_no_event_declares_an_id_number_or_a_phone(event_type):
    assert not PERSONAL.search(json.dumps(EVENT_SCHEMAS[event_type]["properties"]))


def test_the_consumed_attendance_event_points_to_the_activities_section_that_documents_it():
    """volunteers reads `attendance.confirmed` with the activities contract's schema, which the
    activities section shows (tests/unit/activities/test_events_doc.py); no second copy here."""
    assert ATTENDANCE_CONFIRMED_SCHEMA is ACTIVITIES_EVENT_SCHEMAS[ATTENDANCE_CONFIRMED]
    volunteers = DOC[DOC.index("## The volunteers service") : DOC.index("## The activities service")]
    consumed = volunteers.split("#### Consumed: `attendance.confirmed`")[1].split("\n#### ")[0]
    assert "[`attendance.confirmed`](#attendanceconfirmed)" in consumed and "```json" not in consumed
    assert "<!-- activities-schema: attendance.confirmed -->" in DOC
