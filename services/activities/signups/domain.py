"""The rules of sign-ups, the waitlist and attendance, in plain Python: no clock (the
service passes `now`), no database. Activities and sign-ups are plain dicts of their fields."""

import math
from decimal import ROUND_DOWN, Decimal

from services.activities.catalog.domain import check_in_opens
from services.activities.contract.common import CENT, LOCAL_ZONE
from services.chassis.errors import Conflict, InvalidInput

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)


# --- signing up -----------------------------------------------------------------------------


def signup_window(activity):
    """(opens, closes): from publication (or the set time) to the start (or the set time)."""
    return activity["signup_opens_at"] or activity["published_at"], activity["signup_closes_at"] or activity[
        "starts_at"
    ]


def require_open_for_signup(activity, now):
    if activity["status"] != "published":
        raise Conflict("signup.activity_not_open", "该活动当前不接受报名。")
    opens, closes = signup_window(activity)
    if now < opens:
        raise Conflict("signup.not_yet_open", "报名尚未开始。")
    if now >= closes:
        raise Conflict("signup.closed", "报名已截止。")


def require_eligible(volunteer_status, team_only, is_member):
    """Only active volunteers sign up; for a team-only activity, members of its team."""
    if volunteer_status != "active":
        raise Conflict("signup.volunteer_inactive", "只有状态正常的志愿者可以报名。")
    if team_only and not is_member:
        raise Conflict("signup.team_only", "该活动仅限本服务队队员报名。")


def seat(confirmed, capacity):
    """What a new sign-up gets: a seat while one is left, else a place on the waitlist."""
    return "confirmed" if confirmed < capacity else "waitlisted"


def promotions(confirmed, capacity, waitlisted):
    """How many heads of the waitlist get a seat now."""
    return max(0, min(capacity - confirmed, waitlisted))


def already_signed_up():
    return Conflict("signup.duplicate", "您已报名该活动。")


def require_cancellable(signup, activity):
    if signup["status"] == "cancelled":
        raise Conflict("signup.already_cancelled", "该报名已取消。")
    if activity["status"] not in ("published", "draft"):
        raise Conflict("signup.activity_under_way", "活动已开始或已结束，不能取消报名。")


# --- attendance -----------------------------------------------------------------------------


def distance_m(latitude1, longitude1, latitude2, longitude2):
    """Great-circle distance by the haversine formula, in metres."""
    phi1, phi2 = math.radians(latitude1), math.radians(latitude2)
    d_phi, d_lambda = phi2 - phi1, math.radians(longitude2 - longitude1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def check_in(activity, signup, position, now):
    """The check-in's distance from the place (None without a geofence), or Conflict: a
    confirmed sign-up, from an hour before the start to the end, within the radius."""
    if signup["status"] != "confirmed":
        raise Conflict("attendance.not_confirmed", "只有已确认报名的志愿者可以签到。")
    if activity["status"] not in ("published", "in_progress"):
        raise Conflict("attendance.activity_not_running", "活动未在进行，不能签到。")
    if now < check_in_opens(activity):
        raise Conflict("attendance.too_early", "活动开始前 1 小时才能签到。")
    if now > activity["ends_at"]:
        raise Conflict("attendance.too_late", "活动已结束，不能签到。")
    if signup["checked_in_at"] is not None:
        raise Conflict("attendance.already_checked_in", "您已签到。")
    radius = activity["checkin_radius_m"]
    if radius is None or activity["latitude"] is None:
        return None
    if position is None:
        message = "该活动须在活动地点附近签到，请提供当前位置。"
        raise InvalidInput("attendance.position_required", message, {"position": [message]})
    distance = distance_m(activity["latitude"], activity["longitude"], position["latitude"], position["longitude"])
    if distance > radius:
        raise Conflict("attendance.too_far", f"您距活动地点约 {round(distance)} 米，须在 {radius} 米以内签到。")
    return round(distance, 1)


def check_out(activity, signup, now):
    """When the check-out counts: now, or the end for a check-out after it."""
    if signup["checked_in_at"] is None:
        raise Conflict("attendance.not_checked_in", "尚未签到，不能签退。")
    if signup["checked_out_at"] is not None:
        raise Conflict("attendance.already_checked_out", "您已签退。")
    return min(now, activity["ends_at"])


def checked_hours(activity, signup):
    """The time served as checked, within the activity's start and end, capped by its hours;
    the activity's hours when the volunteer never checked in (the organizer vouches)."""
    cap = Decimal(activity["hours"])
    if signup["checked_in_at"] is None or signup["checked_out_at"] is None:
        return cap
    start = max(signup["checked_in_at"], activity["starts_at"])
    end = min(signup["checked_out_at"], activity["ends_at"])
    served = Decimal(max(0.0, (end - start).total_seconds()) / 3600).quantize(CENT, rounding=ROUND_DOWN)
    return min(served, cap)


def require_confirmable(activity):
    """Attendance is confirmed once the activity is under way, and corrected afterwards."""
    if activity["status"] not in ("in_progress", "completed", "recorded"):
        raise Conflict("attendance.activity_not_started", "活动开始后才能确认考勤。")


def not_signed_up(volunteer_id):
    message = f"志愿者 {volunteer_id} 没有已确认的报名。"
    return InvalidInput("attendance.not_signed_up", "只能确认已确认报名的志愿者的考勤。", {"attendances": [message]})


def confirmation(activity, signup, item):
    """The attendance fields an item of a confirmation sets (None: what the sign-up already
    has), and the hours to publish (None: nothing to credit or withdraw)."""
    if signup["status"] != "confirmed":
        raise not_signed_up(item["volunteer_id"])
    if item["attendance"] == "no_show":
        hours = Decimal(0)
    elif item["hours"] is not None:
        hours = item["hours"]
        if hours > Decimal(activity["hours"]):
            message = f"志愿者 {item['volunteer_id']} 的时长超过活动时长上限 {activity['hours']} 小时。"
            raise InvalidInput("attendance.hours_over_cap", message, {"attendances": [message]})
    else:
        hours = checked_hours(activity, signup)
    if signup["attendance"] == item["attendance"] and signup["hours"] == hours:
        return None
    return {"attendance": item["attendance"], "hours": hours, "attendance_revision": signup["attendance_revision"] + 1}


def credits(previous_attendance, changed):
    """Whether a confirmation publishes `attendance.confirmed`: every attended one, and a
    no-show that withdraws hours credited before (hours 0)."""
    return changed["attendance"] == "attended" or previous_attendance == "attended"


def require_distinct(items):
    seen = set()
    for item in items:
        if item["volunteer_id"] in seen:
            message = f"志愿者 {item['volunteer_id']} 出现了多次。"
            raise InvalidInput("attendance.duplicate_volunteer", message, {"attendances": [message]})
        seen.add(item["volunteer_id"])


def served_on(activity):
    """The day of the service, on the county's calendar."""
    return activity["starts_at"].astimezone(LOCAL_ZONE).date()
