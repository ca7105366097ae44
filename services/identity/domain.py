"""Who may create whom, in plain Python."""

from services.chassis.actors import CENTER_ADMIN, COUNTY_ADMIN
from services.chassis.errors import InvalidInput, PermissionDenied


def check_may_create(creator, role, scope_center_id, within):
    """County admins create anyone; a center admin creates non-admins, or center admins
    scoped inside its own subtree; a scope given by a center admin must lie in its subtree.
    `within`: whether `scope_center_id` lies in the creator's subtree (None without a scope),
    as the centers service answered it."""
    if role == CENTER_ADMIN and scope_center_id is None:
        raise InvalidInput(
            "account.scope_required",
            "中心管理员必须指定所辖中心",
            {"scope_center_id": ["中心管理员必须指定所辖中心。"]},
        )
    if creator.role == COUNTY_ADMIN:
        return
    if creator.role != CENTER_ADMIN or role == COUNTY_ADMIN:
        raise PermissionDenied("account.role_forbidden", "无权创建该角色的账号")
    if scope_center_id is not None and not within:
        raise PermissionDenied("account.scope_forbidden", "所指定的中心不在您的管辖范围内")


def scope_root(creator, scope_center_id):
    """The subtree a new account's scope must lie in: the creator's, or the scope itself
    for a county admin (which then only has to exist)."""
    return creator.scope_center_id if creator.role == CENTER_ADMIN else scope_center_id
