"""The login policy's pure parts: usernames normalized, the password policy, failed logins
limited per address and per username, and the bound on password hashing."""

import threading

import pytest

from services.chassis.errors import InvalidInput, RateLimited
from services.chassis.schemas import load
from services.identity import domain
from services.identity.contract import AccountCreateSchema, TokenRequestSchema, normalize_username
from services.identity.logins import HashingGate, LoginGuard, address_key
from tests.support.clock import Clock

# -- usernames -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, stored",
    [
        ("ca1", "ca1"),
        ("CA1", "ca1"),
        ("ＣＡ１", "ca1"),
        ("Admin.Zhang", "admin.zhang"),
        ("ﬁne", "fine"),
        ("ǅ.x", "dž.x"),
    ],
)
def test_usernames_are_nfkc_and_case_folded(given, stored):
    assert normalize_username(given) == stored
    assert load(TokenRequestSchema, {"username": given, "password": "x"})["username"] == stored


def account(username, password="violet-harbor-17-kites"):
    return {"username": username, "password": password, "role": "volunteer", "display_name": "志愿者"}


@pytest.mark.parametrize(
    "username",
    ["admin\n", "admin\r\n", " admin", "admin ", "admin\u3000", "ad\u200bmin", "ad\x00min", "\ud800ad", "ad\u202emin"],
)
def test_control_characters_and_surrounding_whitespace_are_refused_at_login_and_creation(username):
    for schema, data in (
        (TokenRequestSchema(), {"username": username, "password": "x"}),
        (AccountCreateSchema(), account(username)),
    ):
        with pytest.raises(InvalidInput) as refused:
            load(schema, data)
        assert refused.value.code == "input.invalid"
        assert list(refused.value.fields) == ["username"] and refused.value.fields["username"][0]


def test_a_created_username_is_checked_in_its_normalized_form():
    assert load(AccountCreateSchema, account("ＶＯＬ.1"))["username"] == "vol.1"
    with pytest.raises(InvalidInput) as refused:
        load(AccountCreateSchema, account("张三"))  # the allowed characters are unchanged
    assert "username" in refused.value.fields


# -- the password policy -------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, code",
    [
        ("short-1", "account.password_too_short"),
        ("zhang.wei2024", "account.password_contains_username"),
        ("xx-ZHANG.WEI-xx-42", "account.password_contains_username"),
        ("1qaz2wsx3edc", "account.password_common"),
        ("Password1234", "account.password_common"),
        ("qwertyuiop12345", "account.password_common"),
        ("abcdefgh12345678", "account.password_weak"),
        ("Qazwsx123456!", "account.password_weak"),
        ("aaaaaaaaaaaaaaaa", "account.password_weak"),
    ],
)
def test_weak_passwords_are_refused_with_a_code_per_reason(password, code):
    with pytest.raises(InvalidInput) as refused:
        domain.check_password(password, "zhang.wei", "张伟")
    assert refused.value.code == code
    assert list(refused.value.fields) == ["password"] and refused.value.fields["password"][0]


@pytest.mark.parametrize(
    "password", ["violet-harbor-17-kites", "a-long-password", "wenming-demo-2026", "x" * 60 + "Q7#z!m2"]
)
def test_good_passwords_pass(password):
    domain.check_password(password, "zhang.wei", "张伟")


# -- failed logins -------------------------------------------------------------------------


def fail(guard, username, address, times=1):
    for _ in range(times):
        assert guard.retry_after(username, address) == 0
        guard.failed(username, address)


def test_failures_are_limited_per_username_and_address():
    clock = Clock()
    guard = LoginGuard(per_pair=(3, 10), clock=clock)
    fail(guard, "root", "10.0.0.1", 3)
    assert guard.retry_after("root", "10.0.0.1") == 10
    assert guard.retry_after("root", "10.0.0.2") == 0  # the owner elsewhere is not held up
    clock.now += 10
    assert guard.retry_after("root", "10.0.0.1") == 0


def test_spraying_many_usernames_from_one_address_is_limited():
    clock = Clock()
    guard = LoginGuard(per_address=(5, 6), clock=clock)
    for n in range(5):
        fail(guard, f"user{n}", "10.0.0.1")
    assert guard.retry_after("someone.else", "10.0.0.1") == 6
    assert guard.retry_after("someone.else", "10.0.0.2") == 0
    clock.now += 6
    assert guard.retry_after("someone.else", "10.0.0.1") == 0


def test_guessing_one_username_from_many_addresses_is_limited_but_not_from_a_known_address():
    clock = Clock()
    guard = LoginGuard(per_username=(4, 6), clock=clock)
    guard.succeeded("root", "10.9.9.9")  # where the owner logged in before
    for n in range(4):
        fail(guard, "root", f"10.0.0.{n}")
    assert guard.retry_after("root", "10.0.0.200") == 6  # an unknown address waits a few seconds
    assert guard.retry_after("root", "10.9.9.9") == 0  # the owner's address is not held up
    assert guard.retry_after("other", "10.0.0.200") == 0
    clock.now += 6
    assert guard.retry_after("root", "10.0.0.200") == 0


def test_a_known_address_expires_and_is_still_held_to_its_own_limit():
    clock = Clock()
    guard = LoginGuard(per_pair=(2, 10), per_username=(1, 60), known_seconds=100, clock=clock)
    guard.succeeded("root", "10.9.9.9")
    fail(guard, "root", "10.0.0.1")
    fail(guard, "root", "10.9.9.9", 2)
    assert guard.retry_after("root", "10.9.9.9") == 10  # its (username, address) bucket is empty
    clock.now += 101
    assert guard.retry_after("root", "10.9.9.9") > 0


def test_ipv6_clients_are_limited_per_64_and_mapped_ipv4_as_ipv4():
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert address_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert address_key("") == ""
    guard = LoginGuard(per_pair=(1, 10), clock=Clock())
    fail(guard, "root", "2001:db8:1:2::1")
    assert guard.retry_after("root", "2001:db8:1:2::99") == 10


# -- the bound on hashing ------------------------------------------------------------------


def test_logins_beyond_the_hashing_slots_and_queue_are_refused_at_once():
    gate = HashingGate(concurrency=1, queue=1)
    hashing, release, waiting_done = threading.Event(), threading.Event(), threading.Event()

    def first():
        with gate.login():
            hashing.set()
            release.wait(5)

    def second():
        with gate.login():
            waiting_done.set()

    threads = [threading.Thread(target=first)]
    threads[0].start()
    hashing.wait(5)
    threads.append(threading.Thread(target=second))
    threads[1].start()
    for _ in range(100):  # until the second has taken its place in the queue
        if gate._admitted == 2:
            break
        threading.Event().wait(0.01)
    with pytest.raises(RateLimited) as refused, gate.login():
        pass
    assert (refused.value.code, refused.value.retry_after) == ("auth.busy", 1)
    release.set()
    for thread in threads:
        thread.join(5)
    assert waiting_done.is_set() and gate._admitted == 0
    with gate.login():  # free again
        pass
