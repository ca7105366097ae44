"""Scope: whether a center lies in an actor's reach, asked of the centers service, which owns
the tree. Authoritative and never stale, at one RPC each. Every service that keeps records
by center (volunteers, activities, ...) decides scope with these.

- county admins: everything in the county;
- center admins: what lies in their center's subtree.
"""

from services.chassis.actors import CENTER_ADMIN, COUNTY_ADMIN
from services.chassis.errors import InvalidInput, NotFound, PermissionDenied


def outside():
    return PermissionDenied("scope.outside", "目标不在您管理的范围内。")


def admins_only():
    return PermissionDenied("scope.role", "此操作需要管理员角色。")


def is_admin(actor):
    return actor.role == COUNTY_ADMIN or (actor.role == CENTER_ADMIN and actor.scope_center_id is not None)


def require_admin(actor, within):
    """An admin whose scope holds the center in question (`within`: its answer for that center)."""
    if not is_admin(actor):
        raise admins_only()
    if actor.role == CENTER_ADMIN and not within:
        raise outside()


class Reach:
    def __init__(self, centers):
        self.centers = centers  # the TimedServiceRpc proxy of the centers service

    def within(self, actor, center_id):
        """Whether `center_id` lies in `actor`'s scope (their center's subtree; everything for a
        county admin). An unknown center is outside every scope."""
        if actor.role == COUNTY_ADMIN:
            return True
        if actor.scope_center_id is None or center_id is None:
            return False
        try:
            return self.centers.is_within(center_id, actor.scope_center_id)
        except (NotFound, InvalidInput):
            return False

    def require_admin_of(self, actor, center_id):
        """An admin whose scope holds `center_id`, or PermissionDenied (other roles are
        refused without asking the centers service)."""
        require_admin(actor, is_admin(actor) and self.within(actor, center_id))

    def subtree_ids(self, center_id, missing=None):
        """The ids of `center_id` and every center below it. An unknown center raises
        NotFound, or gives `missing` when one is given (a filter that matches nothing)."""
        try:
            return [center["id"] for center in self.centers.get_subtree(center_id)]
        except NotFound:
            if missing is None:
                raise
            return missing

    def scope_ids(self, actor):
        """The centers `actor` may see records of: None for the whole county, else a list."""
        if actor.role == COUNTY_ADMIN:
            return None
        if actor.scope_center_id is None:
            return []
        return self.subtree_ids(actor.scope_center_id, missing=[])

    def active_center(self, center_id, field):
        """The center (dict) that is to hold records (volunteers, teams, goods, activities): it must exist and be
        active, else InvalidInput naming `field`."""
        try:
            center = self.centers.get_center(center_id)
        except NotFound:
            raise InvalidInput("center.not_found", "阵地不存在。", {field: ["阵地不存在。"]}) from None
        if center["status"] != "active":
            raise InvalidInput("center.inactive", "阵地未启用。", {field: ["阵地已暂停或关闭。"]})
        return center
