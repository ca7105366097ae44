"""Tokens and accounts, kept by the identity service: the gateway forwards, and verifies the
tokens it issues with its public keys. Whether an account lies inside an admin's subtree is
the identity service's decision, which it asks of the centers service (a read model may be
stale, so it never decides authorization).

Every change to an account (creation, deactivation, reactivation, role or scope) and every
logout is applied to this replica's accounts model at once (gateway/accounts_model.py);
other replicas learn it from identity's events, normally within milliseconds."""

from services.chassis.actors import ADMIN_ROLES
from services.identity.contract import (
    AccountChangeSchema,
    AccountCreateSchema,
    AccountSchema,
    AuditEntrySchema,
    DeactivationSchema,
    ReactivationSchema,
    TokenRequestSchema,
    TokenSchema,
    account_state,
)

from ..auth import Authenticated, Public, Roles
from ..routing import Reply, RouteTable

routes = RouteTable(tag="auth", calls=("identity",))
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
ACCOUNTS = "/api/v1/accounts"
ACCOUNT = ACCOUNTS + "/<int:account_id>"
ADMINS = Roles(*ADMIN_ROLES)


def _known(edge, account):
    """`account` (as identity returns it) applied to this replica's accounts model."""
    edge.shared.accounts.apply(
        account_state(account["id"], account["version"], account["active"], account["role"], account["scope_center_id"])
    )
    return account


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
    issued = edge.shared.tokens.issued(token["access_token"])
    if issued is not None:  # this replica knows the account before its event arrives
        edge.shared.accounts.apply(issued)
    return Reply(200, token, headers=NO_STORE)  # a credential: no cache may keep it (RFC 6749 §5.1)


@routes.route(
    "POST",
    "/api/v1/auth/logout",
    auth=Authenticated(),
    summary="Revoke the token of this request",
    status=204,
    errors=(403,),
)
async def logout(edge, call):
    token = call.headers["authorization"].partition(" ")[2].strip()
    revoked = await edge.rpc("identity").revoke_token(token, call.principal.as_payload())
    edge.shared.accounts.revoke(revoked["jti"], revoked["expires_at"])
    return Reply(204)


@routes.route("GET", "/api/v1/me", auth=Authenticated(), summary="The calling account", response=AccountSchema())
async def me(edge, call):
    return await edge.rpc("identity").current_account(call.principal.account_id)


@routes.route(
    "POST",
    ACCOUNTS,
    auth=ADMINS,
    summary="Create an account",
    body=AccountCreateSchema(),
    response=AccountSchema(),
    status=201,
    errors=(409,),
)
async def create_account(edge, call):
    account = await edge.rpc("identity").create_account(call.payload, call.principal.as_payload())
    return Reply(201, _known(edge, account))


@routes.route(
    "PATCH",
    ACCOUNT,
    auth=ADMINS,
    summary="Change an account's role or scope",
    body=AccountChangeSchema(),
    response=AccountSchema(),
    errors=(409,),
)
async def change_account(edge, call, account_id):
    account = await edge.rpc("identity").change_account(account_id, call.payload, call.principal.as_payload())
    return _known(edge, account)


@routes.route(
    "POST",
    ACCOUNT + "/deactivation",
    auth=ADMINS,
    summary="Deactivate an account",
    body=DeactivationSchema(),
    response=AccountSchema(),
    errors=(409,),
)
async def deactivate_account(edge, call, account_id):
    account = await edge.rpc("identity").deactivate_account(account_id, call.payload, call.principal.as_payload())
    return _known(edge, account)


@routes.route(
    "POST",
    ACCOUNT + "/reactivation",
    auth=ADMINS,
    summary="Reactivate an account",
    body=ReactivationSchema(),
    response=AccountSchema(),
    errors=(409,),
)
async def reactivate_account(edge, call, account_id):
    account = await edge.rpc("identity").reactivate_account(account_id, call.payload, call.principal.as_payload())
    return _known(edge, account)


@routes.route(
    "GET",
    ACCOUNT + "/audit",
    auth=ADMINS,
    summary="The audit of an account: who changed what, when and why (newest first)",
    response=AuditEntrySchema(),
    many=True,
)
async def account_audit(edge, call, account_id):
    return await edge.rpc("identity").account_audit(account_id, call.principal.as_payload())
