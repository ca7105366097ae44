"""Account changes that take a token's rights away (issue 8, item 1), through the identity
service in-process against the real RabbitMQ, on SQLite and on PostgreSQL: deactivation,
reactivation, role and scope changes under their authorization rules, each bumping the
account's version with an audit row and an `account.changed` event; logout revoking one
token with `token.revoked`; the snapshots a gateway loads; and the migration."""

import contextlib
import time

import jsonschema
import jwt
import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ServiceRpcClient

from services.chassis import events
from services.chassis.actors import Actor
from services.chassis.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from services.identity import migrate
from services.identity.contract import EVENT_SCHEMAS
from services.identity.models import Account, AccountAudit, RevokedToken

PASSWORD = "a-long-password"


@pytest.fixture
def identity_events(amqp_uri):
    """Every event identity publishes from now on, as a list that fills while drained."""
    with Connection(amqp_uri) as connection:
        queue = Queue(
            "test-identity-events", Exchange("identity.events", "topic", durable=True), routing_key="#", exclusive=True
        )
        received = []
        with connection.Consumer(queue, callbacks=[lambda body, message: received.append(body)], accept=events.ACCEPT):

            def drain(until, timeout=10):
                deadline = time.monotonic() + timeout
                while not until(received) and time.monotonic() < deadline:
                    with contextlib.suppress(TimeoutError):
                        connection.drain_events(timeout=0.2)
                return received

            yield drain


@pytest.fixture
def world(network):
    """identity and centers (see `network`), root (county admin), an admin of a, and accounts
    scoped at a1 and b."""
    with ServiceRpcClient("identity", timeout=15) as identity:
        root_id = identity.issue_token({"username": "root", "password": PASSWORD}, "127.0.0.1")
        root = Actor(jwt.decode(root_id["access_token"], options={"verify_signature": False})["sub"], "county_admin")
        made = {}
        for name, role, scope in (
            ("admin.a", "center_admin", network["a"]),
            ("vol.a1", "volunteer", network["a1"]),
            ("vol.b", "volunteer", network["b"]),
            ("vol.none", "volunteer", None),
        ):
            body = {
                "username": name,
                "password": PASSWORD,
                "role": role,
                "scope_center_id": scope,
                "display_name": name,
            }
            made[name] = identity.create_account(body, root.as_payload())
        admin_a = Actor(made["admin.a"]["id"], "center_admin", network["a"])
        yield identity, {"root": root, "admin_a": admin_a, "accounts": made, **network}


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def login(identity, username):
    return identity.issue_token({"username": username, "password": PASSWORD}, "127.0.0.1")["access_token"]


def audit_rows(identity_db, account_id):
    engine = sa.create_engine(identity_db, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(AccountAudit).where(AccountAudit.account_id == int(account_id)).order_by(AccountAudit.id)
        ).all()
    engine.dispose()
    return rows


def test_a_deactivation_bumps_the_version_is_audited_and_published(world, identity_db, identity_events):
    identity, w = world
    vol = w["accounts"]["vol.a1"]
    assert claims(login(identity, "vol.a1"))["ver"] == vol["version"] == 1
    done = identity.deactivate_account(vol["id"], {"reason": "离职"}, w["root"].as_payload())
    assert (done["active"], done["version"]) == (False, 2)
    with pytest.raises(NotAuthenticated):
        login(identity, "vol.a1")
    # again: already so, nothing new
    assert identity.deactivate_account(vol["id"], {"reason": "again"}, w["root"].as_payload())["version"] == 2
    back = identity.reactivate_account(vol["id"], {}, w["root"].as_payload())
    assert (back["active"], back["version"]) == (True, 3)
    assert claims(login(identity, "vol.a1"))["ver"] == 3

    rows = audit_rows(identity_db, vol["id"])
    assert [(r.action, r.version) for r in rows] == [("created", 1), ("deactivated", 2), ("reactivated", 3)]
    assert rows[1].actor_account_id == w["root"].account_id and rows[1].reason == "离职"
    assert identity.account_audit(vol["id"], w["root"].as_payload())[0]["action"] == "reactivated"

    changed = [
        e
        for e in identity_events(
            lambda got: any(e["data"].get("id") == vol["id"] and e["data"]["version"] == 3 for e in got)
        )
        if e["type"] == "account.changed" and e["data"]["id"] == vol["id"] and e["data"]["version"] > 1
    ]
    assert [(e["data"]["version"], e["data"]["active"]) for e in changed] == [(2, False), (3, True)]
    for event in changed:
        assert events.validate_event(event) == []
        jsonschema.validate(event["data"], EVENT_SCHEMAS["account.changed"])


def test_who_may_deactivate_whom(world):
    identity, w = world
    made, admin_a = w["accounts"], w["admin_a"].as_payload()
    refusals = [
        ("account.scope_forbidden", made["vol.b"]["id"], admin_a),  # outside its subtree
        ("account.scope_forbidden", made["vol.none"]["id"], admin_a),  # no scope: the county's
        ("account.scope_forbidden", w["root"].account_id, admin_a),  # a county admin
        ("account.self_forbidden", made["admin.a"]["id"], admin_a),
        ("account.self_forbidden", w["root"].account_id, w["root"].as_payload()),
        ("account.role_forbidden", made["vol.a1"]["id"], Actor(made["vol.b"]["id"], "volunteer").as_payload()),
    ]
    for code, account_id, actor in refusals:
        with pytest.raises(PermissionDenied) as refused:
            identity.deactivate_account(account_id, {"reason": "试试"}, actor)
        assert refused.value.code == code, (code, account_id, actor)
    with pytest.raises(NotFound):
        identity.deactivate_account(999_999, {"reason": "无"}, admin_a)
    with pytest.raises(InvalidInput):
        identity.deactivate_account(made["vol.a1"]["id"], {}, admin_a)  # a reason is required
    assert identity.deactivate_account(made["vol.a1"]["id"], {"reason": "离职"}, admin_a)["active"] is False
    with pytest.raises(PermissionDenied):
        identity.account_audit(made["vol.b"]["id"], admin_a)


