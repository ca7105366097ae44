"""Who may create and change whom, and what a password must be, in plain Python."""

import unicodedata

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from services.chassis.actors import CENTER_ADMIN, COUNTY_ADMIN
from services.chassis.errors import InvalidInput, PermissionDenied
from services.identity.contract import PASSWORD_MIN_LENGTH

# zxcvbn's list of the 30,000 most common passwords (from leaked password sets), case-folded
COMMON_PASSWORDS = frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])
# zxcvbn's 0–4 score: 3 = about 10^8 guesses or more ("safely unguessable" online, some protection offline)
MIN_STRENGTH = 3
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; it rates the first 72 characters


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


def check_may_manage(actor, account_id, role, scope_center_id, within):
    """Whether `actor` may deactivate, reactivate, change or read the audit of the account
    `account_id` (now `role`, scoped at `scope_center_id`): a county admin manages every
    account; a center admin only non-county accounts scoped inside its subtree (`within`:
    whether `scope_center_id` lies there, as the centers service answered; None without a
    scope); nobody else any."""
    if actor.role == COUNTY_ADMIN:
        return
    if actor.role != CENTER_ADMIN:
        raise PermissionDenied("account.role_forbidden", "无权管理账号")
    if role == COUNTY_ADMIN or scope_center_id is None or not within:
        raise PermissionDenied("account.scope_forbidden", "该账号不在您的管辖范围内")


def check_not_self(actor, account_id):
    """Nobody deactivates, or changes the role or scope of, the account it acts with."""
    if str(account_id) == actor.account_id:
        raise PermissionDenied("account.self_forbidden", "不能停用或更改自己的账号")


def changes_of(account, wanted):
    """{field: [before, after]} for each field of `wanted` that differs on `account`."""
    return {name: [getattr(account, name), value] for name, value in wanted.items() if getattr(account, name) != value}


def scope_root(creator, scope_center_id):
    """The subtree a new account's scope must lie in: the creator's, or the scope itself
    for a county admin (which then only has to exist)."""
    return creator.scope_center_id if creator.role == CENTER_ADMIN else scope_center_id


def check_password(password, username, display_name=None):
    """The password policy: at least PASSWORD_MIN_LENGTH characters, neither the username nor
    containing it, not a common password, and hard enough to guess by zxcvbn's estimate
    (which also counts the username and display name as known words). `username` is the
    normalized one. Raises InvalidInput naming the field `password`, with a code per reason."""
    folded = unicodedata.normalize("NFKC", password).casefold()
    if len(password) < PASSWORD_MIN_LENGTH:
        _weak("account.password_too_short", f"密码至少需要 {PASSWORD_MIN_LENGTH} 个字符。")
    if username and username in folded:
        _weak("account.password_contains_username", "密码不能与用户名相同，也不能包含用户名。")
    if folded in COMMON_PASSWORDS:
        _weak("account.password_common", "该密码过于常见，请换一个。")
    known = [word for word in (username, display_name) if word]
    if zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=known)["score"] < MIN_STRENGTH:
        _weak("account.password_weak", "密码太容易被猜到，请使用更长、更不规则的密码。")


def _weak(code, reason):
    raise InvalidInput(code, "密码不符合要求", {"password": [reason]})
