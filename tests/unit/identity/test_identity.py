"""The identity service's pure parts: who may create whom, the login limiter, password
hashing and the signing keys."""

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.chassis.actors import Actor
from services.chassis.errors import InvalidInput, PermissionDenied
from services.identity import domain, service
from services.identity.contract import public_key_from_jwk
from services.identity.keys import SigningKeyError, SigningKeys, key_id, new_private_pem
from services.identity.ratelimit import RateLimiter
from tests.support.clock import Clock

# -- login limiter -------------------------------------------------------------------------


def test_failed_logins_are_limited_per_key_and_refill():
    clock = Clock()
    limiter = RateLimiter(capacity=3, refill_per_second=1 / 10, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("a") == 0
        limiter.hit("a")
    assert limiter.retry_after("a") == 10
    assert limiter.retry_after("b") == 0  # another username or address is not affected
    clock.now += 10
    assert limiter.retry_after("a") == 0


def test_the_limiter_forgets_refilled_buckets_when_full():
    clock = Clock()
    limiter = RateLimiter(capacity=1, refill_per_second=1, max_keys=2, clock=clock)
    limiter.hit("a")
    limiter.hit("b")
    clock.now += 5
    limiter.hit("c")
    assert set(limiter._buckets) == {"c"}


# -- keys ----------------------------------------------------------------------------------


def test_keys_have_stable_ids_and_publish_the_previous_public_keys_during_a_rotation():
    old, new = SigningKeys(new_private_pem()), new_private_pem()
    old_public = old.private_key.public_key()
    rotated = SigningKeys(new, old_public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode())
    assert SigningKeys(new).kid == rotated.kid != old.kid  # the id comes from the key itself
    assert [key["kid"] for key in rotated.jwks()] == [rotated.kid, old.kid]
    assert key_id(public_key_from_jwk(rotated.jwks()[1])) == old.kid


@pytest.mark.parametrize("pem", ["", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_an_unusable_key_refuses_to_start(pem):
    with pytest.raises(SigningKeyError):
        SigningKeys(pem)


# -- who may create whom -------------------------------------------------------------------


def within(tree):
    """is_within over {child: parent}."""

    def check(center_id, root_id):
        while center_id is not None:
            if center_id == root_id:
                return True
            center_id = tree.get(center_id)
        return False

    return check


TREE = within({2: 1, 3: 2, 4: 1})


def may_create(creator, role, scope):
    """check_may_create as the route calls it, with the scope answer the centers service gives."""
    root = domain.scope_root(creator, scope)
    domain.check_may_create(creator, role, scope, TREE(scope, root) if scope is not None else None)


COUNTY = Actor("1", "county_admin", None)
ADMIN_OF_2 = Actor("2", "center_admin", 2)


@pytest.mark.parametrize(
    "creator, role, scope",
    [
        (COUNTY, "county_admin", None),
        (COUNTY, "center_admin", 4),
        (ADMIN_OF_2, "volunteer", None),
        (ADMIN_OF_2, "team_leader", 3),
        (ADMIN_OF_2, "center_admin", 3),
        (ADMIN_OF_2, "center_admin", 2),
    ],
)
def test_allowed_account_creations(creator, role, scope):
    may_create(creator, role, scope)


@pytest.mark.parametrize(
    "creator, role, scope",
    [
        (ADMIN_OF_2, "county_admin", None),
        (ADMIN_OF_2, "center_admin", 4),
        (ADMIN_OF_2, "center_admin", 1),
        (ADMIN_OF_2, "volunteer", 4),
        (Actor("9", "team_leader", 2), "volunteer", None),
    ],
)
def test_refused_account_creations(creator, role, scope):
    with pytest.raises(PermissionDenied):
        may_create(creator, role, scope)


def test_a_center_admin_account_needs_a_scope():
    with pytest.raises(InvalidInput) as refused:
        may_create(COUNTY, "center_admin", None)
    assert "scope_center_id" in refused.value.fields


def test_passwords_are_hashed_with_argon2id():
    hashed = service.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert service.password_matches(hashed, "correct horse battery")
    assert not service.password_matches(hashed, "wrong")
    assert not service.password_matches("not a hash", "wrong")
