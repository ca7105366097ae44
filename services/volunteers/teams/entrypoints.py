"""The teams entrypoints of the volunteers service (a mixin of VolunteersService).

Thin, as in every service: load the input, read the rows, let `domain` decide, write the
change and its events in one unit of work. The contract: services/volunteers/contract/teams.py.
"""

import contextlib

from services.chassis.actors import load_actor
from services.chassis.clock import utcnow
from services.chassis.db import save, state
from services.chassis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.chassis.rpc import command, rpc
from services.chassis.schemas import load, load_id
from services.chassis.scope import Reach
from services.volunteers import access
from services.volunteers.contract import teams as contract
from services.volunteers.repository import get_volunteer, volunteer_of_account
from services.volunteers.teams import domain
from services.volunteers.teams import repository as repo
from services.volunteers.teams.models import Team, TeamApplication, TeamMember

UNIQUE = {
    "uq_teams_center_id_name": Conflict("team.name_taken", "本阵地已有同名服务队。", {"name": ["名称已被使用。"]}),
    "uq_team_members_team_id_volunteer_id": domain.already_member(),
    "uq_team_applications_pending": domain.application_pending(),
}
STALE = {
    "teams": Conflict("team.version_conflict", "服务队已被他人修改，请刷新后重试。"),
    "team_applications": Conflict("team.application_changed", "该申请已被他人处理，请刷新后重试。"),
}

_team = contract.TeamSchema()
_member = contract.MemberSchema()
_application = contract.ApplicationSchema()
_my_teams = contract.MyTeamsSchema()


def _team_id(value):
    return load_id(value, "team_id")


def _page(page, page_size, schema=contract.PageQuerySchema, filters=None):
    query = load(schema, {**(filters or {}), "page": page, "page_size": page_size})
    return query.pop("page"), query.pop("page_size"), query


