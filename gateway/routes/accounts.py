"""Tokens and accounts, kept by the identity service: the gateway forwards, and verifies the
tokens it issues with its public keys. Whether a new account's scope lies inside its
creator's subtree is the identity service's decision, which it asks of the centers service
(a read model may be stale, so it never decides authorization)."""

from services.chassis.actors import ADMIN_ROLES
from services.identity.contract import AccountCreateSchema, AccountSchema, TokenRequestSchema, TokenSchema

from ..auth import Authenticated, Public, Roles
from ..routing import Reply, RouteTable

routes = RouteTable(tag="auth", calls=("identity",))
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@routes.route(
    "POST",
    "/api/v1/auth/token",
    auth=Public(),
    summary="Exchange username and password for a JWT",
    body=TokenRequestSchema(),
    response=TokenSchema(),
    errors=(401, 429),
)
async def issue_token(edge, call):
    # the client address is the socket peer (see docs/gateway.md, "Login rate limit"): the
    # identity service limits failed logins per address and per username
    token = await edge.rpc("identity").issue_token(call.payload, call.client_address)
    return Reply(200, token, headers=NO_STORE)  # a credential: no cache may keep it (RFC 6749 §5.1)


@routes.route("GET", "/api/v1/me", auth=Authenticated(), summary="The calling account", response=AccountSchema())
async def me(edge, call):
    return await edge.rpc("identity").current_account(call.principal.account_id)


@routes.route(
    "POST",
    "/api/v1/accounts",
    auth=Roles(*ADMIN_ROLES),
    summary="Create an account",
    body=AccountCreateSchema(),
    response=AccountSchema(),
    status=201,
    errors=(409,),
)
async def create_account(edge, call):
    return Reply(201, await edge.rpc("identity").create_account(call.payload, call.principal.as_payload()))
