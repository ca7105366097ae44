"""The service-hour ledger's plain rules: reading attendances, revisions, stars announced
once, back-fill checks, disputes and revocation; and the hours field of its contract."""

import base64
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.chassis.errors import Conflict, InvalidInput, PermissionDenied
from services.chassis.schemas import load
from services.volunteers.contract.hours import BackfillCreateSchema, ResolveSchema
from services.volunteers.hours import domain
from services.volunteers.hours.domain import EntryState, UnusableAttendance

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16


def attendance_data(**changes):
    return {
        "attendance_id": 5,
        "revision": 2,
        "activity_id": 9,
        "activity_title": "文明旅游引导",
        "organizer_center_id": 3,
        "team_id": None,
        "volunteer_id": 11,
        "served_on": "2026-11-20",
        "hours": 2.345,
        "points_rule": {"kind": "flat", "rate": 10},
        "confirmed_at": "2026-11-20T10:00:00Z",
        **changes,
    }


# --- attendance ------------------------------------------------------------------------------


def test_an_attendance_is_read_with_hours_rounded_to_cents():
    attendance = domain.read_attendance(attendance_data(extra_field="ignored"))
    assert attendance.hours == Decimal("2.35")
    assert (attendance.center_id, attendance.served_on, attendance.team_id) == (3, date(2026, 11, 20), None)


@pytest.mark.parametrize(
    "changes",
    [
        {"hours": 24.5},
        {"hours": -1},
        {"hours": "2"},
        {"revision": 0},
        {"volunteer_id": None},
        {"served_on": "2026-13-01"},
        {"activity_title": ""},
        {"points_rule": {"kind": "per_visit", "rate": 1}},
    ],
)
def test_an_attendance_outside_its_schema_is_unusable(changes):
    with pytest.raises(UnusableAttendance):
        domain.read_attendance(attendance_data(**changes))


def test_data_that_is_not_an_object_is_unusable():
    with pytest.raises(UnusableAttendance):
        domain.read_attendance(None)


def test_a_first_attendance_credits_its_hours():
    credit = domain.apply_attendance(None, domain.read_attendance(attendance_data(hours=3)))
    assert (credit.change, credit.cause, credit.fields["revision"]) == (Decimal("3.00"), "attendance", 2)


@pytest.mark.parametrize("revision", [1, 2])
def test_an_older_or_equal_revision_changes_nothing(revision):
    entry = EntryState(volunteer_id=11, revision=2, hours=Decimal(3), status="confirmed")
    assert domain.apply_attendance(entry, domain.read_attendance(attendance_data(revision=revision))) is None


def test_a_newer_revision_replaces_the_hours_of_a_confirmed_entry():
    entry = EntryState(volunteer_id=11, revision=1, hours=Decimal(5), status="confirmed")
    credit = domain.apply_attendance(entry, domain.read_attendance(attendance_data(revision=2, hours=3.5)))
    assert (credit.change, credit.cause, credit.fields["hours"]) == (Decimal("-1.50"), "revision", Decimal("3.50"))


@pytest.mark.parametrize("status", ["disputed", "revoked"])
def test_a_newer_revision_of_an_entry_that_does_not_count_moves_no_total(status):
    entry = EntryState(volunteer_id=11, revision=1, hours=Decimal(5), status=status)
    credit = domain.apply_attendance(entry, domain.read_attendance(attendance_data(revision=2, hours=3)))
    assert credit.change == 0 and credit.fields["hours"] == Decimal(3)


def test_an_attendance_that_changes_volunteer_is_unusable():
    entry = EntryState(volunteer_id=12, revision=1, hours=Decimal(5), status="confirmed")
    with pytest.raises(UnusableAttendance):
        domain.apply_attendance(entry, domain.read_attendance(attendance_data(revision=2)))


# --- totals and stars ------------------------------------------------------------------------


def test_the_change_that_crosses_a_threshold_announces_the_star():
    standing = domain.standing(Decimal("100.50"), Decimal(2), announced_star_level=0)
    assert (standing.star_level, standing.announce) == (1, 1)


def test_a_star_already_announced_is_not_announced_again():
    assert domain.standing(Decimal(101), Decimal(4), announced_star_level=1).announce is None


def test_a_loss_announces_nothing_and_lowers_the_level():
    standing = domain.standing(Decimal(98), Decimal(-4), announced_star_level=1)
    assert (standing.star_level, standing.announce) == (0, None)


def test_a_jump_over_two_thresholds_announces_the_higher_star():
    assert domain.standing(Decimal(310), Decimal(220), announced_star_level=0).announce == 2


@pytest.mark.parametrize(
    ("total", "needed"),
    [
        (Decimal(0), Decimal(100)),
        (Decimal("99.5"), Decimal("0.5")),
        (Decimal(100), Decimal(200)),
        (Decimal(1500), None),
    ],
)
def test_hours_to_next_star(total, needed):
    assert domain.hours_to_next_star(total) == needed


# --- back-fills ------------------------------------------------------------------------------


def backfill_values(**changes):
    data = {
        "activity_title": "社区清扫",
        "center_id": 4,
        "served_on": "2026-11-28",
        "hours": 3.5,
        "explanation": "组织者漏记。",
        "photos": [
            {"content_type": "image/png", "data": base64.b64encode(PNG).decode()},
            {"content_type": "image/jpeg", "data": base64.b64encode(JPEG).decode()},
        ],
        **changes,
    }
    return load(BackfillCreateSchema, data)


