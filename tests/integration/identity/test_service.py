"""The identity service in-process against the real RabbitMQ, on SQLite and on PostgreSQL,
with the centers service it asks about scopes."""

import time

import jwt
import pytest
import sqlalchemy as sa
from nameko.standalone.rpc import ServiceRpcClient

from services.chassis.errors import Conflict, InvalidInput, NotAuthenticated, PermissionDenied, RateLimited
from services.identity.contract import public_key_from_jwk
from services.identity.models import Account
from tests.support.actors import COUNTY, center_admin

PASSWORD = "a-long-password"


@pytest.fixture
def services(network):
    """identity and centers (see `network`), with identity's client."""
    with ServiceRpcClient("identity", timeout=15) as identity:
        yield identity, network


def account(username, role, scope=None):
    return {
        "username": username,
        "password": PASSWORD,
        "role": role,
        "scope_center_id": scope,
        "display_name": username,
    }


def test_a_token_verifies_with_the_published_key_only(services):
    identity, _ = services
    issued = identity.issue_token({"username": "root", "password": PASSWORD}, "127.0.0.1")
    [published] = identity.public_keys()
    token = issued["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == published["kid"]
    claims = jwt.decode(token, public_key_from_jwk(published), algorithms=["EdDSA"], audience="wenming-api")
    assert (claims["role"], claims["scope"], claims["iss"]) == ("county_admin", None, "wenming")
    assert claims["exp"] - time.time() == pytest.approx(issued["expires_in"], abs=5)
    assert identity.current_account(claims["sub"])["username"] == "root"


def test_wrong_credentials_are_refused_alike_and_limited_per_username_and_address(services):
    identity, _ = services
    for credentials in ({"username": "nobody", "password": "x"}, {"username": "root", "password": "wrong"}):
        with pytest.raises(NotAuthenticated) as refused:
            identity.issue_token(credentials, "10.0.0.1")
        assert refused.value.code == "auth.invalid_credentials"
    for _ in range(4):
        with pytest.raises(NotAuthenticated):
            identity.issue_token({"username": "root", "password": "wrong"}, "10.0.0.1")
    with pytest.raises(RateLimited) as limited:
        identity.issue_token({"username": "root", "password": PASSWORD}, "10.0.0.1")
    assert limited.value.retry_after >= 1
    assert identity.issue_token({"username": "root", "password": PASSWORD}, "10.0.0.2")["token_type"] == "Bearer"


def test_accounts_are_created_within_the_creators_scope(services, identity_db):
    identity, tree = services
    made = identity.create_account(account("admin.a", "center_admin", tree["a"]), COUNTY)
    assert made["scope_center_id"] == tree["a"] and "password" not in made
    admin_a = center_admin(tree["a"])
    assert identity.create_account(account("admin.a1", "center_admin", tree["a1"]), admin_a)["role"] == "center_admin"
    refusals = [
        (PermissionDenied, "account.scope_forbidden", account("admin.c", "center_admin", tree["county"]), admin_a),
        (PermissionDenied, "account.role_forbidden", account("boss", "county_admin"), admin_a),
        (Conflict, "account.username_taken", account("admin.a", "volunteer"), COUNTY),
        (InvalidInput, "center.unknown", account("ghost", "center_admin", 999_999), COUNTY),
        (InvalidInput, "account.scope_required", account("nowhere", "center_admin"), COUNTY),
        (InvalidInput, "input.invalid", {"username": "x"}, COUNTY),
    ]
    for error, code, data, actor in refusals:
        with pytest.raises(error) as refused:
            identity.create_account(data, actor)
        assert refused.value.code == code
    engine = sa.create_engine(identity_db, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        usernames = connection.execute(sa.select(Account.username).order_by(Account.id)).scalars().all()
        hashes = connection.execute(sa.select(Account.password_hash)).scalars().all()
    engine.dispose()
    assert usernames == ["root", "admin.a", "admin.a1"]  # refused commands changed nothing
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_a_deactivated_or_unknown_account_is_not_current(services, identity_db):
    identity, _ = services
    with pytest.raises(NotAuthenticated):
        identity.current_account("424242")
    engine = sa.create_engine(identity_db, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.update(Account).values(active=False))
    engine.dispose()
    with pytest.raises(NotAuthenticated):
        identity.issue_token({"username": "root", "password": PASSWORD}, "127.0.0.1")
