"""The service-hour ledger's rules, in plain Python (no nameko, SQL or I/O).

"Whoever organizes records, whoever records certifies": an entry comes from an attendance
the organizer confirmed, or from a back-fill the organizing center approved. Only confirmed
entries count; a disputed entry waits for its resolution, a revoked one is out for good.
Attendance events may arrive twice and out of order: an entry keeps the newest revision.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import jsonschema

from services.chassis.errors import Conflict, InvalidInput, PermissionDenied
from services.volunteers.contract.hours import ATTENDANCE_CONFIRMED_SCHEMA, CENT
from services.volunteers.domain import STAR_THRESHOLDS, new_star_level, star_level

CHINA = timezone(timedelta(hours=8))  # the county's calendar day decides "not in the future"
CONFIRMED, DISPUTED, REVOKED = "confirmed", "disputed", "revoked"
ZERO = Decimal(0)

# What each declared image type starts with (its "magic bytes").
IMAGE_SIGNATURES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}

_attendance_validator = jsonschema.Draft202012Validator(
    ATTENDANCE_CONFIRMED_SCHEMA, format_checker=jsonschema.FormatChecker()
)


def as_hours(number):
    """`number` (int, float or Decimal) as hours with two decimal places."""
    return Decimal(str(number)).quantize(CENT, rounding=ROUND_HALF_UP)


def counted(status, hours):
    """What an entry adds to its volunteer's total: its hours while confirmed, else nothing."""
    return hours if status == CONFIRMED else ZERO


def local_today(now):
    return now.astimezone(CHINA).date()


# --- attendance ------------------------------------------------------------------------------


class UnusableAttendance(ValueError):
    """An `attendance.confirmed` event no retry can apply (the service dead-letters it)."""


@dataclass(frozen=True)
class Attendance:
    attendance_id: int
    revision: int
    volunteer_id: int
    activity_id: int
    activity_title: str
    center_id: int
    team_id: int | None
    served_on: date
    hours: Decimal


def read_attendance(data):
    """The `data` of an `attendance.confirmed` event as an Attendance, or UnusableAttendance
    naming what breaks ATTENDANCE_CONFIRMED_SCHEMA."""
    problems = sorted(_attendance_validator.iter_errors(data), key=lambda error: list(error.path))
    if problems:
        where = "/".join(str(part) for part in problems[0].path) or "data"
        raise UnusableAttendance(f"attendance.confirmed data invalid at {where}: {problems[0].message}")
    return Attendance(
        attendance_id=data["attendance_id"],
        revision=data["revision"],
        volunteer_id=data["volunteer_id"],
        activity_id=data["activity_id"],
        activity_title=data["activity_title"],
        center_id=data["organizer_center_id"],
        team_id=data["team_id"],
        served_on=date.fromisoformat(data["served_on"]),
        hours=as_hours(data["hours"]),
    )


@dataclass(frozen=True)
class EntryState:
    volunteer_id: int
    revision: int
    hours: Decimal
    status: str


@dataclass(frozen=True)
class Credit:
    """What applying an attendance does: the entry's fields, what the volunteer's total gains
    (negative when a revision lowers the hours) and why."""

    fields: dict
    change: Decimal
    cause: str  # attendance (a new entry) or revision


def apply_attendance(entry, attendance):
    """The credit of `attendance` given the entry already recorded for it (EntryState, or None),
    or None when that entry holds this revision or a newer one (a late or repeated event).

    A newer revision replaces what the organizer recorded; the entry's status stays: a
    revoked entry stays revoked, a disputed one waits for its resolution."""
    fields = {
        "revision": attendance.revision,
        "activity_id": attendance.activity_id,
        "activity_title": attendance.activity_title,
        "center_id": attendance.center_id,
        "team_id": attendance.team_id,
        "served_on": attendance.served_on,
        "hours": attendance.hours,
    }
    if entry is None:
        return Credit(fields, attendance.hours, "attendance")
    if entry.volunteer_id != attendance.volunteer_id:
        raise UnusableAttendance(
            f"attendance {attendance.attendance_id} was volunteer {entry.volunteer_id}'s, "
            f"revision {attendance.revision} names volunteer {attendance.volunteer_id}"
        )
    if attendance.revision <= entry.revision:
        return None
    change = counted(entry.status, attendance.hours) - counted(entry.status, entry.hours)
    return Credit(fields, change, "revision")


