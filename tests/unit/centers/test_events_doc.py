"""docs/events.md against the centers contract (services/centers/contract.py): the page shows the schemas the code
publishes, and every example on it is valid."""

import json
import re

import jsonschema
import pytest

from services.centers.contract import EVENT_SCHEMAS as SCHEMAS
from services.chassis.events import validate_event
from tests.support import ROOT

DOC = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
MARKED_BLOCK = re.compile(r"<!-- (schema|schema-extra|example): ([a-z_.]+) -->\n```json\n(.*?)\n```", re.S)


def blocks(kind):
    return {name: json.loads(text) for found, name, text in MARKED_BLOCK.findall(DOC) if found == kind}


def test_every_event_is_documented_with_an_example():
    assert set(blocks("example")) == set(SCHEMAS)


@pytest.mark.parametrize("event_type", sorted(blocks("schema")))
def test_documented_schemas_are_the_published_ones(event_type):
    assert blocks("schema")[event_type] == SCHEMAS[event_type]


@pytest.mark.parametrize("event_type", sorted(blocks("schema-extra")))
def test_documented_extra_fields_are_the_published_ones(event_type):
    for name, schema in blocks("schema-extra")[event_type].items():
        assert SCHEMAS[event_type]["properties"][name] == schema
        assert name in SCHEMAS[event_type]["required"]


@pytest.mark.parametrize("event_type", sorted(SCHEMAS))
def test_examples_are_valid(event_type):
    jsonschema.validate(blocks("example")[event_type], SCHEMAS[event_type], format_checker=jsonschema.FormatChecker())


def test_the_envelope_example_is_a_valid_cloudevent():
    envelope = json.loads(re.search(r"For example:\n\n```json\n(.*?)\n```", DOC, re.S).group(1))
    assert validate_event(envelope) == []
    jsonschema.validate(envelope["data"], SCHEMAS[envelope["type"]])
