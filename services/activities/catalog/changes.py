"""Changes of activities inside a unit of work, with their events: what the catalog's
entrypoints do, and what other parts (series, ledger) reuse so that an activity changes
the same way whoever changes it."""

from services.activities import views
from services.activities.catalog import domain
from services.activities.catalog.models import Activity, ActivitySeats
from services.activities.contract import catalog as contract
from services.activities.signups import repository as signups_repo
from services.activities.signups import seating
from services.chassis.clock import iso
from services.chassis.db import save, state


def add_activity(uow, fields):
    """A new activity (a draft) and its empty seats, from `domain.new_activity` fields."""
    activity = Activity(**fields)
    uow.session.add(activity)
    uow.flush()
    seats = ActivitySeats(
        activity_id=activity.id, capacity=activity.capacity, confirmed=0, waitlisted=0, next_position=1
    )
    uow.session.add(seats)
    uow.flush()
    return activity, seats


def change(uow, activity, seats, changed, now):
    """Apply `changed` (from `domain.changes`; `seats` locked) and publish it: a published
    activity's change of time or place is `activity.rescheduled`, any other change
    `activity.updated`; a capacity that grows promotes the heads of the waitlist."""
    before = state(activity)
    if "capacity" in changed:
        domain.require_capacity_fits(changed["capacity"], seats.confirmed)
        seats.capacity = changed["capacity"]
    save(activity, domain.versioned(before, changed, now))
    uow.flush()  # the version check: a concurrent change fails here as activity.version_conflict
    if before["status"] != "draft":
        _emit_change(uow, activity, before, changed)
    if "capacity" in changed:
        seating.promote_waitlist(uow, activity, seats, now)


def move(uow, activity, changed, now):
    """Apply a change of status (from the domain's transitions) and publish it; completing
    closes the check-outs still open."""
    before = state(activity)
    save(activity, domain.versioned(before, changed, now))
    uow.flush()
    status = activity.status
    if status == "published":
        uow.emit(contract.ACTIVITY_PUBLISHED, subject=str(activity.id), data=views.activity_event(activity))
        return
    if before["status"] == "published":  # started (or completed straight from published by the clock)
        started = views.activity_event(activity, status="in_progress")
        uow.emit(contract.ACTIVITY_STARTED, subject=str(activity.id), data=started)
    if status == "completed":
        closed = seating.close_check_outs(uow, activity, now)
        data = views.activity_event(activity, check_outs_closed=closed)
        uow.emit(contract.ACTIVITY_COMPLETED, subject=str(activity.id), data=data)


def cancel(uow, activity, seats, reason, by, now):
    """Cancel with a reason (`seats` locked): every live sign-up is cancelled with it, and
    an activity others could see publishes `activity.cancelled`."""
    before = state(activity)
    save(activity, domain.versioned(before, domain.cancel(before, reason), now))
    uow.flush()
    for signup in signups_repo.live_signups(uow.session, activity.id, lock=True):
        seating.cancel(uow, activity, seats, signup, "activity_cancelled", reason, by, now, False)
    if before["status"] != "draft":
        data = views.activity_event(activity, reason=reason, previous_status=before["status"])
        uow.emit(contract.ACTIVITY_CANCELLED, subject=str(activity.id), data=data)


def _emit_change(uow, activity, before, changed):
    if domain.reschedules(before, changed):
        previous = {key: before[key] for key in contract.TIME_AND_PLACE}
        previous.update(starts_at=iso(before["starts_at"]), ends_at=iso(before["ends_at"]))
        moved = sorted(key for key in changed if key in contract.TIME_AND_PLACE)
        data = views.activity_event(activity, changed=moved, previous=previous)
        uow.emit(contract.ACTIVITY_RESCHEDULED, subject=str(activity.id), data=data)
    others = _public_names(key for key in changed if key not in contract.TIME_AND_PLACE)
    if others:
        uow.emit(
            contract.ACTIVITY_UPDATED, subject=str(activity.id), data=views.activity_event(activity, changed=others)
        )


def _public_names(keys):
    """Changed columns as the contract names them (the points rule is one field)."""
    return sorted({"points_rule" if key.startswith("points_") else key for key in keys})
