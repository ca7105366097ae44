from nameko.exceptions import deserialize, serialize

from services.chassis.consumer import backoff_seconds
from services.chassis.errors import InvalidInput, NotFound, invalid_fields
from services.chassis.events import make_event, validate_event


def test_event_envelope_is_cloudevents_1_0():
    event = make_event("centers", "center.created", "7", {"id": 7}, request_id="abc")
    assert validate_event(event) == []
    assert event["specversion"] == "1.0"
    assert event["source"] == "/wenming/centers"
    assert event["dataschema"] == "urn:wenming:centers:center.created:1"
    assert event["requestid"] == "abc"
    assert event["time"].endswith("Z")


def test_validate_event_names_what_is_missing():
    assert "missing id" in validate_event({"specversion": "1.0", "source": "x", "type": "t", "time": "t", "data": {}})
    assert validate_event("text") == ["an event is a JSON object"]
    assert "specversion must be 1.0" in validate_event({**make_event("a", "b", "c", {}), "specversion": "0.3"})


def test_backoff_doubles():
    assert [backoff_seconds(n, 1.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]


def test_errors_cross_rpc_as_themselves():
    error = InvalidInput("center.name_missing", "名称必填", {"name": ["必填"]})
    rebuilt = deserialize(serialize(error))
    assert type(rebuilt) is InvalidInput
    assert (rebuilt.code, rebuilt.fields, rebuilt.status) == ("center.name_missing", {"name": ["必填"]}, 422)
    assert type(deserialize(serialize(NotFound("center.not_found", "x")))) is NotFound


def test_invalid_fields_flattens_nested_messages():
    error = invalid_fields("input.invalid", {"head": {"name": ["必填"]}, "code": "太长"})
    assert error.fields == {"head.name": ["必填"], "code": ["太长"]}
