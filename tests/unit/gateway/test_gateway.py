"""The gateway's pure parts, without a broker: read model, problems, tokens, the login
limiter, idempotency fingerprints, route declarations and who may create whom."""

import time

import jwt
import pytest
from openapi_spec_validator import validate

from gateway import accounts, idempotency, openapi, problems
from gateway.auth import Authenticated, Public, Roles
from gateway.http import bind_routes, query_values, request_id_from
from gateway.ratelimit import RateLimiter
from gateway.read_model import CenterReadModel
from gateway.routes import ROUTES
from gateway.routes.centers import expected_version
from gateway.routing import Edge, RouteTable, collect
from gateway.tokens import ConfigError, Tokens, check_secret
from services.centers.contract import CenterListQuerySchema
from services.chassis.actors import Actor
from services.chassis.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable

SECRET = "s" * 40


def center(id, parent_id=None, version=1, **extra):
    return {"id": id, "parent_id": parent_id, "version": version, "name": f"c{id}", **extra}


class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


# -- read model ----------------------------------------------------------------------------


def test_read_model_keeps_the_higher_version_whatever_the_order():
    model = CenterReadModel()
    assert model.apply(center(1, version=2, name="new"))
    assert not model.apply(center(1, version=1, name="old"))
    assert not model.apply(center(1, version=2, name="dup"))
    assert model.get(1)["name"] == "new"
    assert model.get_encoded(1) == b'{"id":1,"parent_id":null,"version":2,"name":"new"}'


def test_read_model_ancestors_follow_parent_ids():
    model = CenterReadModel()
    model.load([center(1), center(2, 1), center(3, 2)])
    assert [c["id"] for c in model.ancestors(3)] == [1, 2]
    assert model.ancestors(1) == []
    assert model.is_within(3, 1) and model.is_within(3, 3) and not model.is_within(1, 3)
    model.apply(center(5, 4))  # parent 4 unknown: no answer rather than a wrong one
    assert model.ancestors(5) is None and model.is_within(5, 1) is None


def test_read_model_resync_is_due_until_loaded_then_every_interval():
    clock = Clock()
    model = CenterReadModel(clock=clock, resync_seconds=60)
    assert model.resync_due()
    model.load([])
    assert not model.resync_due()
    clock.now += 60
    assert model.resync_due()


def test_a_resync_heals_a_missed_event():
    model = CenterReadModel()
    model.load([center(1, version=1)])
    model.load([center(1, version=3, name="healed")])  # versions 2 and 3 were never delivered
    assert model.get(1)["name"] == "healed"


# -- problems ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error, status",
    [
        (InvalidInput("center.x", "bad", {"name": ["too long"]}), 422),
        (NotFound("center.not_found", "no"), 404),
        (Conflict("center.version_conflict", "stale"), 409),
        (ServiceUnavailable("service.unavailable", "down"), 503),
    ],
)
def test_chassis_errors_map_generically(error, status):
    problem = problems.to_problem(error)
    body = problems.render(problem, "rid")
    assert body["status"] == status and body["code"] == error.code and body["detail"] == error.message
    assert body["request_id"] == "rid" and body["type"].endswith(error.code)
    assert body.get("errors", {}) == error.fields


def test_unexpected_errors_are_opaque_500s():
    body = problems.render(problems.to_problem(KeyError("secret internals")), "rid")
    assert body["status"] == 500 and "secret" not in str(body)


# -- tokens --------------------------------------------------------------------------------


def test_a_token_round_trips_and_is_cached_until_it_expires():
    clock = Clock(time.time())  # PyJWT checks exp against the real clock
    tokens = Tokens(SECRET, ttl_seconds=60, clock=clock)
    token = tokens.issue(7, "center_admin", 3)
    assert tokens.verify(token) == Actor("7", "center_admin", 3)
    assert tokens.verify(token) is tokens.verify(token)  # second time: from the cache
    clock.now += 61
    with pytest.raises(problems.Problem) as refused:
        tokens.verify(token)
    assert refused.value.status == 401 and refused.value.code == "auth.token_expired"


