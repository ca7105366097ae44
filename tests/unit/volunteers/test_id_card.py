"""Identity card numbers (GB 11643-1999): format, region, birth date, check character, sex, age."""

from datetime import date

import pytest

from services.chassis.errors import InvalidInput
from services.volunteers.id_card import age_on, check_character, is_minor, parse_id_number

TODAY = date(2026, 5, 1)
PUBLIC_EXAMPLE = "11010519491231002X"  # the standard's own example: Beijing Chaoyang, 1949-12-31, female


def with_check(body):
    """`body` (17 digits) plus its check character, computed independently of the module: the
    weight of the digit at position i from the right (the check character is i=1) is 2**(i-1) mod 11,
    and the check value is (12 - sum mod 11) mod 11, 10 written X."""
    total = sum(int(digit) * pow(2, 17 - index, 11) for index, digit in enumerate(body))
    value = (12 - total % 11) % 11
    return body + ("X" if value == 10 else str(value))


def number(region="140722", birth="19850704", sequence="123"):
    """A valid number (140722: Xiyang county, Jinzhong)."""
    return with_check(region + birth + sequence)


def code_of(text, today=TODAY):
    with pytest.raises(InvalidInput) as excinfo:
        parse_id_number(text, today)
    return excinfo.value.code


def test_the_public_example_parses():
    parsed = parse_id_number(PUBLIC_EXAMPLE, TODAY)
    assert parsed.number == PUBLIC_EXAMPLE
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "female"
    assert parsed.region_code == "110105"


def test_the_independent_helper_agrees_with_the_public_example():
    assert with_check(PUBLIC_EXAMPLE[:17]) == PUBLIC_EXAMPLE


def test_every_check_character_is_computed_right():
    seen = set()
    for sequence in range(200):
        valid = number(sequence=f"{sequence:03d}")
        assert check_character(valid[:17]) == valid[17]
        assert parse_id_number(valid, TODAY).number == valid
        seen.add(valid[17])
    assert seen == set("0123456789X")


def test_odd_17th_digit_is_male_even_is_female():
    assert parse_id_number(number(sequence="131"), TODAY).sex == "male"
    assert parse_id_number(number(sequence="130"), TODAY).sex == "female"


def test_lower_case_x_becomes_upper_case():
    assert parse_id_number(PUBLIC_EXAMPLE.lower(), TODAY).number == PUBLIC_EXAMPLE


def test_spaces_and_full_width_characters_are_tolerated():
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in "11010519491231002x")  # as typed with a Chinese IME
    assert parse_id_number(full_width, TODAY).number == PUBLIC_EXAMPLE
    assert parse_id_number(" 110105 19491231 002X\n", TODAY).number == PUBLIC_EXAMPLE


def test_a_wrong_check_character_is_refused():
    valid = number()
    for wrong in set("0123456789X") - {valid[17]}:
        assert code_of(valid[:17] + wrong) == "id_number.check_digit"


def test_a_changed_digit_is_caught_by_the_check_character():
    valid = number()
    changed = valid[:14] + str((int(valid[14]) + 1) % 10) + valid[15:]
    assert code_of(changed) == "id_number.check_digit"


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "110105491231002",  # a first-generation 15-digit number
        "11010519491231002",  # 17 characters
        "11010519491231002X1",  # 19 characters
        "1101051949123100XX",  # X elsewhere than last
        "11010519491231002Y",
        "11010519491231-002X",
    ],
)
def test_malformed_numbers_are_refused(text):
    assert code_of(text) == "id_number.format"


def test_an_unknown_province_is_refused():
    assert code_of(number(region="990722")) == "id_number.region"
    assert code_of(number(region="000000")) == "id_number.region"


def test_residence_permits_of_hong_kong_macao_and_taiwan_residents_parse():
    for region in ("810000", "820000", "830000"):
        assert parse_id_number(number(region=region), TODAY).region_code == region


@pytest.mark.parametrize("birth", ["19900230", "20230229", "19000229", "19901301", "19900000", "19901232"])
def test_impossible_birth_dates_are_refused(birth):
    assert code_of(number(birth=birth)) == "id_number.birth_date"


def test_29_february_of_a_leap_year_is_a_birth_date():
    assert parse_id_number(number(birth="20000229"), TODAY).birth_date == date(2000, 2, 29)


def test_birth_dates_in_the_future_are_refused():
    assert code_of(number(birth="20260502")) == "id_number.birth_date"
    assert parse_id_number(number(birth="20260501"), TODAY).birth_date == TODAY


def test_birth_dates_before_1900_are_refused():
    assert code_of(number(birth="18991231")) == "id_number.birth_date"
    assert parse_id_number(number(birth="19000101"), TODAY).birth_date == date(1900, 1, 1)


def test_the_error_names_the_field_with_a_chinese_message():
    with pytest.raises(InvalidInput) as excinfo:
        parse_id_number(PUBLIC_EXAMPLE[:17] + "1", TODAY)
    assert excinfo.value.message.startswith("身份证号码")
    assert excinfo.value.fields == {"id_number": [excinfo.value.message]}


def test_the_repr_does_not_show_the_whole_number():
    assert "19491231" not in repr(parse_id_number(PUBLIC_EXAMPLE, TODAY))


def test_age_counts_full_years():
    birth = date(2008, 5, 2)
    assert age_on(birth, date(2026, 5, 1)) == 17
    assert age_on(birth, date(2026, 5, 2)) == 18
    assert age_on(birth, birth) == 0


def test_someone_born_on_29_february_ages_on_1_march_in_common_years():
    birth = date(2008, 2, 29)
    assert age_on(birth, date(2026, 2, 28)) == 17
    assert age_on(birth, date(2026, 3, 1)) == 18
    assert age_on(birth, date(2028, 2, 29)) == 20


def test_age_before_birth_is_an_error():
    with pytest.raises(ValueError):
        age_on(date(2020, 1, 2), date(2020, 1, 1))


def test_minors_are_under_18():
    birth = parse_id_number(number(birth="20080502"), TODAY).birth_date
    assert is_minor(birth, date(2026, 5, 1))
    assert not is_minor(birth, date(2026, 5, 2))
    assert not is_minor(date(1949, 12, 31), TODAY)
