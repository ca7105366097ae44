"""Who may organize an activity, in plain Python. The service gathers the facts (whether the
organizing center lies in the actor's scope, asked of the centers service; whether the
actor's volunteer leads the activity's team, from its copy of team memberships) and passes
them in.

- admins whose scope holds the organizing center (the county admin: every center);
- the leader of the activity's team (a team leader, or a volunteer made leader), for the
  team's activities;
- everyone signed in reads published activities; drafts only their organizers.
"""

from services.chassis.actors import TEAM_LEADER, VOLUNTEER
from services.chassis.errors import PermissionDenied
from services.chassis.scope import is_admin

SELF_ROLES = (VOLUNTEER, TEAM_LEADER)  # an account that is a volunteer's own


def organizers_only():
    return PermissionDenied("activity.not_organizer", "只有活动所属阵地的管理员或服务队队长可以进行此操作。")


def volunteers_only():
    return PermissionDenied("scope.role", "此操作需要志愿者账号。")


def may_organize(actor, within, leads_team):
    """`within`: the organizing center lies in the actor's scope; `leads_team`: the actor's
    volunteer leads the activity's team."""
    return (is_admin(actor) and within) or (actor.role in SELF_ROLES and leads_team)


def require_organizer(actor, within, leads_team):
    if not may_organize(actor, within, leads_team):
        raise organizers_only()


def require_volunteer_role(actor):
    if actor.role not in SELF_ROLES:
        raise volunteers_only()