@pytest.mark.parametrize(
    "claims, algorithm, key",
    [
        ({"iss": "wenming", "aud": "wenming-api", "sub": "1", "role": "county_admin"}, "HS256", SECRET),  # no exp
        ({"iss": "other", "aud": "wenming-api", "exp": 9e9, "sub": "1", "role": "county_admin"}, "HS256", SECRET),
        ({"iss": "wenming", "aud": "other", "exp": 9e9, "sub": "1", "role": "county_admin"}, "HS256", SECRET),
        ({"iss": "wenming", "aud": "wenming-api", "exp": 9e9, "sub": "1", "role": "county_admin"}, "HS256", "k" * 40),
        ({"iss": "wenming", "aud": "wenming-api", "exp": 9e9, "sub": "1", "role": "county_admin"}, "HS512", SECRET),
        ({"iss": "wenming", "aud": "wenming-api", "exp": 9e9, "sub": "1", "role": "root"}, "HS256", SECRET),
    ],
)
def test_tokens_are_refused_unless_every_check_passes(claims, algorithm, key):
    token = jwt.encode(claims, key, algorithm=algorithm)
    with pytest.raises(problems.Problem) as refused:
        Tokens(SECRET).verify(token)
    assert refused.value.status == 401
    assert 'error="invalid_token"' in refused.value.headers["WWW-Authenticate"]


def test_an_unsigned_token_is_refused():
    token = jwt.encode(
        {"iss": "wenming", "aud": "wenming-api", "exp": 9e9, "sub": "1", "role": "county_admin"}, None, algorithm="none"
    )
    with pytest.raises(problems.Problem):
        Tokens(SECRET).verify(token)


def test_a_missing_or_short_secret_refuses_to_start_unless_demo():
    with pytest.raises(ConfigError):
        check_secret(None)
    with pytest.raises(ConfigError):
        check_secret("short")
    assert check_secret(SECRET) == SECRET
    assert len(check_secret(None, demo=True)) >= 32


def test_the_token_cache_is_bounded():
    tokens = Tokens(SECRET, cache_size=2)
    for account in range(5):
        tokens.verify(tokens.issue(account, "volunteer", None))
    assert len(tokens._cache) == 2


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


# -- idempotency ---------------------------------------------------------------------------


def test_fingerprints_ignore_json_formatting_but_not_content():
    a = idempotency.fingerprint("POST", "/api/v1/centers", {"a": 1, "b": [1, 2]})
    assert a == idempotency.fingerprint("POST", "/api/v1/centers", {"b": [1, 2], "a": 1})
    assert a != idempotency.fingerprint("POST", "/api/v1/centers", {"a": 2, "b": [1, 2]})
    assert a != idempotency.fingerprint("POST", "/api/v1/centers/1/venues", {"a": 1, "b": [1, 2]})


@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "中文"])
def test_malformed_idempotency_keys_are_refused(key):
    with pytest.raises(problems.Problem) as refused:
        idempotency.check_key(key)
    assert refused.value.status == 400


# -- routes --------------------------------------------------------------------------------

