"""The versioning policy of events (docs/events.md, "Compatibility"): what breaks a consumer
of the released schemas is found, additive changes pass, and every service's current event
schemas are compatible with the ones it released (docs/events/released/)."""

import copy
import json

import pytest

from services.chassis import event_compat
from services.chassis import event_schemas as js
from services.chassis.event_compat import breaking_changes, current_schemas, load_released
from tests.support import ROOT

HAPPENED = "thing.happened"
RELEASED = {
    HAPPENED: js.event_object(
        {
            "id": js.ID,
            "kind": js.one_of(("a", "b")),
            "note": js.nullable(js.TEXT),
            "hours": {"type": "number", "minimum": 0, "maximum": 24},
            "at": js.TIMESTAMP,
            "code": {"type": "string", "pattern": "^[a-z]+$"},
            "tags": {"type": "array", "items": js.TEXT, "uniqueItems": True},
            "rule": {"type": "object", "properties": {"kind": js.one_of(("x", "y")), "rate": js.COUNT}},
        },
        "Something happened.",
        optional=("note",),
    )
}


def changed(edit):
    current = copy.deepcopy(RELEASED)
    edit(current[HAPPENED])
    return current


def setting(path, value):
    """An edit that sets `path` (keys under the schema) to `value`."""

    def edit(schema):
        *parents, last = path
        for key in parents:
            schema = schema[key]
        schema[last] = value

    return edit


def props(name, *rest):
    return ("properties", name, *rest)


def removing(name):
    return lambda schema: (schema["properties"].pop(name), schema["required"].remove(name))


BREAKING = {
    "a property removed": (removing("id"), "data.id was removed"),
    "a type changed": (setting(props("id"), js.TEXT), "data.id may now be of type string"),
    "an integer widened to a number": (setting(props("id", "type"), "number"), "data.id may now be of type number"),
    "a field made nullable": (setting(props("id"), js.nullable(js.ID)), "data.id may now be null"),
    "a required field made optional": (lambda s: s["required"].remove("at"), "data.at may now be absent"),
    "an enum narrowed": (setting(props("kind", "enum"), ["a"]), "data.kind is no longer sent as ['b']"),
    "an enum opened to any string": (setting(props("kind"), js.TEXT), "data.kind is no longer one of ['a', 'b']"),
    "a maximum raised": (setting(props("hours", "maximum"), 48), "data.hours: maximum 24 became 48"),
    "a minimum removed": (lambda s: s["properties"]["hours"].pop("minimum"), "data.hours: minimum 0 was dropped"),
    "a format changed": (setting(props("at", "format"), "date"), "data.at: format 'date-time' became 'date'"),
    "a pattern changed": (setting(props("code", "pattern"), "^[a-z0-9]+$"), "data.code: pattern"),
    "items retyped": (setting(props("tags", "items"), js.ID), "data.tags[] may now be of type integer"),
    "items may repeat": (setting(props("tags", "uniqueItems"), False), "data.tags may now repeat items"),
    "a nested enum narrowed": (setting(props("rule", "properties", "kind", "enum"), ["y"]), "data.rule.kind is no"),
    "a nested field removed": (lambda s: s["properties"]["rule"]["properties"].pop("rate"), "data.rule.rate was"),
    "an object closed": (setting(("additionalProperties",), False), "data is closed to new fields"),
    "a null became possible in a nested object": (
        setting(props("rule", "properties", "rate"), js.nullable(js.COUNT)),
        "data.rule.rate may now be null",
    ),
}

ADDITIVE = {
    "a new optional field": setting(props("extra"), js.TEXT),
    "a new required field": lambda s: (s["properties"].update(extra=js.TEXT), s["required"].append("extra")),
    "an optional field made required": lambda s: s["required"].append("note"),
    "a nullable field made non-null": setting(props("note"), js.TEXT),
    "an enum widened": setting(props("kind", "enum"), ["a", "b", "c"]),
    "bounds made stricter": setting(props("hours"), {"type": "number", "minimum": 0.5, "maximum": 12}),
    "a number narrowed to an integer": setting(props("hours", "type"), "integer"),
    "a format added": setting(props("note"), js.nullable({**js.TEXT, "format": "email"})),
    "a description reworded": setting(("description",), "Something else happened."),
}


@pytest.mark.parametrize("edit, reason", BREAKING.values(), ids=BREAKING)
def test_each_kind_of_breaking_change_is_found(edit, reason):
    reasons = breaking_changes(RELEASED, changed(edit))
    assert len(reasons) == 1 and reasons[0].startswith(f"{HAPPENED}: {reason}"), reasons


@pytest.mark.parametrize("edit", ADDITIVE.values(), ids=ADDITIVE)
def test_additive_changes_break_nobody(edit):
    assert breaking_changes(RELEASED, changed(edit)) == []


def test_a_removed_event_type_breaks_and_a_new_one_does_not():
    assert breaking_changes(RELEASED, {}) == [f"{HAPPENED}: the event type is no longer published"]
    assert breaking_changes(RELEASED, {**RELEASED, "thing.vanished": js.event_object({}, "New.")}) == []


def test_a_closed_released_object_refuses_new_fields():
    closed = changed(setting(("additionalProperties",), False))
    assert breaking_changes(closed, copy.deepcopy(closed)) == []
    widened = copy.deepcopy(closed)
    widened[HAPPENED]["properties"]["extra"] = js.TEXT
    assert breaking_changes(closed, widened) == [f"{HAPPENED}: data may now carry fields the released schema refused"]


def services_with_events():
    """Every service whose contract declares events (whether or not it is in the registry yet)."""
    packages = sorted(path.parent.name for path in (ROOT / "services").glob("*/contract*") if path.stem == "contract")
    return [name for name in packages if current_schemas(name)]


@pytest.mark.parametrize("service", services_with_events())
def test_each_service_still_publishes_what_it_released(service):
    assert event_compat.released_path(service).exists(), (
        f"run python -m services.chassis.event_compat release {service}"
    )
    assert breaking_changes(load_released(service), current_schemas(service)) == []


def test_every_service_with_events_has_a_released_contract():
    assert {"identity", "centers", "volunteers", "activities"} <= set(services_with_events())
    released = {path.stem for path in event_compat.RELEASED.glob("*.json")}
    assert released == set(services_with_events())


def test_release_writes_an_additive_change_and_refuses_a_breaking_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(event_compat, "RELEASED", tmp_path / "docs" / "events" / "released")
    contract = {"schemas": RELEASED}
    monkeypatch.setattr(event_compat, "current_schemas", lambda service: contract["schemas"])
    path = tmp_path / "docs" / "events" / "released" / "things.json"

    assert event_compat.main(["release", "things"]) == 0
    assert json.loads(path.read_text(encoding="utf-8")) == RELEASED

    contract["schemas"] = changed(removing("id"))
    assert event_compat.main(["release", "things"]) == 1
    assert "breaking: thing.happened: data.id was removed" in capsys.readouterr().err
    assert json.loads(path.read_text(encoding="utf-8")) == RELEASED

    contract["schemas"] = changed(setting(props("extra"), js.TEXT))
    assert event_compat.main(["release", "things"]) == 0
    assert "extra" in json.loads(path.read_text(encoding="utf-8"))[HAPPENED]["properties"]

    contract["schemas"] = changed(removing("id"))
    assert event_compat.main(["release", "things", "--force"]) == 0
    assert "id" not in json.loads(path.read_text(encoding="utf-8"))[HAPPENED]["properties"]
