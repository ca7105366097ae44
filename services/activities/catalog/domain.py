"""The rules of an activity's fields and life cycle, in plain Python: no clock (the service
passes `now`), no database. An activity is the plain dict of its stored fields."""

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from services.activities.contract.catalog import (
    CHECK_IN_OPENS_BEFORE_MINUTES,
    DEFAULT_CHECKIN_RADIUS_M,
    MAX_DURATION_DAYS,
    OPEN_STATUSES,
    TIME_AND_PLACE,
)
from services.activities.contract.common import CENT, MAX_HOURS_PER_ENTRY
from services.chassis.errors import Conflict, InvalidInput

DEFAULT_POINTS_RULE = {"kind": "per_hour", "rate": Decimal(1)}
EDITABLE = ("draft", "published")
# the fields a change may touch (the organizing center and the series never change)
STORED_FIELDS = (
    "title",
    "description",
    "platform",
    "team_id",
    "team_only",
    "place",
    "latitude",
    "longitude",
    "checkin_radius_m",
    "starts_at",
    "ends_at",
    "signup_opens_at",
    "signup_closes_at",
    "capacity",
    "hours",
    "points_kind",
    "points_rate",
    "leader_volunteer_id",
)


def invalid(field, message, code="activity.invalid"):
    return InvalidInput(code, message, {field: [message]})


def stored_values(values):
    """The stored form of validated input (ActivityCreateSchema or a partial update):
    the points rule split into its two columns."""
    stored = {key: value for key, value in values.items() if key != "points_rule"}
    if "points_rule" in values:
        rule = values["points_rule"] or DEFAULT_POINTS_RULE
        stored["points_kind"], stored["points_rate"] = rule["kind"], Decimal(rule["rate"])
    return stored


def with_defaults(activity, given):
    """Fill what the caller left to defaults: the hours (the duration, at most 24) and the
    check-in radius (100 m once the place has coordinates; none without them)."""
    activity = dict(activity)
    if activity.get("hours") is None:
        activity["hours"] = duration_hours(activity)
    if activity.get("latitude") is None:
        activity["checkin_radius_m"] = None
    elif "checkin_radius_m" not in given and activity.get("checkin_radius_m") is None:
        activity["checkin_radius_m"] = DEFAULT_CHECKIN_RADIUS_M
    return activity


def duration_hours(activity):
    seconds = (activity["ends_at"] - activity["starts_at"]).total_seconds()
    return min(Decimal(seconds / 3600).quantize(CENT, rounding=ROUND_DOWN), Decimal(MAX_HOURS_PER_ENTRY))


def check_fields(activity):
    """The rules between fields, for a new activity and after every change."""
    if (activity.get("latitude") is None) != (activity.get("longitude") is None):
        raise invalid("longitude", "经纬度须同时提供或同时为空。")
    starts, ends = activity["starts_at"], activity["ends_at"]
    if ends <= starts:
        raise invalid("ends_at", "结束时间须晚于开始时间。")
    if ends - starts > timedelta(days=MAX_DURATION_DAYS):
        raise invalid("ends_at", f"活动时长不能超过 {MAX_DURATION_DAYS} 天。")
    opens, closes = activity.get("signup_opens_at"), activity.get("signup_closes_at")
    if closes is not None and closes > starts:
        raise invalid("signup_closes_at", "报名截止时间不能晚于活动开始时间。")
    if opens is not None and opens >= (closes or starts):
        raise invalid("signup_opens_at", "报名开始时间须早于报名截止时间。")
    if activity["team_only"] and activity.get("team_id") is None:
        raise invalid("team_only", "仅限队员报名的活动须指定服务队。")
    if activity["points_kind"] == "none" and activity["points_rate"] != 0:
        raise invalid("points_rule", "不计积分时 rate 须为 0。")


