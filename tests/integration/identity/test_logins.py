"""Logins and accounts hardened (issue 8, items 2 and 7), through the identity service
in-process against the real RabbitMQ, on SQLite and on PostgreSQL: failed logins limited per
address and per username without locking the owner out, hashing bounded, usernames
normalized, the password policy; and the migration that normalizes existing usernames."""

import pytest
import sqlalchemy as sa
from nameko.standalone.rpc import ServiceRpcClient

from services.chassis.db import Store
from services.chassis.errors import Conflict, InvalidInput, NotAuthenticated, RateLimited
from services.identity import migrate
from services.identity.admin import create_admin
from services.identity.keys import new_private_pem
from services.identity.models import Account, Base
from services.identity.service import IdentityService
from tests.support.actors import COUNTY

PASSWORD = "a-long-password"


@pytest.fixture
def identity(start_service, nameko_config, database_url):
    """The identity service with one county admin, `root`."""
    migrate.upgrade(database_url)
    nameko_config["IDENTITY_SIGNING_KEY"] = new_private_pem()
    start_service(IdentityService, database_url)
    store = Store(database_url, Base.metadata, source="identity")
    create_admin(store, "root", PASSWORD)
    store.dispose()
    with ServiceRpcClient("identity", timeout=15) as client:
        yield client


def login(identity, username, password, address):
    return identity.issue_token({"username": username, "password": password}, address)


def refused(identity, username, password, address):
    """The error a login gets (it must get one)."""
    with pytest.raises((NotAuthenticated, RateLimited, InvalidInput)) as error:
        login(identity, username, password, address)
    return error.value


def test_spraying_usernames_from_one_address_is_limited(identity):
    # 20 failures per address, whatever the username (one more per 6 s meanwhile)
    codes = [refused(identity, f"user{n}", "wrong-password", "10.1.0.1").code for n in range(25)]
    assert codes[:20] == ["auth.invalid_credentials"] * 20 and "auth.too_many_attempts" in codes, codes
    limited = refused(identity, "someone.else", "wrong-password", "10.1.0.1")
    assert limited.code == "auth.too_many_attempts" and 1 <= limited.retry_after <= 6
    assert refused(identity, "root", PASSWORD, "10.1.0.1").code == "auth.too_many_attempts"
    assert login(identity, "root", PASSWORD, "10.1.0.2")["token_type"] == "Bearer"  # another address is not


def test_a_burst_from_another_address_does_not_lock_the_owner_out(identity):
    for _ in range(5):
        assert refused(identity, "root", "wrong-password", "10.2.0.1").code == "auth.invalid_credentials"
    assert refused(identity, "root", "wrong-password", "10.2.0.1").code == "auth.too_many_attempts"
    assert login(identity, "root", PASSWORD, "10.2.0.2")["token_type"] == "Bearer"


def test_guessing_one_username_from_many_addresses_is_limited_except_from_a_known_address(identity):
    assert login(identity, "root", PASSWORD, "10.3.9.9")["token_type"] == "Bearer"  # the owner's usual address
    for n in range(10):  # 10 failures per username, whatever the address
        assert refused(identity, "root", "wrong-password", f"10.3.0.{n}").code == "auth.invalid_credentials"
    limited = refused(identity, "root", PASSWORD, "10.3.1.1")  # even the right password, from a new address
    assert limited.code == "auth.too_many_attempts" and 1 <= limited.retry_after <= 6  # briefly
    assert login(identity, "root", PASSWORD, "10.3.9.9")["token_type"] == "Bearer"


def test_logins_beyond_the_hashing_bound_are_refused_at_once(start_service, nameko_config, sqlite_url):
    migrate.upgrade(sqlite_url)
    nameko_config.update({"IDENTITY_SIGNING_KEY": new_private_pem(), "LOGIN_CONCURRENCY": 1, "LOGIN_QUEUE": 1})
    start_service(IdentityService, sqlite_url)
    with ServiceRpcClient("identity", timeout=15) as identity:
        calls = [
            identity.issue_token.call_async({"username": f"u{n}", "password": "wrong-password"}, f"10.4.0.{n}")
            for n in range(10)
        ]
        codes = []
        for call in calls:
            with pytest.raises((NotAuthenticated, RateLimited)) as error:
                call.result()
            codes.append(error.value.code)
    assert "auth.invalid_credentials" in codes and "auth.busy" in codes, codes
    assert codes.count("auth.invalid_credentials") < 10


def account(username, password="violet-harbor-17-kites"):
    return {"username": username, "password": password, "role": "volunteer", "display_name": "志愿者"}


def test_usernames_are_normalized_on_creation_and_login(identity, database_url):
    assert identity.create_account(account("CA1"), COUNTY)["username"] == "ca1"
    for twin in ("ca1", "Ca1", "ＣＡ１"):
        with pytest.raises(Conflict) as taken:
            identity.create_account(account(twin), COUNTY)
        assert taken.value.code == "account.username_taken"
    for spelling in ("ca1", "CA1", "ｃａ１"):
        assert login(identity, spelling, "violet-harbor-17-kites", "10.5.0.1")["token_type"] == "Bearer"
    for bad in ("admin\n", " admin", "ad\u200bmin"):
        at_login = refused(identity, bad, PASSWORD, "10.5.0.2")
        with pytest.raises(InvalidInput) as at_creation:
            identity.create_account(account(bad), COUNTY)
        for error in (at_login, at_creation.value):
            assert error.code == "input.invalid" and list(error.fields) == ["username"]
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        assert connection.execute(sa.select(Account.username).order_by(Account.id)).scalars().all() == ["root", "ca1"]
    engine.dispose()


@pytest.mark.parametrize(
    "username, password, code",
    [
        ("zhang.wei", "zhang.wei.2024", "account.password_contains_username"),
        ("zhang.wei", "Password1234", "account.password_common"),
        ("zhang.wei", "abcdefgh12345678", "account.password_weak"),
    ],
)
def test_weak_passwords_are_refused(identity, username, password, code):
    with pytest.raises(InvalidInput) as weak:
        identity.create_account(account(username, password), COUNTY)
    assert weak.value.code == code and list(weak.value.fields) == ["password"]


def test_existing_usernames_are_normalized_and_twins_deactivated(database_url):
    migrate.upgrade(database_url, "0001")
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    names = ["root", "CA1", "ca1", "Root\n", " Zhang.Wei ", "vol.1", "ＶＯＬ.2", "ca1~3"]
    with engine.begin() as connection:
        for name in names:
            connection.execute(
                sa.insert(Account).values(
                    username=name,
                    password_hash="x",
                    role="volunteer",
                    display_name=name,
                    active=True,
                    created_at=sa.func.now(),
                )
            )
    migrate.upgrade(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(Account.id, Account.username, Account.active).order_by(Account.id)).all()
    engine.dispose()
    assert [(name, active) for _, name, active in rows] == [
        ("root", True),
        ("ca1", True),
        ("ca1~3", False),  # the younger twin, renamed and deactivated
        ("root~4", False),
        ("zhang.wei", True),
        ("vol.1", True),
        ("vol.2", True),
        ("ca1~3~8", False),  # its name was taken by the renamed twin
    ]
