"""The chassis' input limits: text that no store or encoder accepts, one-line text, bounded
numbers and dates, and `load` refusing anything but an object."""

from datetime import date

import pytest
from marshmallow import fields

from services.chassis.errors import InvalidInput
from services.chassis.schemas import (
    MAX_ID,
    MAX_INT,
    MAX_PAGE,
    StrictSchema,
    Text,
    at_least_zero,
    count_field,
    date_field,
    id_field,
    load,
    measure_field,
    page_field,
    page_size_field,
    unsafe_text,
)


class Sample(StrictSchema):
    name = Text(validate=None)
    notes = Text(multiline=True)
    raw = fields.String()
    count = count_field("A count.", 1000)
    area = measure_field("An area.", 50.5)
    day = date_field("A day.")
    parent_id = id_field("An id.")
    default_bound = fields.Integer(validate=at_least_zero())
    tags = fields.List(fields.String())
    page = page_field()
    page_size = page_size_field()


def refused(data):
    with pytest.raises(InvalidInput) as error:
        load(Sample(), data)
    assert error.value.code == "input.invalid"
    return error.value.fields


def test_nul_and_lone_surrogates_are_refused_in_any_string_key_or_value():
    assert unsafe_text({"a": "榆次 😀", "b": [{"c": "ok"}], "d": 1, "e": None}) == {}
    found = unsafe_text({"a": "\ud800", "b": [{"c": "x\x00"}, "\udfff"], "\udc00": 1, "ok\x00": "x"})
    assert set(found) == {"a", "b.0.c", "b.1", "\\udc00", "ok\\x00"}
    assert all(messages and isinstance(messages[0], str) for messages in found.values())
    # refused before the schema runs, whatever the field's type (a plain String here)
    assert set(refused({"raw": "a\x00b"})) == {"raw"}
    assert set(refused({"tags": ["fine", "\ud83d"]})) == {"tags.1"}


def test_unsafe_text_walks_deep_data_without_recursion():
    deep = "\ud800"
    for _ in range(50_000):
        deep = [deep]
    assert list(unsafe_text({"x": deep})) == ["x" + ".0" * 50_000]


def test_text_is_one_line_without_control_characters_unless_multiline():
    assert load(Sample(), {"name": "  东阳镇  ", "notes": "第一行\n第二行\t完"}) == {
        "name": "东阳镇",
        "notes": "第一行\n第二行\t完",
        "page": 1,
        "page_size": 20,
    }
    for text in ("a\nb", "a\tb", "\x1b[31m", "a\x7fb", "a\x85b", "a\u2028b", "a\u202eb"):
        assert set(refused({"name": text})) == {"name"}, repr(text)
    for text in ("a\x07b", "a\x1bb", "a\u202eb"):
        assert set(refused({"notes": text})) == {"notes"}, repr(text)


@pytest.mark.parametrize("data", [None, [], "x", 3, True])
def test_load_refuses_anything_but_an_object(data):
    assert refused(data) == {"_schema": ["必须是对象。"]}


@pytest.mark.parametrize(
    "field, bad, good",
    [
        ("count", [-1, 1001, 2**63, 2**31, True, 1.5], [0, 1000]),
        ("area", [-0.1, 50.6, 1e308, float("inf"), float("nan"), 10**400], [0, 50.5]),
        ("day", ["0001-01-01", "1899-12-31", "2100-01-01", "9999-12-31", "2026-02-30"], ["1900-01-01"]),
        ("parent_id", [0, -1, MAX_ID + 1, 2**64, "5"], [1, MAX_ID]),
        ("default_bound", [MAX_INT + 1, 2**63, -1], [0, MAX_INT]),
        ("page", [0, MAX_PAGE + 1, 10**18, "1" * 30], [1, MAX_PAGE, "7"]),
        ("page_size", [0, 201, 10**18], [1, 200]),
    ],
)
def test_numbers_and_dates_have_ranges(field, bad, good):
    for value in bad:
        messages = refused({field: value})
        assert set(messages) == {field}, (value, messages)
    for value in good:
        assert field in load(Sample(), {field: value})


def test_a_range_message_names_the_bounds():
    assert refused({"count": 5000}) == {"count": ["必须在 0 到 1000 之间。"]}
    assert refused({"day": "2100-01-01"}) == {"day": ["必须在 1900-01-01 到 2099-12-31 之间。"]}
    assert load(Sample(), {"day": "2099-12-31"})["day"] == date(2099, 12, 31)


def test_a_count_wider_than_an_integer_column_cannot_be_declared():
    with pytest.raises(ValueError):
        count_field("Too wide.", MAX_INT + 1)