def test_a_backfill_keeps_its_photos_in_order():
    fields, photos = domain.backfill_request(backfill_values(), datetime(2026, 11, 28, 1, tzinfo=UTC))
    assert photos == [("image/png", PNG), ("image/jpeg", JPEG)]
    assert fields["hours"] == Decimal("3.50") and fields["activity_id"] is None and "photos" not in fields


def test_today_is_the_county_calendar_day():
    # 2026-11-28 17:00 UTC is already the 29th in China (UTC+8)
    late_evening = datetime(2026, 11, 28, 17, tzinfo=UTC)
    domain.backfill_request(backfill_values(served_on="2026-11-29"), late_evening)
    with pytest.raises(InvalidInput) as future:
        domain.backfill_request(backfill_values(served_on="2026-11-30"), late_evening)
    assert (future.value.code, list(future.value.fields)) == ("backfill.served_in_future", ["served_on"])


@pytest.mark.parametrize(
    ("photo", "code"),
    [
        ({"content_type": "image/jpeg", "data": base64.b64encode(PNG).decode()}, "photo.content_mismatch"),
        ({"content_type": "image/png", "data": base64.b64encode(b"<svg/>").decode()}, "photo.content_mismatch"),
        ({"content_type": "image/png", "data": "iVBORw0KGgo=="}, "photo.not_base64"),
        ({"content_type": "image/png", "data": "不是base64"}, "photo.not_base64"),
    ],
)
def test_a_photo_is_checked_by_its_content(photo, code):
    values = backfill_values(photos=[{"content_type": "image/png", "data": base64.b64encode(PNG).decode()}, photo])
    with pytest.raises(InvalidInput) as refused:
        domain.backfill_request(values, datetime(2026, 11, 28, tzinfo=UTC))
    assert (refused.value.code, list(refused.value.fields)) == (code, ["photos.1.data"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hours": 0}, "hours"),
        ({"hours": 0.009}, "hours"),
        ({"hours": 24.001}, "hours"),
        ({"hours": "NaN"}, "hours"),
        ({"hours": True}, "hours"),
        ({"explanation": "x" * 501}, "explanation"),
        ({"photos": [{"content_type": "image/png", "data": "A" * (409_600 + 4)}]}, "photos"),
        ({"activity_title": " "}, "activity_title"),
    ],
)
def test_a_backfill_outside_its_schema_names_the_field(changes, field):
    with pytest.raises(InvalidInput) as refused:
        backfill_values(**changes)
    assert any(name.startswith(field) for name in refused.value.fields)


@pytest.mark.parametrize(
    ("sent", "kept"), [(0.5700000000000001, "0.57"), ("1.005", "1.01"), (24, "24.00"), (0.01, "0.01")]
)
def test_hours_are_checked_as_sent_then_rounded_to_two_places(sent, kept):
    assert backfill_values(hours=sent)["hours"] == Decimal(kept)


def test_a_period_may_not_end_before_it_starts():
    assert domain.period({"start": date(2026, 1, 1), "end": date(2026, 1, 1)})
    assert domain.period({"end": date(2026, 1, 1)})
    with pytest.raises(InvalidInput) as reversed_period:
        domain.period({"start": date(2026, 1, 2), "end": date(2026, 1, 1)})
    assert (reversed_period.value.code, list(reversed_period.value.fields)) == ("hours.period_reversed", ["end"])


def test_a_backfill_is_decided_once():
    assert domain.decide_backfill("pending", approve=True) == "approved"
    assert domain.decide_backfill("pending", approve=False) == "rejected"
    with pytest.raises(Conflict):
        domain.decide_backfill("approved", approve=False)


# --- disputes and revocation -----------------------------------------------------------------

CONFIRMED = EntryState(volunteer_id=11, revision=1, hours=Decimal(4), status="confirmed")
DISPUTED = EntryState(volunteer_id=11, revision=1, hours=Decimal(4), status="disputed")
REVOKED = EntryState(volunteer_id=11, revision=1, hours=Decimal(4), status="revoked")


def test_a_volunteer_disputes_only_their_own_confirmed_entry():
    assert domain.dispute(CONFIRMED, 11) == "disputed"
    with pytest.raises(PermissionDenied):
        domain.dispute(CONFIRMED, 12)
    for entry, code in ((DISPUTED, "hour_entry.disputed"), (REVOKED, "hour_entry.revoked")):
        with pytest.raises(Conflict) as refused:
            domain.dispute(entry, 11)
        assert refused.value.code == code


def test_an_upheld_dispute_corrects_the_hours_and_a_rejected_one_keeps_them():
    assert domain.resolution(DISPUTED, "upheld", Decimal(6)) == Decimal(6)
    assert domain.resolution(DISPUTED, "rejected", None) == Decimal(4)
    with pytest.raises(InvalidInput):
        domain.resolution(DISPUTED, "upheld", None)
    with pytest.raises(InvalidInput):
        domain.resolution(DISPUTED, "rejected", Decimal(6))
    with pytest.raises(Conflict):
        domain.resolution(CONFIRMED, "rejected", None)


def test_the_resolution_payload_accepts_zero_hours_but_not_more_than_a_day():
    assert load(ResolveSchema, {"outcome": "upheld", "corrected_hours": 0, "note": "未到场"})["corrected_hours"] == 0
    with pytest.raises(InvalidInput):
        load(ResolveSchema, {"outcome": "upheld", "corrected_hours": 25, "note": "多记"})


def test_only_a_confirmed_entry_is_revoked():
    assert domain.revocation(CONFIRMED) == "revoked"
    for entry in (DISPUTED, REVOKED):
        with pytest.raises(Conflict):
            domain.revocation(entry)
