"""The SQL of calendar feeds: the activities a feed holds, and the tokens of volunteers' feeds."""

import sqlalchemy as sa

from services.activities.calendars.models import CalendarToken
from services.activities.catalog.models import Activity
from services.activities.contract.statistics import HELD_STATUSES
from services.activities.signups.models import Signup


def center_activities(session, center_ids, since, until, limit):
    """The activities organized in `center_ids` starting in [since, until), and those cancelled
    after publication; the latest `limit`, soonest first."""
    statement = sa.select(Activity).where(
        Activity.organizer_center_id.in_(center_ids),
        Activity.starts_at >= since,
        Activity.starts_at < until,
        sa.or_(
            Activity.status.in_(HELD_STATUSES),
            sa.and_(Activity.status == "cancelled", Activity.published_at.is_not(None)),
        ),
    )
    return session.scalars(_latest(statement, limit)).all()[::-1]


def volunteer_entries(session, volunteer_id, since, until, limit):
    """(activity, sign-up status) of the volunteer's live sign-ups for activities starting in
    [since, until), and of those cancelled with their activity; the latest `limit`, soonest
    first. An activity's cancellation stamps its `updated_at` and the `cancelled_at` of every
    sign-up it cancels with one moment, and a cancelled activity never changes again: a
    sign-up cancelled at or after it went with the activity, one cancelled before did not."""
    statement = (
        sa.select(Activity, Signup.status)
        .join(Signup, Signup.activity_id == Activity.id)
        .where(
            Signup.volunteer_id == volunteer_id,
            Activity.starts_at >= since,
            Activity.starts_at < until,
            sa.or_(
                Signup.status != "cancelled",
                sa.and_(Activity.status == "cancelled", Signup.cancelled_at >= Activity.updated_at),
            ),
        )
    )
    return [(activity, status) for activity, status in session.execute(_latest(statement, limit))][::-1]


def _latest(statement, limit):
    """The last `limit` by start, latest first: a feed too long loses its oldest first."""
    return statement.order_by(Activity.starts_at.desc(), Activity.id.desc()).limit(limit)


def live_token(session, token_hash):
    """The unrevoked token with this hash, or None."""
    return session.scalars(
        sa.select(CalendarToken).where(CalendarToken.token_hash == token_hash, CalendarToken.revoked_at.is_(None))
    ).first()


def revoke_live(session, volunteer_id, now):
    """Revoke the volunteer's live token, if any; how many were revoked (0 or 1)."""
    result = session.execute(
        sa.update(CalendarToken)
        .where(CalendarToken.volunteer_id == volunteer_id, CalendarToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