def period(query):
    """`query` (with `start` and `end` days of service, either optional), or InvalidInput
    naming `end` when the period ends before it starts."""
    if query.get("start") and query.get("end") and query["end"] < query["start"]:
        message = "结束日期不能早于开始日期。"
        raise InvalidInput("hours.period_reversed", message, {"end": [message]})
    return query


# --- totals and stars ------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """A volunteer's total after a change, their star level and the star to announce (or None)."""

    total_hours: Decimal
    star_level: int
    announce: int | None


def standing(total_after, change, announced_star_level):
    """The standing once the total moved by `change` to `total_after`. A star is announced
    on the change that reaches it, and only once per volunteer (`announced_star_level`: the
    highest announced so far): hours taken away by a dispute and given back, or revoked and
    earned again, do not announce it twice."""
    reached = new_star_level(total_after - change, total_after)
    announce = reached if reached is not None and reached > announced_star_level else None
    return Standing(total_after, star_level(total_after), announce)


def hours_to_next_star(total_hours):
    """Hours still needed for the next star, or None at five stars."""
    for threshold in STAR_THRESHOLDS:
        if total_hours < threshold:
            return threshold - total_hours
    return None


# --- back-fills ------------------------------------------------------------------------------


def backfill_request(values, now):
    """The back-fill request of `values` (as BackfillCreateSchema loaded them) at `now`: the
    served day not in the future, each photo decoded and its type checked by its content.
    Returns (the request's fields, [(content_type, image bytes), ...])."""
    if values["served_on"] > local_today(now):
        message = "服务日期不能晚于今天。"
        raise InvalidInput("backfill.served_in_future", message, {"served_on": [message]})
    photos = [
        photo(sent["content_type"], sent["data"], f"photos.{index}.data") for index, sent in enumerate(values["photos"])
    ]
    return {name: value for name, value in values.items() if name != "photos"}, photos


def photo(content_type, text, field):
    """(content_type, bytes) of a photo sent as base64 `text` (its size bounded by the
    schema), or InvalidInput naming `field`."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _bad_photo("photo.not_base64", "照片须为 base64 编码。", field) from None
    if not data.startswith(IMAGE_SIGNATURES[content_type]):
        raise _bad_photo("photo.content_mismatch", f"照片内容不是 {content_type} 格式的图片。", field)
    return content_type, data


def _bad_photo(code, message, field):
    return InvalidInput(code, message, {field: [message]})


def decide_backfill(status, approve):
    """The status a pending request takes; Conflict once it was decided."""
    if status != "pending":
        raise Conflict("backfill.already_decided", "该补录申请已处理。")
    return "approved" if approve else "rejected"


# --- disputes and revocation -----------------------------------------------------------------


def dispute(entry, volunteer_id):
    """Checks that volunteer `volunteer_id` may dispute `entry` (EntryState): their own,
    confirmed entry. A disputed entry stops counting until resolved."""
    if entry.volunteer_id != volunteer_id:
        raise PermissionDenied("hour_entry.not_own", "只能对本人的服务时长记录提出异议。")
    _require_confirmed(entry.status)
    return DISPUTED


def resolution(entry, outcome, corrected_hours):
    """The hours of a disputed entry once resolved: `corrected_hours` when the dispute is
    upheld (required then), the entry's own when it is rejected (none may be given)."""
    if entry.status != DISPUTED:
        raise Conflict("hour_dispute.not_open", "该记录没有待处理的异议。")
    if outcome == "upheld":
        if corrected_hours is None:
            message = "支持异议时须填写更正后的时长。"
            raise InvalidInput("hour_dispute.corrected_hours_required", message, {"corrected_hours": [message]})
        return corrected_hours
    if corrected_hours is not None:
        message = "驳回异议时记录保持原样，不能更正时长。"
        raise InvalidInput("hour_dispute.corrected_hours_unexpected", message, {"corrected_hours": [message]})
    return entry.hours


def revocation(entry):
    """Checks that `entry` may be revoked: confirmed (a disputed one is resolved first)."""
    _require_confirmed(entry.status)
    return REVOKED


def _require_confirmed(status):
    if status == DISPUTED:
        raise Conflict("hour_entry.disputed", "该记录有待处理的异议，请先处理异议。")
    if status == REVOKED:
        raise Conflict("hour_entry.revoked", "该记录已撤销。")
