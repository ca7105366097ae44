"""Tokens and accounts. The gateway keeps the accounts for now; whether a new account's
scope lies inside its creator's subtree is asked of the centers service, which owns the
tree (a read model may be stale, so it never decides authorization)."""

from services.chassis.actors import ADMIN_ROLES, CENTER_ADMIN
from services.chassis.errors import InvalidInput, NotFound

from .. import accounts
from ..auth import Authenticated, Public, Roles
from ..routing import Reply, RouteTable
from ..schemas import AccountCreateSchema, AccountSchema, TokenRequestSchema, TokenSchema

routes = RouteTable(tag="auth")


@routes.route(
    "POST",
    "/api/v1/auth/token",
    auth=Public(),
    summary="Exchange username and password for a JWT",
    body=TokenRequestSchema(),
    response=TokenSchema(),
    errors=(401, 429),
)
def issue_token(edge, call):
    shared = edge.shared
    return accounts.issue_token(edge.db, shared.tokens, shared.login_limiter, call.data, call.client_address)


@routes.route("GET", "/api/v1/me", auth=Authenticated(), summary="The calling account", response=AccountSchema())
def me(edge, call):
    return accounts.current(edge.db, call.principal)


@routes.route(
    "POST",
    "/api/v1/accounts",
    auth=Roles(*ADMIN_ROLES),
    summary="Create an account",
    body=AccountCreateSchema(),
    response=AccountSchema(),
    status=201,
    errors=(409,),
    calls=("centers",),
)
def create_account(edge, call):
    creator, scope = call.principal, call.data["scope_center_id"]
    within = None
    if scope is not None:
        root = creator.scope_center_id if creator.role == CENTER_ADMIN else scope
        within = scope_is_within(edge.rpc("centers"), scope, root)
    accounts.check_may_create(creator, call.data["role"], scope, within)
    return Reply(201, accounts.create(edge.db, call.data, creator.account_id))


def scope_is_within(centers, scope_center_id, root_id):
    """Whether the account's center lies in `root_id`'s subtree; an unknown center is bad input."""
    try:
        return centers.is_within(scope_center_id, root_id)
    except NotFound:
        raise InvalidInput("center.unknown", "中心不存在", {"scope_center_id": ["中心不存在。"]}) from None
