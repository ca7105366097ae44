"""The gateway's accounts model and the token check built on it (issue 8, item 1): a token
is refused once its account is deactivated, deleted or changed, or once it is revoked."""

import time

import jwt
import pytest

from gateway import problems
from gateway.accounts_model import AccountModel
from gateway.tokens import TokenVerifier
from services.chassis.actors import Actor
from services.chassis.errors import ServiceUnavailable
from services.identity.keys import SigningKeys, issue_token, new_private_pem
from tests.support.clock import Clock

KEYS = SigningKeys(new_private_pem())


def state(account_id="7", version=1, active=True, role="center_admin", scope=3):
    return {"id": account_id, "version": version, "active": active, "role": role, "scope_center_id": scope}


def model(*accounts, revoked=()):
    accounts_model = AccountModel(clock=Clock(), wall_clock=time.time)
    accounts_model.load(list(accounts), list(revoked))
    return accounts_model


def verifier(accounts):
    tokens = TokenVerifier(accounts=accounts)
    tokens.use_keys(KEYS.jwks())
    return tokens


def minted(account_id="7", role="center_admin", scope=3, version=1, jti=None):
    return issue_token(KEYS, account_id, role, scope, 60, int(time.time()), version=version, jti=jti)


def refusal(tokens, token):
    with pytest.raises(problems.Problem) as refused:
        tokens.verify(token)
    assert refused.value.status == 401 and 'error="invalid_token"' in refused.value.headers["WWW-Authenticate"]
    return refused.value.code


def test_a_token_of_an_active_unchanged_account_is_accepted():
    assert verifier(model(state())).verify(minted()) == Actor("7", "center_admin", 3)


def test_a_deactivation_refuses_even_a_cached_token():
    accounts = model(state())
    tokens = verifier(accounts)
    token = minted()
    tokens.verify(token)  # cached from now on
    accounts.apply_event(state(version=2, active=False))
    assert refusal(tokens, token) == "auth.account_inactive"
    accounts.apply_event(state(version=3, active=True))  # reactivated: the old token stays refused
    assert refusal(tokens, token) == "auth.token_stale"
    assert tokens.verify(minted(version=3)) == Actor("7", "center_admin", 3)


def test_a_role_or_scope_change_refuses_older_tokens():
    accounts = model(state())
    tokens = verifier(accounts)
    accounts.apply_event(state(version=2, role="volunteer", scope=None))
    assert refusal(tokens, minted()) == "auth.token_stale"
    assert tokens.verify(minted(role="volunteer", scope=None, version=2)) == Actor("7", "volunteer", None)
    # a token claiming another role at the current version is not believed either
    assert refusal(tokens, minted(role="county_admin", scope=None, version=2)) == "auth.token_stale"


def test_a_token_newer_than_the_model_is_accepted_until_a_later_change_arrives():
    accounts = model(state())
    tokens = verifier(accounts)
    newer = minted(role="team_leader", version=2)  # issued after a change whose event is on its way
    assert tokens.verify(newer) == Actor("7", "team_leader", 3)
    accounts.apply_event(state(version=3, active=False))
    assert refusal(tokens, newer) == "auth.account_inactive"


def test_unknown_and_deleted_accounts_are_refused():
    accounts = model(state(), state("8"))
    tokens = verifier(accounts)
    assert refusal(tokens, minted("9")) == "auth.account_inactive"
    tokens.verify(minted("8"))
    accounts.load([state()], [])  # a resync without account 8: deleted
    assert refusal(tokens, minted("8")) == "auth.account_inactive"


def test_a_revoked_token_is_refused_and_only_that_one():
    accounts = model(state())
    tokens = verifier(accounts)
    out, other = minted(jti="logged-out"), minted(jti="still-in")
    tokens.verify(out)
    accounts.revoke("logged-out", time.time() + 60)
    assert refusal(tokens, out) == "auth.token_revoked"
    assert tokens.verify(other) == Actor("7", "center_admin", 3)
    # a resync keeps revocations it is told of, and forgets the expired ones
    accounts.load([state()], [{"jti": "logged-out", "expires_at": int(time.time()) + 60}])
    assert refusal(tokens, out) == "auth.token_revoked"
    accounts.revoke("long-gone", time.time() - 1)
    assert "long-gone" not in accounts._revoked


def test_events_in_any_order_and_twice_keep_the_newest_version():
    accounts = model(state())
    assert accounts.apply_event(state(version=3, active=False))
    assert not accounts.apply_event(state(version=2, active=True))
    assert not accounts.apply_event(state(version=3, active=True))
    assert accounts.get("7")["active"] is False


def test_a_resync_keeps_an_account_an_event_brought_while_it_ran():
    clock = Clock()
    accounts = AccountModel(clock=clock)
    accounts.load([state()], [])
    started = accounts.now()
    clock.now += 1
    accounts.apply_event(state("9"))  # created while the snapshot was being paged
    accounts.load([state()], [], started_at=started)
    assert accounts.get("9") is not None


def test_tokens_without_version_or_id_are_invalid_where_accounts_are_checked():
    tokens = verifier(model(state()))
    claims = {"iss": "wenming", "aud": "wenming-api", "exp": time.time() + 60, "sub": "7", "role": "center_admin"}
    for extra in ({}, {"ver": 1}, {"jti": "x"}, {"ver": "1", "jti": "x"}, {"ver": 1, "jti": ""}):
        token = jwt.encode(
            {**claims, "scope": 3, **extra}, KEYS.private_key, algorithm="EdDSA", headers={"kid": KEYS.kid}
        )
        assert refusal(tokens, token) == "auth.token_invalid"


def test_before_the_first_snapshot_tokens_cannot_be_checked_yet():
    tokens = verifier(AccountModel())
    with pytest.raises(ServiceUnavailable):
        tokens.verify(minted())


def test_a_login_through_this_replica_makes_its_account_known():
    accounts = model()
    tokens = verifier(accounts)
    token = minted(version=4)
    accounts.apply(tokens.issued(token))
    assert tokens.verify(token) == Actor("7", "center_admin", 3)
    assert tokens.issued("not-a-token") is None
