"""The registration and status rules of services/volunteers/domain.py (pure)."""

from datetime import date

import pytest

from services.centers.contract import PLATFORMS
from services.chassis.errors import Conflict, InvalidInput
from services.volunteers import domain
from services.volunteers.contract.registration import AVAILABLE_TIMES
from tests.support.people import id_number

TODAY = date(2026, 11, 29)
VOCABULARIES = {"service_categories": PLATFORMS, "available_times": AVAILABLE_TIMES}
GUARDIAN = {"name": "王大明", "relation": "父亲", "phone": "+86 139-0000-1111", "consented": True}


def values(**extra):
    return {
        "name": "王小红",
        "id_number": id_number(2).lower(),
        "phone": "138 0013 8000",
        "skills": ["书法", "急救", "书法"],
        "service_categories": ["health", "theory", "health"],
        "available_times": ["weekend", "weekday_evening"],
        "home_station_id": 7,
        "guardian": None,
        **extra,
    }


def test_a_registration_is_normalized_and_derives_birth_date_and_sex():
    state = domain.registration(values(), TODAY, VOCABULARIES)
    assert state["id_number"] == id_number(2) and state["phone"] == "13800138000"
    assert state["birth_date"] == date(1990, 5, 17) and state["sex"] == "female"
    assert state["skills"] == ["书法", "急救"]
    assert state["service_categories"] == ["theory", "health"]
    assert state["available_times"] == ["weekday_evening", "weekend"]
    assert state["guardian"] is None


def test_an_adult_keeps_no_guardian_data():
    assert domain.registration(values(guardian=GUARDIAN), TODAY, VOCABULARIES)["guardian"] is None


def test_a_minor_needs_a_consenting_guardian():
    minor = id_number(5, born=date(2012, 12, 1))
    with pytest.raises(InvalidInput) as missing:
        domain.registration(values(id_number=minor), TODAY, VOCABULARIES)
    assert missing.value.code == "volunteer.guardian_required" and "guardian" in missing.value.fields
    with pytest.raises(InvalidInput) as refused:
        domain.registration(values(id_number=minor, guardian={**GUARDIAN, "consented": False}), TODAY, VOCABULARIES)
    assert refused.value.code == "volunteer.guardian_consent"
    with pytest.raises(InvalidInput) as bad_phone:
        domain.registration(values(id_number=minor, guardian={**GUARDIAN, "phone": "12"}), TODAY, VOCABULARIES)
    assert bad_phone.value.code == "phone.format" and "guardian.phone" in bad_phone.value.fields
    state = domain.registration(values(id_number=minor, guardian=GUARDIAN), TODAY, VOCABULARIES)
    assert state["guardian"]["phone"] == "13900001111"


def test_one_turning_eighteen_today_is_an_adult():
    assert domain.registration(values(id_number=id_number(6, born=date(2008, 11, 29))), TODAY, VOCABULARIES)


@pytest.mark.parametrize(
    ("number", "masked"),
    [("14072419900517002X", "1407**********002X"), ("13800138000", "1380***8000")],
)
def test_masks_keep_the_ends(number, masked):
    assert domain.mask(number, 4, 4) == masked


def test_phone_mask():
    assert domain.mask_phone("13800138000") == "138****8000"


@pytest.mark.parametrize(
    ("current", "wanted", "reason", "expected"),
    [
        ("active", "active", None, None),
        ("active", "suspended", "违规", {"status": "suspended", "status_reason": "违规"}),
        ("suspended", "active", None, {"status": "active", "status_reason": None}),
        ("suspended", "active", "复核通过", {"status": "active", "status_reason": None}),
        ("active", "deregistered", "本人申请", {"status": "deregistered", "status_reason": "本人申请"}),
    ],
)
def test_status_changes(current, wanted, reason, expected):
    assert domain.status_change(current, wanted, reason) == expected


def test_leaving_active_needs_a_reason_and_deregistration_is_final():
    with pytest.raises(InvalidInput) as no_reason:
        domain.status_change("active", "suspended", None)
    assert no_reason.value.code == "volunteer.reason_required"
    with pytest.raises(Conflict) as final:
        domain.status_change("deregistered", "active", None)
    assert final.value.code == "volunteer.deregistered"


def test_erasure_covers_every_personal_field():
    assert {"name", "id_number_token", "id_number_hash", "phone_token", "phone_hash", "guardian"} <= set(domain.ERASED)
    assert all(value in (None, []) for value in domain.ERASED.values())


def test_profile_changes_are_normalized():
    changed = domain.profile_changes({"phone": "+8613912345678", "skills": ["a", "a"]}, VOCABULARIES)
    assert changed == {"phone": "13912345678", "skills": ["a"]}
