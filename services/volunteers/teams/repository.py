"""The SQL of teams: lookups, the member count, rosters, applications and lists.
Functions take a SQLAlchemy session from the chassis (unit of work or read session)."""

import sqlalchemy as sa

from services.chassis.db import locked
from services.chassis.errors import NotFound
from services.volunteers.models import Volunteer
from services.volunteers.teams.models import Team, TeamApplication, TeamMember


def get_team(session, team_id, *, lock=False):
    statement = sa.select(Team).where(Team.id == team_id)
    team = session.scalars(locked(session, statement) if lock else statement).first()
    if team is None:
        raise NotFound("team.not_found", f"服务队 {team_id} 不存在。")
    return team


def get_application(session, team_id, application_id, *, lock=False):
    """The application `application_id` to team `team_id` (NotFound for another team's)."""
    statement = sa.select(TeamApplication).where(
        TeamApplication.id == application_id, TeamApplication.team_id == team_id
    )
    application = session.scalars(locked(session, statement) if lock else statement).first()
    if application is None:
        raise NotFound("team.application_not_found", f"入队申请 {application_id} 不存在。")
    return application


def membership(session, team_id, volunteer_id):
    return session.scalars(
        sa.select(TeamMember).where(TeamMember.team_id == team_id, TeamMember.volunteer_id == volunteer_id)
    ).first()


def delete_member(session, member):
    """Delete the membership row by statement: False when a concurrent leave or removal
    deleted it first (so that only one of them counts)."""
    deleted = session.execute(sa.delete(TeamMember).where(TeamMember.id == member.id)).rowcount
    session.expunge(member)
    return deleted == 1


def pending_application(session, team_id, volunteer_id):
    return session.scalars(
        sa.select(TeamApplication).where(
            TeamApplication.team_id == team_id,
            TeamApplication.volunteer_id == volunteer_id,
            TeamApplication.status == "pending",
        )
    ).first()


def pending_applications(session, team_id):
    statement = sa.select(TeamApplication).where(
        TeamApplication.team_id == team_id, TeamApplication.status == "pending"
    )
    return session.scalars(locked(session, statement).order_by(TeamApplication.id)).all()


def count_in(session, team_id):
    """One more member on an active team, in one statement (concurrent joins add up; on
    PostgreSQL a join that waited for a dissolution re-reads the status): the new count, or
    None when the team is no longer active."""
    return session.execute(
        sa.update(Team)
        .where(Team.id == team_id, Team.status == "active")
        .values(member_count=Team.member_count + 1)
        .returning(Team.member_count)
        .execution_options(synchronize_session="fetch")
    ).scalar_one_or_none()


def count_out(session, team_id):
    """One member fewer: the new count."""
    return session.execute(
        sa.update(Team)
        .where(Team.id == team_id)
        .values(member_count=Team.member_count - 1)
        .returning(Team.member_count)
        .execution_options(synchronize_session="fetch")
    ).scalar_one()


def leaders_of(session, teams):
    """{volunteer id: Volunteer} of the leaders of `teams`."""
    ids = {team.leader_volunteer_id for team in teams}
    if not ids:
        return {}
    return {volunteer.id: volunteer for volunteer in session.scalars(sa.select(Volunteer).where(Volunteer.id.in_(ids)))}


def _contains(column, text):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def list_teams(session, filters, center_ids, page, page_size):
    """A page of teams by id; `center_ids` (a subtree, or None for any) narrows them."""
    conditions = [getattr(Team, name) == filters[name] for name in ("center_id", "kind", "status") if name in filters]
    if center_ids is not None:
        conditions.append(Team.center_id.in_(center_ids))
    if "q" in filters:
        conditions.append(_contains(Team.name, filters["q"]))
    total = session.scalar(sa.select(sa.func.count()).select_from(Team).where(*conditions))
    items = session.scalars(
        sa.select(Team).where(*conditions).order_by(Team.id).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return items, total


def roster(session, team_id, page, page_size):
    """A page of (TeamMember, Volunteer): the leader first, then by the time they joined."""
    total = session.scalar(sa.select(sa.func.count()).select_from(TeamMember).where(TeamMember.team_id == team_id))
    rows = session.execute(
        sa.select(TeamMember, Volunteer)
        .join(Volunteer, Volunteer.id == TeamMember.volunteer_id)
        .where(TeamMember.team_id == team_id)
        .order_by((TeamMember.role == "leader").desc(), TeamMember.joined_at, TeamMember.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return rows, total


def _applications():
    return (
        sa.select(TeamApplication, Team, Volunteer)
        .join(Team, Team.id == TeamApplication.team_id)
        .join(Volunteer, Volunteer.id == TeamApplication.volunteer_id)
    )


def applications_to(session, team_id, status, page, page_size):
    """A page of (TeamApplication, Team, Volunteer) of one team, oldest first."""
    conditions = [TeamApplication.team_id == team_id]
    if status is not None:
        conditions.append(TeamApplication.status == status)
    total = session.scalar(sa.select(sa.func.count()).select_from(TeamApplication).where(*conditions))
    rows = session.execute(
        _applications().where(*conditions).order_by(TeamApplication.id).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return rows, total


def applications_of(session, volunteer_id, limit):
    """The newest (TeamApplication, Team, Volunteer) of one volunteer, newest first."""
    return session.execute(
        _applications()
        .where(TeamApplication.volunteer_id == volunteer_id)
        .order_by(TeamApplication.id.desc())
        .limit(limit)
    ).all()


def memberships_of(session, volunteer_id):
    """(TeamMember, Team) of every team the volunteer is in, by team id."""
    return session.execute(
        sa.select(TeamMember, Team)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.volunteer_id == volunteer_id)
        .order_by(Team.id)
    ).all()