def test_a_role_or_scope_change_follows_the_creation_rules(world, identity_db):
    identity, w = world
    made, admin_a, root = w["accounts"], w["admin_a"].as_payload(), w["root"].as_payload()
    vol = made["vol.a1"]["id"]
    refusals = [
        (PermissionDenied, "account.role_forbidden", {"role": "county_admin"}, admin_a),  # above its own role
        (PermissionDenied, "account.scope_forbidden", {"scope_center_id": w["b"]}, admin_a),  # outside its scope
        (InvalidInput, "account.scope_required", {"role": "center_admin", "scope_center_id": None}, root),
        (InvalidInput, "center.unknown", {"scope_center_id": 999_999}, root),
    ]
    for error, code, body, actor in refusals:
        with pytest.raises(error) as refused:
            identity.change_account(vol, body, actor)
        assert refused.value.code == code
    with pytest.raises(PermissionDenied) as refused:
        identity.change_account(made["admin.a"]["id"], {"role": "volunteer"}, admin_a)
    assert refused.value.code == "account.self_forbidden"

    promoted = identity.change_account(vol, {"role": "center_admin", "reason": "任命"}, admin_a)
    assert (promoted["role"], promoted["scope_center_id"], promoted["version"]) == ("center_admin", w["a1"], 2)
    assert identity.change_account(vol, {"role": "center_admin"}, admin_a)["version"] == 2  # no change
    token = claims(login(identity, "vol.a1"))
    assert (token["role"], token["scope"], token["ver"]) == ("center_admin", w["a1"], 2)
    moved = identity.change_account(vol, {"role": "volunteer", "scope_center_id": w["b"]}, root)
    assert moved["version"] == 3
    last = audit_rows(identity_db, vol)[-1]
    assert last.action == "changed" and last.actor_account_id == w["root"].account_id
    entry = identity.account_audit(vol, root)[0]
    assert entry["changes"] == {"role": ["center_admin", "volunteer"], "scope_center_id": [w["a1"], w["b"]]}
    # now outside a's subtree: its admin manages it no more
    with pytest.raises(PermissionDenied):
        identity.deactivate_account(vol, {"reason": "x"}, admin_a)


def test_logout_revokes_exactly_that_token(world, identity_db, identity_events):
    identity, w = world
    vol = w["accounts"]["vol.a1"]
    first, second = login(identity, "vol.a1"), login(identity, "vol.a1")
    actor = Actor(vol["id"], "volunteer", w["a1"]).as_payload()
    with pytest.raises(PermissionDenied):
        identity.revoke_token(first, w["root"].as_payload())  # not the caller's own
    revoked = identity.revoke_token(first, actor)
    assert revoked == {"jti": claims(first)["jti"], "account_id": vol["id"], "expires_at": claims(first)["exp"]}
    assert identity.revoke_token(first, actor) == revoked  # again: nothing new
    listed = identity.revoked_tokens("")
    assert [t["jti"] for t in listed["items"]] == [claims(first)["jti"]] and listed["next_after_jti"] is None
    assert claims(second)["jti"] != claims(first)["jti"]
    published = identity_events(lambda got: any(e["type"] == "token.revoked" for e in got))
    [event] = [e for e in published if e["type"] == "token.revoked"]
    jsonschema.validate(event["data"], EVENT_SCHEMAS["token.revoked"])
    engine = sa.create_engine(identity_db, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(RevokedToken)).scalar() == 1
    engine.dispose()
    assert audit_rows(identity_db, vol["id"])[-1].action == "logged_out"


def test_the_accounts_snapshot_pages_through_every_account(world):
    identity, w = world
    first = identity.accounts_snapshot(0, 2)
    rest = identity.accounts_snapshot(first["next_after_id"], 1000)
    items = first["items"] + rest["items"]
    assert rest["next_after_id"] is None and len(items) == 5
    assert {item["id"] for item in items} == {w["root"].account_id} | {a["id"] for a in w["accounts"].values()}
    assert all(set(item) == {"id", "version", "active", "role", "scope_center_id"} for item in items)
    assert identity.account_state(w["accounts"]["vol.b"]["id"])["scope_center_id"] == w["b"]


def test_the_migration_gives_existing_accounts_version_1(database_url):
    migrate.upgrade(database_url, "0002")
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO accounts (username, password_hash, role, display_name, active, created_at)"
                " VALUES ('old', 'x', 'volunteer', 'old', true, CURRENT_TIMESTAMP)"
            )
        )
    migrate.upgrade(database_url)
    with engine.connect() as connection:
        assert connection.execute(sa.select(Account.version)).scalar() == 1
        assert connection.execute(sa.select(sa.func.count()).select_from(AccountAudit)).scalar() == 0
    engine.dispose()