class TeamEntrypoints:
    # --- teams ---------------------------------------------------------------------------------

    @rpc
    def team_kinds(self):
        return domain.team_kinds()

    @command
    def create_team(self, data, actor):
        actor = load_actor(actor)
        values = load(contract.TeamCreateSchema, data)
        Reach(self.centers).active_center(values["center_id"], "center_id")
        domain.require_team_admin(domain.Standing(actor, self._within(actor, values["center_id"])))
        with self.db.unit_of_work() as uow:
            leader = _named_volunteer(uow.session, values["leader_volunteer_id"], "leader_volunteer_id")
            domain.require_active_leader(leader.status)
            now = utcnow()
            team = Team(**domain.new_team(values, now))
            uow.session.add(team)
            uow.flush()
            member = TeamMember(
                team_id=team.id, volunteer_id=leader.id, role="leader", joined_via="leader", joined_at=now
            )
            uow.session.add(member)
            uow.flush()
            uow.emit(contract.TEAM_CREATED, subject=str(team.id), data=_team_event(team))
            _emit_joined(uow, team, member, leader)
            return _team_view(team, leader)

    @command
    def update_team(self, team_id, changes, actor):
        actor = load_actor(actor)
        changes = load(contract.TeamUpdateSchema, changes)
        team_id = _team_id(team_id)
        with self.db.unit_of_work() as uow:
            team = repo.get_team(uow.session, team_id, lock=True)
            domain.require_team_admin(self._standing(uow.session, actor, team.center_id))
            before = state(team)
            changed = domain.team_changes(before, changes)
            if changed is not None:
                now = utcnow()
                if "leader_volunteer_id" in changed:
                    _hand_over(uow, team, changed["leader_volunteer_id"], actor, now)
                save(team, domain.versioned(before, changed, now))
                _emit_updated(uow, team, before, changed)
            return _team_view(team, get_volunteer(uow.session, team.leader_volunteer_id))

    @command
    def set_team_status(self, team_id, data, actor):
        """Dissolve (解散, with a reason: pending applications are rejected with it) or reactivate."""
        actor = load_actor(actor)
        wanted = load(contract.TeamStatusSchema, data)
        team_id = _team_id(team_id)
        with self.db.unit_of_work() as uow:
            team = repo.get_team(uow.session, team_id, lock=True)
            domain.require_team_admin(self._standing(uow.session, actor, team.center_id))
            before = state(team)
            changed = domain.status_change(before, wanted["status"], wanted["reason"])
            if changed is not None:
                now = utcnow()
                save(team, domain.versioned(before, changed, now))
                _emit_updated(uow, team, before, changed)
                if team.status == "dissolved":
                    for application in repo.pending_applications(uow.session, team.id):
                        _decide(uow, team, application, "rejected", team.status_reason, actor, now)
            return _team_view(team, get_volunteer(uow.session, team.leader_volunteer_id))

    @rpc
    def get_team(self, team_id):
        with self.db.read() as session:
            team = repo.get_team(session, _team_id(team_id))
            return _team_view(team, get_volunteer(session, team.leader_volunteer_id))

    @rpc
    def list_teams(self, filters=None, page=1, page_size=20):
        page, page_size, filters = _page(page, page_size, contract.TeamListQuerySchema, filters)
        center_ids = None
        if "within" in filters:
            try:
                center_ids = Reach(self.centers).subtree_ids(filters["within"])
            except NotFound:
                return {"items": [], "total": 0, "page": page, "page_size": page_size}
        with self.db.read() as session:
            teams, total = repo.list_teams(session, filters, center_ids, page, page_size)
            leaders = repo.leaders_of(session, teams)
            items = [_team_view(team, leaders[team.leader_volunteer_id]) for team in teams]
            return {"items": items, "total": total, "page": page, "page_size": page_size}

    # --- members -------------------------------------------------------------------------------

    @command
    def add_team_member(self, team_id, data, actor):
        """An admin of the team's scope adds an active volunteer directly (a pending application
        of theirs is approved with it)."""
        actor = load_actor(actor)
        volunteer_id = load(contract.AddMemberSchema, data)["volunteer_id"]
        team_id = _team_id(team_id)
        with self.db.unit_of_work() as uow:
            team = repo.get_team(uow.session, team_id)
            domain.require_team_admin(self._standing(uow.session, actor, team.center_id))
            domain.require_active_team(state(team))
            volunteer = _named_volunteer(uow.session, volunteer_id, "volunteer_id")
            member = _join(uow, team, volunteer, "member", "added", actor, utcnow())
            return _member_view(member, volunteer)

    @command
    def leave_team(self, team_id, actor):
        actor = load_actor(actor)
        domain.require_self_role(actor)
        team_id = _team_id(team_id)
        with self.db.unit_of_work() as uow:
            volunteer = volunteer_of_account(uow.session, actor.account_id)
            team = repo.get_team(uow.session, team_id)
            member = repo.membership(uow.session, team.id, volunteer.id)
            if member is None:
                raise Conflict("team.not_member", "您不是该服务队的成员。")
            domain.require_not_leader(member.role)
            _part(uow, team, member, volunteer, "left", None, actor)

    @command
    def remove_team_member(self, team_id, volunteer_id, data, actor):
        """The leader or an admin of the team's scope removes a member, with a reason."""
        actor = load_actor(actor)
        reason = load(contract.ReasonSchema, data)["reason"]
        team_id, volunteer_id = _team_id(team_id), load_id(volunteer_id, "volunteer_id")
        with self.db.unit_of_work() as uow:
            team = repo.get_team(uow.session, team_id)
            domain.require_leader_or_admin(self._standing(uow.session, actor, team.center_id), state(team))
            member = repo.membership(uow.session, team.id, volunteer_id)
            if member is None:
                raise NotFound("team.member_not_found", f"志愿者 {volunteer_id} 不是该服务队的成员。")
            domain.require_not_leader(member.role)
            _part(uow, team, member, get_volunteer(uow.session, volunteer_id), "removed", reason, actor)

    @rpc
    def team_roster(self, team_id, actor, page=1, page_size=20):
        """Members with number and name: for the leader, admins of the scope and members."""
        actor = load_actor(actor)
        page, page_size, _ = _page(page, page_size)
        with self.db.read() as session:
            team = repo.get_team(session, _team_id(team_id))
            standing = self._standing(session, actor, team.center_id)
            is_member = (
                standing.volunteer_id is not None
                and repo.membership(session, team.id, standing.volunteer_id) is not None
            )
            domain.require_roster_reader(standing, state(team), is_member)
            rows, total = repo.roster(session, team.id, page, page_size)
            items = [_member_view(member, volunteer) for member, volunteer in rows]
            return {"team_id": team.id, "items": items, "total": total, "page": page, "page_size": page_size}

    @rpc
    def my_teams(self, actor):
        actor = load_actor(actor)
        domain.require_self_role(actor)
        with self.db.read() as session:
            volunteer = volunteer_of_account(session, actor.account_id)
            memberships = repo.memberships_of(session, volunteer.id)
            leaders = repo.leaders_of(session, [team for _, team in memberships])
            teams = [
                {
                    "team": _team_fields(team, leaders[team.leader_volunteer_id]),
                    "role": m.role,
                    "joined_at": m.joined_at,
                }
                for m, team in memberships
            ]
            applications = repo.applications_of(session, volunteer.id, contract.MY_APPLICATIONS_LIMIT)
            return _my_teams.dump(
                {
                    "volunteer_id": volunteer.id,
                    "teams": teams,
                    "applications": [_application_fields(*row) for row in applications],
                }
            )

    # --- applications --------------------------------------------------------------------------

    @command
    def apply_to_team(self, team_id, data, actor):
        actor = load_actor(actor)
        note = load(contract.ApplySchema, data)["note"]
        domain.require_self_role(actor)
        team_id = _team_id(team_id)
        with self.db.unit_of_work() as uow:
            volunteer = volunteer_of_account(uow.session, actor.account_id)
            team = repo.get_team(uow.session, team_id)
            domain.require_may_apply(
                state(team),
                volunteer.status,
                is_member=repo.membership(uow.session, team.id, volunteer.id) is not None,
                has_pending=repo.pending_application(uow.session, team.id, volunteer.id) is not None,
            )
            application = TeamApplication(
                team_id=team.id, volunteer_id=volunteer.id, status="pending", note=note, created_at=utcnow(), version=1
            )
            uow.session.add(application)
            uow.flush()
            data = {**_application_event(application, team, volunteer), "leader_volunteer_id": team.leader_volunteer_id}
            uow.emit(contract.TEAM_APPLICATION_SUBMITTED, subject=str(application.id), data=data)
            return _application_view(application, team, volunteer)

    @command
    def withdraw_team_application(self, team_id, application_id, actor):
        actor = load_actor(actor)
        domain.require_self_role(actor)
        team_id, application_id = _team_id(team_id), load_id(application_id, "application_id")
        with self.db.unit_of_work() as uow:
            volunteer = volunteer_of_account(uow.session, actor.account_id)
            team = repo.get_team(uow.session, team_id)
            application = repo.get_application(uow.session, team.id, application_id, lock=True)
            changed = domain.withdrawal(state(application), volunteer.id, actor, utcnow())
            if changed is not None:
                _close(uow, application, changed)
                data = {**_application_event(application, team, volunteer), "decided_at": _iso(application.decided_at)}
                uow.emit(contract.TEAM_APPLICATION_WITHDRAWN, subject=str(application.id), data=data)
            return _application_view(application, team, volunteer)

    @command
    def approve_team_application(self, team_id, application_id, actor):
        """The leader or an admin of the scope approves: the applicant joins the team."""
        actor = load_actor(actor)
        team_id, application_id = _team_id(team_id), load_id(application_id, "application_id")
        with self.db.unit_of_work() as uow:
            team, application = self._application_to_decide(uow.session, team_id, application_id, actor)
            volunteer = get_volunteer(uow.session, application.volunteer_id)
            if application.status == "pending":
                domain.require_active_team(state(team))
                domain.require_joinable(volunteer.status)
            now = utcnow()
            if _decide(uow, team, application, "approved", None, actor, now):
                _join(uow, team, volunteer, "member", "approved", actor, now)
            return _application_view(application, team, volunteer)

    @command
    def reject_team_application(self, team_id, application_id, data, actor):
        """The leader or an admin of the scope rejects, with the reason the applicant is told."""
        actor = load_actor(actor)
        reason = load(contract.ReasonSchema, data)["reason"]
        team_id, application_id = _team_id(team_id), load_id(application_id, "application_id")
        with self.db.unit_of_work() as uow:
            team, application = self._application_to_decide(uow.session, team_id, application_id, actor)
            _decide(uow, team, application, "rejected", reason, actor, utcnow())
            return _application_view(application, team, get_volunteer(uow.session, application.volunteer_id))

    @rpc
    def list_team_applications(self, team_id, actor, filters=None, page=1, page_size=20):
        actor = load_actor(actor)
        page, page_size, filters = _page(page, page_size, contract.ApplicationQuerySchema, filters)
        with self.db.read() as session:
            team = repo.get_team(session, _team_id(team_id))
            domain.require_leader_or_admin(self._standing(session, actor, team.center_id), state(team))
            rows, total = repo.applications_to(session, team.id, filters.get("status"), page, page_size)
            items = [_application_view(*row) for row in rows]
            return {"items": items, "total": total, "page": page, "page_size": page_size}

    # --- helpers that need the service ---------------------------------------------------------

    def _within(self, actor, center_id):
        """Whether `actor` is an admin whose scope holds `center_id` (one question to the
        centers service for a center admin, none for anyone else)."""
        return access.is_admin(actor) and Reach(self.centers).within(actor, center_id)

    def _standing(self, session, actor, center_id):
        """The caller's standing towards a team of `center_id`."""
        within = self._within(actor, center_id)
        volunteer_id = None
        # an account without a volunteer record leads and belongs to nothing
        if actor.role in domain.SELF_ROLES:
            with contextlib.suppress(PermissionDenied):
                volunteer_id = volunteer_of_account(session, actor.account_id).id
        return domain.Standing(actor, within, volunteer_id)

    def _application_to_decide(self, session, team_id, application_id, actor):
        team = repo.get_team(session, team_id)
        application = repo.get_application(session, team.id, application_id, lock=True)
        domain.require_leader_or_admin(self._standing(session, actor, team.center_id), state(team))
        return team, application


