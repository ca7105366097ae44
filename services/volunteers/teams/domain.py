"""The rules of teams (志愿服务队), in plain Python: who may do what to a team, the team's own
fields, and the life of an application (pending → approved, rejected or withdrawn).

The entrypoints read the rows and pass plain values in: the team as a dict of its stored
fields, and the caller's `Standing` towards the team.
"""

from dataclasses import dataclass

from services.chassis.actors import Actor
from services.chassis.errors import Conflict, InvalidInput, PermissionDenied
from services.volunteers.access import is_admin, require_admin
from services.volunteers.contract.registration import SELF_ROLES
from services.volunteers.domain import TEAM_KINDS

LOCAL = "local"  # the kind whose name the county gives (local_kind_name)
UPDATABLE = ("name", "kind", "local_kind_name", "description", "leader_volunteer_id")


@dataclass(frozen=True)
class Standing:
    """Who the caller is to one team: `within` tells whether the team's center lies in an
    admin's scope (False for anyone else); `volunteer_id` is the volunteer linked to the
    caller's account (None for none)."""

    actor: Actor
    within: bool = False
    volunteer_id: int | None = None

    @property
    def is_admin(self):
        return is_admin(self.actor)

    def leads(self, team):
        return self.volunteer_id is not None and self.volunteer_id == team["leader_volunteer_id"]


# --- who may ---------------------------------------------------------------------------------


def require_team_admin(standing):
    """Create, change, dissolve a team, add a member: an admin whose scope holds its center."""
    require_admin(standing.actor, standing.within)


def require_leader_or_admin(standing, team):
    """Decide applications, remove members, read applications: the leader or a team admin."""
    if standing.is_admin:
        require_admin(standing.actor, standing.within)
    elif not standing.leads(team):
        raise PermissionDenied("team.not_leader", "只有本队队长或管理员可以进行此操作。")


def require_roster_reader(standing, team, is_member):
    """The roster: the leader, a team admin, or a member of the team."""
    if standing.is_admin:
        require_admin(standing.actor, standing.within)
    elif not is_member:
        raise PermissionDenied("team.roster_forbidden", "只有本队成员、队长或管理员可以查看花名册。")


def require_self_role(actor):
    """Applying, withdrawing, leaving, one's own teams: a volunteer acting as themself."""
    if actor.role not in SELF_ROLES:
        raise PermissionDenied("scope.role", "此操作需以志愿者本人身份进行。")


# --- the team's own fields ---------------------------------------------------------------------


def kind_label(kind, local_kind_name):
    return local_kind_name if kind == LOCAL else TEAM_KINDS[kind]


def team_kinds():
    return [{"kind": kind, "label": label} for kind, label in TEAM_KINDS.items()]


def _invalid(code, field, message):
    return InvalidInput(code, message, {field: [message]})


def check_kind(kind, local_kind_name):
    """The kind is known; a local kind has its own name and no other kind has one."""
    if kind not in TEAM_KINDS:
        raise _invalid("team.kind_invalid", "kind", "服务队类型必须是 " + "、".join(TEAM_KINDS) + " 之一。")
    if kind == LOCAL and local_kind_name is None:
        raise _invalid("team.local_kind_required", "local_kind_name", "类型为其他（local）时须填写本地类型名称。")
    if kind != LOCAL and local_kind_name is not None:
        raise _invalid("team.local_kind_unexpected", "local_kind_name", "只有类型为其他（local）时才填写本地类型名称。")


def require_active_leader(status, field="leader_volunteer_id"):
    if status != "active":
        raise _invalid("team.leader_inactive", field, "队长须为状态正常的志愿者。")


def new_team(values, now):
    """The stored fields of a new team (without id) from `values` (TeamCreateSchema)."""
    check_kind(values["kind"], values["local_kind_name"])
    return {
        **values,
        "status": "active",
        "status_reason": None,
        "member_count": 1,  # the leader
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def team_changes(team, changes):
    """The fields of `team` (a dict) that `changes` (TeamUpdateSchema) really change, or None.
    Leaving the local kind drops its local name unless the change gives one (then refused)."""
    require_active_team(team)
    changed = {key: value for key, value in changes.items() if team[key] != value}
    leaves_local = changed.get("kind", LOCAL) != LOCAL and team["local_kind_name"] is not None
    if leaves_local and "local_kind_name" not in changes:
        changed["local_kind_name"] = None
    if not changed:
        return None
    after = {**team, **changed}
    check_kind(after["kind"], after["local_kind_name"])
    return changed


def status_change(team, status, reason):
    """The changed fields of status and status_reason, or None when nothing changes:
    dissolving needs a reason; reactivating clears it."""
    if status == "active":
        reason = None
    elif reason is None:
        raise _invalid("team.reason_required", "reason", "解散服务队须说明原因。")
    wanted = {"status": status, "status_reason": reason}
    return {key: value for key, value in wanted.items() if team[key] != value} or None


def versioned(team, changed, now):
    """`changed` plus what every change of a team's own fields sets: +1 version, the time."""
    return {**changed, "version": team["version"] + 1, "updated_at": now}


def dissolved():
    return Conflict("team.dissolved", "该服务队已解散。")


def require_active_team(team):
    if team["status"] != "active":
        raise dissolved()


# --- members -----------------------------------------------------------------------------------


def require_joinable(volunteer_status):
    """Only active volunteers join a team."""
    if volunteer_status != "active":
        raise Conflict("team.volunteer_inactive", "只有状态正常的志愿者才能加入服务队。")


def already_member():
    return Conflict("team.already_member", "该志愿者已是本队成员。")


def require_not_leader(member_role):
    """The leader leaves (or is removed) only after handing the team over."""
    if member_role == "leader":
        raise Conflict("team.leader_must_hand_over", "队长须先将队长职务移交他人，才能离队或被移出。")


# --- applications ------------------------------------------------------------------------------


def require_may_apply(team, volunteer_status, is_member, has_pending):
    require_active_team(team)
    require_joinable(volunteer_status)
    if is_member:
        raise already_member()
    if has_pending:
        raise application_pending()


def application_pending():
    return Conflict("team.application_pending", "已有待审核的入队申请，请勿重复提交。")


def decision(application, status, reason, actor, now):
    """The fields that approve or reject a pending application, or None when it already has
    that outcome (a retry); Conflict when it was closed otherwise."""
    if application["status"] == status:
        return None
    if application["status"] != "pending":
        raise closed(application["status"])
    return {"status": status, "reason": reason, "decided_by": actor.account_id, "decided_at": now}


def withdrawal(application, volunteer_id, actor, now):
    """The fields that withdraw the applicant's own pending application, or None for a retry."""
    if application["volunteer_id"] != volunteer_id:
        raise PermissionDenied("team.not_applicant", "只能撤回自己的入队申请。")
    return decision(application, "withdrawn", None, actor, now)


def closed(status):
    labels = {"approved": "已通过", "rejected": "已被拒绝", "withdrawn": "已撤回"}
    return Conflict("team.application_closed", f"该申请{labels[status]}，不能再更改。")
