"""What leaves the service of an activity: its view (RPC replies) and its event data."""

from services.activities.contract.catalog import ACTIVITY_PROPERTIES, ActivitySchema
from services.chassis.clock import iso
from services.chassis.db import state

_activity = ActivitySchema()
_EVENT_TIMES = ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at", "updated_at")


def points_rule(activity):
    return {"kind": activity.points_kind, "rate": float(activity.points_rate)}


def seats_view(seats):
    available = seats.capacity - seats.confirmed
    return {
        "capacity": seats.capacity,
        "confirmed": seats.confirmed,
        "waitlisted": seats.waitlisted,
        "available": available,
        "full": available <= 0,
    }


def activity_view(activity, seats):
    return _activity.dump({**state(activity), "points_rule": points_rule(activity), "seats": seats_view(seats)})


def activity_event(activity, **extra):
    data = {name: getattr(activity, name) for name in ACTIVITY_PROPERTIES if name != "points_rule"}
    data.update({name: iso(data[name]) for name in _EVENT_TIMES})
    data["hours"] = float(activity.hours)
    data["points_rule"] = points_rule(activity)
    return {**data, **extra}