# --- module helpers: rows in, views and events out ---------------------------------------------


def _named_volunteer(session, volunteer_id, field):
    """A volunteer named in the input: a missing one is bad input, not a 404."""
    try:
        return get_volunteer(session, volunteer_id)
    except NotFound:
        message = f"志愿者 {volunteer_id} 不存在。"
        raise InvalidInput("volunteer.not_found", message, {field: [message]}) from None


def _join(uow, team, volunteer, role, via, actor, now):
    """`volunteer` joins `team` (one more on its count; a pending application of theirs is
    approved with it); emits team.member_joined."""
    domain.require_joinable(volunteer.status)
    if repo.membership(uow.session, team.id, volunteer.id) is not None:
        raise domain.already_member()
    pending = repo.pending_application(uow.session, team.id, volunteer.id)
    if pending is not None:
        _decide(uow, team, pending, "approved", None, actor, now)
    member = TeamMember(team_id=team.id, volunteer_id=volunteer.id, role=role, joined_via=via, joined_at=now)
    uow.session.add(member)
    uow.flush()
    if repo.count_in(uow.session, team.id) is None:
        raise domain.dissolved()  # dissolved while this join waited for the row
    _emit_joined(uow, team, member, volunteer)
    return member


def _hand_over(uow, team, leader_id, actor, now):
    """The leader's role passes to `leader_id` (an active volunteer, who joins if need be);
    the former leader stays a member."""
    leader = _named_volunteer(uow.session, leader_id, "leader_volunteer_id")
    domain.require_active_leader(leader.status)
    former = repo.membership(uow.session, team.id, team.leader_volunteer_id)
    if former is not None:
        former.role = "member"
    member = repo.membership(uow.session, team.id, leader.id)
    if member is None:
        _join(uow, team, leader, "leader", "leader", actor, now)
    else:
        member.role = "leader"