def new_activity(values, created_by, now):
    """The stored fields of a new draft (without id) from ActivityCreateSchema's `values`."""
    activity = with_defaults(stored_values({"points_rule": None, **values}), values)
    check_fields(activity)
    return {
        **activity,
        "status": "draft",
        "status_reason": None,
        "created_by": created_by,
        "published_at": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def changes(activity, requested, now):
    """The fields `requested` (ActivityUpdateSchema) really change, or None; refused once the
    activity is under way or closed. A published activity cannot move into the past."""
    if activity["status"] not in EDITABLE:
        raise not_editable(activity["status"])
    after = with_defaults({**activity, **stored_values(requested)}, requested)
    changed = {key: after[key] for key in STORED_FIELDS if after[key] != activity[key]}
    if not changed:
        return None
    check_fields(after)
    if activity["status"] == "published" and "starts_at" in changed and after["starts_at"] <= now:
        raise invalid("starts_at", "已发布活动的开始时间须晚于当前时间。")
    return changed


def reschedules(activity, changed):
    """Whether a change of a published activity is a change of its time or place, which is
    an event of its own (everyone signed up is told)."""
    return activity["status"] != "draft" and any(key in changed for key in TIME_AND_PLACE)


def require_capacity_fits(capacity, confirmed):
    """Capacity may shrink, but never below the seats already given."""
    if capacity < confirmed:
        message = f"已有 {confirmed} 人确认报名，招募人数不能少于此数。"
        raise InvalidInput("activity.capacity_below_confirmed", message, {"capacity": [message]})


def require_active_leader(status):
    """`status`: the leader's, as this service last heard it (None: never heard of them)."""
    if status != "active":
        raise invalid("leader_volunteer_id", "活动负责人须为状态正常的志愿者。", "activity.leader_invalid")


def versioned(activity, changed, now):
    return {**changed, "version": activity["version"] + 1, "updated_at": now}


def not_editable(status):
    return Conflict("activity.not_editable", f"活动当前状态（{status}）不允许修改。")


def publish(activity, now):
    """A draft becomes published: its start and any sign-up deadline must lie ahead."""
    if activity["status"] != "draft":
        raise Conflict("activity.not_draft", "只有草稿可以发布。")
    if activity["starts_at"] <= now:
        raise Conflict("activity.starts_in_past", "活动开始时间已过，不能发布。")
    if activity["signup_closes_at"] is not None and activity["signup_closes_at"] <= now:
        raise Conflict("activity.signup_closed", "报名截止时间已过，不能发布。")
    return {"status": "published", "published_at": now}


def cancel(activity, reason):
    if activity["status"] not in OPEN_STATUSES:
        raise Conflict("activity.not_cancellable", "活动已结束或已取消，不能取消。")
    return {"status": "cancelled", "status_reason": reason}


def start_early(activity, now):
    """An organizer starts a published activity, at the earliest when check-in opens."""
    if activity["status"] != "published":
        raise Conflict("activity.not_published", "只有已发布的活动可以开始。")
    if now < check_in_opens(activity):
        raise Conflict("activity.too_early", "活动开始前 1 小时内才能开始活动。")
    return {"status": "in_progress"}


def complete_early(activity):
    if activity["status"] != "in_progress":
        raise Conflict("activity.not_in_progress", "只有进行中的活动可以结束。")
    return {"status": "completed"}


def due_by_clock(activity, now):
    """The status the clock has brought the activity to, or None: published activities
    start at their start, and activities under way complete at their end."""
    status = activity["status"]
    if status in ("published", "in_progress") and activity["ends_at"] <= now:
        return "completed"
    if status == "published" and activity["starts_at"] <= now:
        return "in_progress"
    return None


def check_in_opens(activity):
    return activity["starts_at"] - timedelta(minutes=CHECK_IN_OPENS_BEFORE_MINUTES)


def visible(activity, may_organize):
    """Drafts are their organizers' own; everything else is public to the signed-in."""
    return activity["status"] != "draft" or may_organize
