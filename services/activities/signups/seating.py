"""Seats in one unit of work: a sign-up gets a seat or a place on the waitlist, a
cancellation frees a seat and promotes the head of the waitlist, in arrival order.

Every change of seats happens with the activity's seat row locked (FOR UPDATE on
PostgreSQL; SQLite has one writer), so concurrent sign-ups are served one by one in the
order they take the lock: the confirmed count never exceeds the capacity, and positions
follow arrival."""

from services.activities.contract.signups import (
    ATTENDANCE_CHECKED_OUT,
    SIGNUP_CANCELLED,
    SIGNUP_CONFIRMED,
    SIGNUP_PROMOTED,
    SIGNUP_WAITLISTED,
)
from services.activities.signups import domain
from services.activities.signups import repository as repo
from services.activities.signups.models import Signup
from services.chassis.clock import iso


def sign_up(uow, activity, seats, volunteer, now):
    status = domain.seat(seats.confirmed, seats.capacity)
    signup = Signup(
        activity_id=activity.id,
        volunteer_id=volunteer.volunteer_id,
        account_id=volunteer.account_id,
        status=status,
        position=seats.next_position,
        signed_up_at=now,
        confirmed_at=now if status == "confirmed" else None,
        promoted=False,
        check_out_closed_by_service=False,
        attendance_revision=0,
        version=1,
    )
    uow.session.add(signup)
    seats.next_position += 1
    if status == "confirmed":
        seats.confirmed += 1
        uow.flush()
        uow.emit(SIGNUP_CONFIRMED, subject=str(signup.id), data=event_data(activity, signup, now))
    else:
        seats.waitlisted += 1
        uow.flush()
        data = {**event_data(activity, signup, now), "waitlist_position": seats.waitlisted}
        uow.emit(SIGNUP_WAITLISTED, subject=str(signup.id), data=data)
    return signup


def cancel(uow, activity, seats, signup, because, reason, by, now, promote=True):
    """Cancel `signup`; its seat goes to the head of the waitlist unless `promote` is False
    (the activity itself is being cancelled)."""
    previous = signup.status
    signup.status = "cancelled"
    signup.cancelled_at = now
    signup.cancel_reason = reason
    signup.cancelled_by = by
    signup.version += 1
    if previous == "confirmed":
        seats.confirmed -= 1
    else:
        seats.waitlisted -= 1
    uow.flush()
    data = {**event_data(activity, signup, now), "previous_status": previous, "because": because, "reason": reason}
    uow.emit(SIGNUP_CANCELLED, subject=str(signup.id), data=data)
    if promote:
        promote_waitlist(uow, activity, seats, now)


def promote_waitlist(uow, activity, seats, now):
    """Give the free seats to the heads of the waitlist, in arrival order."""
    heads = repo.waitlist_heads(
        uow.session, activity.id, domain.promotions(seats.confirmed, seats.capacity, seats.waitlisted)
    )
    for signup in heads:
        signup.status = "confirmed"
        signup.confirmed_at = now
        signup.promoted = True
        signup.version += 1
        seats.confirmed += 1
        seats.waitlisted -= 1
        uow.flush()
        uow.emit(SIGNUP_PROMOTED, subject=str(signup.id), data=event_data(activity, signup, now))
    return heads


def close_check_outs(uow, activity, now):
    """Close the check-outs still open when the activity ends, at its end, flagged as closed
    by the service (the volunteer forgot); returns how many."""
    open_ones = repo.open_check_ins(uow.session, activity.id)
    for signup in open_ones:
        signup.checked_out_at = min(now, activity.ends_at)
        signup.check_out_closed_by_service = True
        signup.version += 1
        uow.flush()
        data = {**event_data(activity, signup, now), "closed_by_service": True}
        uow.emit(ATTENDANCE_CHECKED_OUT, subject=str(signup.id), data=data)
    return len(open_ones)


def event_data(activity, signup, at):
    return {
        "id": signup.id,
        "activity_id": activity.id,
        "activity_title": activity.title,
        "organizer_center_id": activity.organizer_center_id,
        "starts_at": iso(activity.starts_at),
        "volunteer_id": signup.volunteer_id,
        "account_id": signup.account_id,
        "status": signup.status,
        "position": signup.position,
        "at": iso(at),
    }
