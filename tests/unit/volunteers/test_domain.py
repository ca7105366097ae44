"""The volunteers' plain rules: phones, star levels, volunteer numbers, team kinds."""

from decimal import Decimal

import pytest

from services.chassis.errors import InvalidInput
from services.volunteers.domain import (
    TEAM_KINDS,
    new_star_level,
    normalize_phone,
    star_level,
    volunteer_number,
)

# --- phones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        " 13800138000 ",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+86-13800138000",
        "+8613800138000",
        "8613800138000",
        "86 138 0013 8000",
        "１３８００１３８０００",  # full-width digits, as a Chinese IME may type them
        "＋８６ １３８－００１３－８０００",
    ],
)
def test_mobile_numbers_are_normalized_to_11_digits(text):
    assert normalize_phone(text) == "13800138000"


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_every_mobile_prefix_is_accepted(prefix):
    assert normalize_phone(prefix + "012345678") == prefix + "012345678"


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "12800138000",  # no mobile network starts with 12
        "10800138000",
        "23800138000",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "+8612800138000",
        "+85213800138000",  # not a mainland prefix
        "008613800138000",
        "861380013800",  # 86 and 10 digits
        "+86138001380001",
        "0351-1234567",  # a landline (Jinzhong's area code)
        "138.0013.8000",
        "138 0013 800a",
    ],
)
def test_other_phones_are_refused(text):
    with pytest.raises(InvalidInput) as excinfo:
        normalize_phone(text)
    assert excinfo.value.code == "phone.format"
    assert "手机号码" in excinfo.value.message


def test_the_phone_error_names_the_field():
    with pytest.raises(InvalidInput) as excinfo:
        normalize_phone("12345")
    assert excinfo.value.fields == {"phone": [excinfo.value.message]}


# --- star levels --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "stars"),
    [
        (0, 0),
        (Decimal("99.9"), 0),
        (99.99, 0),
        (100, 1),
        (Decimal("100.0"), 1),
        (100.0, 1),
        (Decimal("299.5"), 1),
        (300, 2),
        (Decimal("599.99"), 2),
        (600, 3),
        (999.5, 3),
        (1000, 4),
        (Decimal("1499.9"), 4),
        (1500, 5),
        (Decimal("1500.00"), 5),
        (12000, 5),
    ],
)
def test_star_levels_start_at_each_threshold(hours, stars):
    assert star_level(hours) == stars


@pytest.mark.parametrize("hours", [-1, Decimal("-0.5"), float("nan"), Decimal("NaN"), float("inf"), "100", None])
def test_star_level_needs_a_finite_non_negative_number(hours):
    with pytest.raises(ValueError):
        star_level(hours)


@pytest.mark.parametrize(
    ("before", "after", "reached"),
    [
        (Decimal("99.5"), Decimal("100"), 1),
        (0, 100, 1),
        (299, 301, 2),
        (50, 700, 3),  # several thresholds at once: the level reached
        (1499, 1500, 5),
        (100, 150, None),
        (Decimal("99"), Decimal("99.9"), None),
        (700, 700, None),
        (700, 50, None),  # a correction lowers the hours: no new star
        (1500, 3000, None),
    ],
)
def test_new_star_level_is_the_level_reached_when_it_rises(before, after, reached):
    assert new_star_level(before, after) == reached


# --- volunteer numbers --------------------------------------------------------------------


def test_volunteer_numbers_are_county_year_and_zero_padded_serial():
    assert volunteer_number("JZXY", 2026, 123) == "JZXY-2026-000123"
    assert volunteer_number("JZ", 2015, 1) == "JZ-2015-000001"
    assert volunteer_number("ABCDEFGH", 9999, 999_999) == "ABCDEFGH-9999-999999"


@pytest.mark.parametrize(
    ("county_code", "year", "serial"),
    [
        ("jzxy", 2026, 1),
        ("J", 2026, 1),
        ("ABCDEFGHI", 2026, 1),
        ("JZ-XY", 2026, 1),
        ("晋中", 2026, 1),
        (None, 2026, 1),
        ("JZXY", 1999, 1),
        ("JZXY", 10000, 1),
        ("JZXY", "2026", 1),
        ("JZXY", True, 1),
        ("JZXY", 2026.0, 1),
        ("JZXY", 2026, 0),
        ("JZXY", 2026, -5),
        ("JZXY", 2026, 1_000_000),
        ("JZXY", 2026, "123"),
        ("JZXY", 2026, True),
    ],
)
def test_volunteer_number_inputs_are_validated(county_code, year, serial):
    with pytest.raises(ValueError):
        volunteer_number(county_code, year, serial)


# --- team kinds ---------------------------------------------------------------------------


def test_team_kinds_map_stable_keys_to_chinese_labels():
    assert TEAM_KINDS == {
        "lecture": "宣讲",
        "arts": "文艺",
        "teaching": "支教",
        "health": "医疗健身",
        "science": "科普",
        "legal": "法律",
        "environment": "卫生环保",
        "civilized_tourism": "文明旅游",
        "local": "其他",
    }