EXPECTED_ROUTES = {
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/me"),
    ("POST", "/api/v1/accounts"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/centers"),
    ("POST", "/api/v1/centers"),
    ("GET", "/api/v1/centers/<int:center_id>"),
    ("PATCH", "/api/v1/centers/<int:center_id>"),
    ("POST", "/api/v1/centers/<int:center_id>/move"),
    ("POST", "/api/v1/centers/<int:center_id>/status"),
    ("GET", "/api/v1/centers/<int:center_id>/subtree"),
    ("GET", "/api/v1/centers/<int:center_id>/ancestors"),
    ("GET", "/api/v1/centers/<int:center_id>/stats"),
    ("GET", "/api/v1/centers/<int:center_id>/venues"),
    ("POST", "/api/v1/centers/<int:center_id>/venues"),
    ("GET", "/api/v1/venues/<int:venue_id>"),
    ("PATCH", "/api/v1/venues/<int:venue_id>"),
    ("DELETE", "/api/v1/venues/<int:venue_id>"),
}


def test_every_route_is_declared_once_with_its_rule():
    specs = ROUTES
    assert {(s.method, s.path) for s in specs} == EXPECTED_ROUTES
    rules = {(s.method, s.path): s.auth for s in specs}
    assert isinstance(rules[("POST", "/api/v1/auth/token")], Public)
    assert isinstance(rules[("GET", "/api/v1/openapi.json")], Public)
    assert type(rules[("GET", "/api/v1/centers/<int:center_id>")]) is Authenticated
    for (method, path), rule in rules.items():
        if method != "GET" and path != "/api/v1/auth/token":
            assert isinstance(rule, Roles) and rule.roles == ("county_admin", "center_admin")


def test_the_openapi_document_is_valid_and_lists_every_route_with_its_security():
    document = openapi.build(ROUTES)
    validate(document)
    operations = {(method.upper(), path): op for path, item in document["paths"].items() for method, op in item.items()}
    assert set(operations) == {(m, openapi.openapi_path(p)) for m, p in EXPECTED_ROUTES}
    assert operations[("POST", "/api/v1/auth/token")]["security"] == []
    assert operations[("GET", "/api/v1/centers/{center_id}")]["security"] == [{"bearer": []}]
    create = operations[("POST", "/api/v1/centers")]
    assert {"201", "401", "403", "409", "413", "422", "503"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    listing = {p["name"] for p in operations[("GET", "/api/v1/centers")]["parameters"]}
    assert {"level", "parent_id", "status", "platform", "code", "q", "within", "page", "page_size"} <= listing


def test_routes_from_any_module_are_served_and_documented_with_the_503_of_their_backend():
    table = RouteTable(tag="extra", calls=("volunteers",))

    @table.route("GET", "/api/v1/extra", auth=Authenticated(), summary="A route in another module")
    def extra_route(edge, call):
        return edge.rpc("volunteers").ping()

    specs = collect([ROUTES, table])
    operation = openapi.build(specs)["paths"]["/api/v1/extra"]["get"]
    assert operation["operationId"] == "extra_route" and "503" in operation["responses"]

    class Service:
        name = "gateway-test"

    bind_routes(Service, specs)
    assert hasattr(Service, "extra_route") and hasattr(Service, "volunteers")  # entrypoint and RPC


def test_two_routes_with_one_method_and_path_are_refused():
    table = RouteTable(tag="dup")

    @table.route("GET", "/api/v1/me", auth=Authenticated(), summary="Again")
    def me_again(edge, call):
        return {}

    with pytest.raises(ValueError):
        collect([ROUTES, table])


def test_a_handler_may_call_only_the_services_its_route_declares():
    spec = next(s for s in ROUTES if s.name == "get_center")
    edge = Edge(spec, lambda service: f"proxy of {service}", shared=None, db=None)
    assert edge.rpc("centers") == "proxy of centers"
    with pytest.raises(LookupError):
        edge.rpc("volunteers")


def test_query_strings_become_integers_only_for_integer_fields():
    schema = CenterListQuerySchema()
    assert query_values(schema, {"parent_id": "5", "q": "12", "page": "x"}) == {"parent_id": 5, "q": "12", "page": "x"}


def test_request_ids_are_taken_when_safe_and_made_otherwise():
    assert request_id_from("abc-DEF_123") == "abc-DEF_123"
    for bad in (None, "", "x" * 65, "a b", "a\nb"):
        made = request_id_from(bad)
        assert made != bad and len(made) == 32


def test_if_match_gives_the_expected_version():
    assert expected_version(None) is None
    assert expected_version("*") is None
    assert expected_version('"7"') == 7
    assert expected_version('W/"7"') == 7
    with pytest.raises(problems.Problem) as refused:
        expected_version("seven")
    assert refused.value.status == 400


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
    root = creator.scope_center_id if creator.role == "center_admin" else scope
    accounts.check_may_create(creator, role, scope, TREE(scope, root) if scope is not None else None)


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
    with pytest.raises(problems.Problem) as refused:
        may_create(creator, role, scope)
    assert refused.value.status == 403


def test_a_center_admin_account_needs_a_scope():
    with pytest.raises(InvalidInput) as refused:
        may_create(COUNTY, "center_admin", None)
    assert "scope_center_id" in refused.value.fields


def test_passwords_are_hashed_with_argon2id():
    hashed = accounts.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert accounts.password_matches(hashed, "correct horse battery")
    assert not accounts.password_matches(hashed, "wrong")
    assert not accounts.password_matches("not a hash", "wrong")