def _close(uow, application, changed):
    save(application, {**changed, "version": application.version + 1})
    uow.flush()


def _decide(uow, team, application, status, reason, actor, now):
    """Approve or reject a pending application and emit team.application_decided; False for
    a retry of the same outcome, which changes nothing."""
    changed = domain.decision(state(application), status, reason, actor, now)
    if changed is None:
        return False
    _close(uow, application, changed)
    volunteer = get_volunteer(uow.session, application.volunteer_id)
    data = {
        **_application_event(application, team, volunteer),
        "reason": application.reason,
        "decided_by": application.decided_by,
        "decided_at": _iso(application.decided_at),
    }
    uow.emit(contract.TEAM_APPLICATION_DECIDED, subject=str(application.id), data=data)
    return True


def personal_export(session, volunteer_id):
    """The volunteer's memberships and applications, for their export of everything held."""
    volunteer = get_volunteer(session, volunteer_id)
    return {
        "memberships": [
            {**_member_view(member, volunteer), "team_id": team.id, "team_name": team.name}
            for member, team in repo.memberships_of(session, volunteer_id)
        ],
        "applications": [_application_view(*found) for found in repo.applications_of(session, volunteer_id, None)],
    }


def on_deregistered(uow, volunteer, actor):
    """A deregistered volunteer leaves every team (a leader stays until an admin hands the
    team over: a team always has one) and their pending applications are withdrawn."""
    for member, team in repo.memberships_of(uow.session, volunteer.id):
        if member.role != "leader":
            _part(uow, team, member, volunteer, "deregistered", None, actor)
    for application, team, _ in repo.applications_of(uow.session, volunteer.id, None):
        if application.status == "pending":
            _close(uow, application, domain.withdrawal(state(application), volunteer.id, actor, utcnow()))
            data = {**_application_event(application, team, volunteer), "decided_at": _iso(application.decided_at)}
            uow.emit(contract.TEAM_APPLICATION_WITHDRAWN, subject=str(application.id), data=data)


