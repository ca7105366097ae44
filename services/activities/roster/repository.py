"""The SQL of the copies of volunteers and team memberships."""

import sqlalchemy as sa

from services.activities.roster.models import TeamMembershipCopy, VolunteerCopy
from services.chassis.db import locked
from services.chassis.errors import Conflict

MEMBER_ROLES = ("leader", "member")


def volunteer_copy(session, volunteer_id, *, lock=False):
    statement = sa.select(VolunteerCopy).where(VolunteerCopy.volunteer_id == volunteer_id)
    return session.scalars(locked(session, statement) if lock else statement).first()


def volunteer_of_account(session, account_id):
    """The volunteer whose record is linked to `account_id` (an actor's, as text), or None."""
    if account_id is None or not str(account_id).isdigit():
        return None
    return session.scalars(sa.select(VolunteerCopy).where(VolunteerCopy.account_id == int(account_id))).first()


def require_volunteer_of_account(session, account_id):
    volunteer = volunteer_of_account(session, account_id)
    if volunteer is None:
        raise Conflict(
            "volunteer.not_registered",
            "尚未找到您的志愿者登记信息（刚完成注册时请稍候再试）。",
        )
    return volunteer


def membership(session, team_id, volunteer_id, *, lock=False):
    statement = sa.select(TeamMembershipCopy).where(
        TeamMembershipCopy.team_id == team_id, TeamMembershipCopy.volunteer_id == volunteer_id
    )
    return session.scalars(locked(session, statement) if lock else statement).first()


def is_member(session, team_id, volunteer_id):
    if team_id is None:
        return False
    row = membership(session, team_id, volunteer_id)
    return row is not None and row.role in MEMBER_ROLES


def leads(session, team_id, volunteer_id, center_id):
    """The volunteer leads the team, and the team belongs to `center_id`."""
    row = membership(session, team_id, volunteer_id)
    return row is not None and row.role == "leader" and row.center_id == center_id


def led_teams(session, volunteer_id):
    return list(
        session.scalars(
            sa.select(TeamMembershipCopy.team_id).where(
                TeamMembershipCopy.volunteer_id == volunteer_id, TeamMembershipCopy.role == "leader"
            )
        )
    )


def volunteer_numbers(session, volunteer_ids):
    """{volunteer id: volunteer number} of the given volunteers this service has heard of."""
    if not volunteer_ids:
        return {}
    rows = session.execute(
        sa.select(VolunteerCopy.volunteer_id, VolunteerCopy.volunteer_number).where(
            VolunteerCopy.volunteer_id.in_(set(volunteer_ids))
        )
    )
    return dict(rows.all())
