"""Who may do what to whom, in plain Python. The service asks the centers service whether a
center lies in an actor's scope (`services/chassis/scope.py`) and passes the answer in as `within`.

- county admins: everything in the county;
- center admins: volunteers, teams and goods whose center lies in their subtree;
- a volunteer (or a team leader, who is a volunteer too): themself, through the account
  linked to their record;
- team leaders: their team's roster and applications (the teams part decides).
"""

from services.chassis.actors import TEAM_LEADER
from services.chassis.errors import PermissionDenied
from services.chassis.scope import admins_only, is_admin, outside, require_admin  # noqa: F401 (part of access)
from services.volunteers.contract.registration import SELF_ROLES


def staff_only():
    return PermissionDenied("scope.role", "此操作需要工作人员角色。")


def is_staff(actor):
    """Admins, and team leaders with a center (they read the volunteers of their scope)."""
    return is_admin(actor) or (actor.role == TEAM_LEADER and actor.scope_center_id is not None)


def is_self(actor, account_id):
    """Whether `actor` is the volunteer whose record is linked to `account_id`."""
    return actor.role in SELF_ROLES and account_id is not None and actor.account_id == str(account_id)


def require_self_or_admin(actor, account_id, within):
    """The volunteer themself, or an admin of the scope (`within`: for the home station)."""
    if is_self(actor, account_id):
        return
    require_admin(actor, within)