def _part(uow, team, member, volunteer, reason, explanation, actor):
    """`member` leaves `team` (one fewer on its count); emits team.member_left. Deleted by
    statement, so that of two concurrent leaves only one counts."""
    if not repo.delete_member(uow.session, member):
        raise Conflict("team.not_member", "该志愿者已不是该服务队的成员。")
    count = repo.count_out(uow.session, team.id)
    data = {
        **_member_event(team, member, volunteer, count),
        "at": _iso(utcnow()),
        "reason": reason,
        "explanation": explanation,
        "by": actor.account_id,
    }
    uow.emit(contract.TEAM_MEMBER_LEFT, subject=str(team.id), data=data)


def _emit_joined(uow, team, member, volunteer):
    data = {**_member_event(team, member, volunteer, team.member_count), "at": _iso(member.joined_at)}
    uow.emit(contract.TEAM_MEMBER_JOINED, subject=str(team.id), data={**data, "via": member.joined_via})


def _emit_updated(uow, team, before, changed):
    uow.flush()  # the version check: a concurrent change fails here as team.version_conflict
    data = {
        **_team_event(team),
        "changed": sorted(changed),
        "previous_status": before["status"],
        "previous_leader_volunteer_id": before["leader_volunteer_id"],
    }
    uow.emit(contract.TEAM_UPDATED, subject=str(team.id), data=data)


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def _team_event(team):
    data = {name: getattr(team, name) for name in contract.TEAM_PROPERTIES}
    return {**data, "created_at": _iso(team.created_at), "updated_at": _iso(team.updated_at)}


def _member_event(team, member, volunteer, member_count):
    return {
        "team_id": team.id,
        "center_id": team.center_id,
        "volunteer_id": volunteer.id,
        "volunteer_number": volunteer.volunteer_number,
        "account_id": volunteer.account_id,
        "role": member.role,
        "member_count": member_count,
    }


def _application_event(application, team, volunteer):
    return {
        "id": application.id,
        "team_id": team.id,
        "center_id": team.center_id,
        "volunteer_id": volunteer.id,
        "volunteer_number": volunteer.volunteer_number,
        "account_id": volunteer.account_id,
        "status": application.status,
        "created_at": _iso(application.created_at),
    }


def _team_fields(team, leader):
    return {
        **state(team),
        "kind_label": domain.kind_label(team.kind, team.local_kind_name),
        "leader_volunteer_number": leader.volunteer_number,
        "leader_name": leader.name,
    }


def _team_view(team, leader):
    return _team.dump(_team_fields(team, leader))


def _member_view(member, volunteer):
    return _member.dump(
        {
            "volunteer_id": volunteer.id,
            "volunteer_number": volunteer.volunteer_number,
            "name": volunteer.name,
            "role": member.role,
            "joined_via": member.joined_via,
            "joined_at": member.joined_at,
        }
    )


def _application_fields(application, team, volunteer):
    return {
        **state(application),
        "team_name": team.name,
        "center_id": team.center_id,
        "volunteer_number": volunteer.volunteer_number,
        "volunteer_name": volunteer.name,
    }


def _application_view(application, team, volunteer):
    return _application.dump(_application_fields(application, team, volunteer))
