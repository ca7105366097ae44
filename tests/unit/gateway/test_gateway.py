"""The gateway's pure parts, without a broker: read model, problems, token verification,
idempotency keys and fingerprints, route declarations."""

import time

import jwt
import pytest
from openapi_spec_validator import validate

from gateway import idempotency, openapi, problems
from gateway.app import build_app, query_values, request_id_from, starlette_path
from gateway.auth import Authenticated, Public, Roles
from gateway.circuit import CircuitBreaker, CircuitOpen
from gateway.read_model import CenterReadModel
from gateway.routes import ROUTES
from gateway.routes.centers import expected_version
from gateway.routing import Call, Edge, RouteTable, collect
from gateway.tokens import TokenVerifier
from services.centers.contract import CenterListQuerySchema
from services.chassis.actors import Actor
from services.chassis.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from services.identity.keys import SigningKeys, issue_token, new_private_pem
from tests.support.clock import Clock


def center(id, parent_id=None, version=1, **extra):
    return {"id": id, "parent_id": parent_id, "version": version, "name": f"c{id}", **extra}


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

KEYS = SigningKeys(new_private_pem())
OTHER_KEYS = SigningKeys(new_private_pem())


def verifier(clock=time.time, cache_size=10_000, keys=KEYS):
    tokens = TokenVerifier(cache_size=cache_size, clock=clock)
    tokens.use_keys(keys.jwks())
    return tokens


def minted(account_id="7", role="center_admin", scope=3, ttl=60, keys=KEYS):
    return issue_token(keys, account_id, role, scope, ttl, int(time.time()))


def test_a_token_is_verified_with_the_public_key_and_cached_until_it_expires():
    clock = Clock(time.time())  # PyJWT checks exp against the real clock
    tokens = verifier(clock)
    token = minted()
    assert tokens.verify(token) == Actor("7", "center_admin", 3)
    assert tokens.verify(token) is tokens.verify(token)  # second time: from the cache
    clock.now += 61
    with pytest.raises(problems.Problem) as refused:
        tokens.verify(token)
    assert refused.value.status == 401 and refused.value.code == "auth.token_expired"


def _claims(**overrides):
    return {"iss": "wenming", "aud": "wenming-api", "exp": 9e9, "sub": "1", "role": "county_admin", **overrides}


@pytest.mark.parametrize(
    "make_token",
    [
        lambda: minted(keys=OTHER_KEYS),  # a key the identity service did not publish
        lambda: jwt.encode(_claims(), KEYS.private_key, algorithm="EdDSA"),  # no key id
        lambda: jwt.encode(_claims(iss="other"), KEYS.private_key, algorithm="EdDSA", headers={"kid": KEYS.kid}),
        lambda: jwt.encode(_claims(aud="other"), KEYS.private_key, algorithm="EdDSA", headers={"kid": KEYS.kid}),
        lambda: jwt.encode(_claims(role="root"), KEYS.private_key, algorithm="EdDSA", headers={"kid": KEYS.kid}),
        lambda: jwt.encode(_claims(scope="1"), KEYS.private_key, algorithm="EdDSA", headers={"kid": KEYS.kid}),
        lambda: jwt.encode(
            {k: v for k, v in _claims().items() if k != "exp"},
            KEYS.private_key,
            algorithm="EdDSA",
            headers={"kid": KEYS.kid},
        ),
        # algorithm confusion: an HMAC keyed with the published public key
        lambda: jwt.encode(_claims(), "x" * 32, algorithm="HS256", headers={"kid": KEYS.kid}),
        lambda: jwt.encode(_claims(), None, algorithm="none", headers={"kid": KEYS.kid}),
        lambda: "not-a-jwt",
    ],
)
def test_tokens_are_refused_unless_every_check_passes(make_token):
    with pytest.raises(problems.Problem) as refused:
        verifier().verify(make_token())
    assert refused.value.status == 401
    assert 'error="invalid_token"' in refused.value.headers["WWW-Authenticate"]


def test_without_published_keys_tokens_cannot_be_checked_yet():
    with pytest.raises(ServiceUnavailable):
        TokenVerifier().verify(minted())


def test_a_key_no_longer_published_stops_verifying_even_cached_tokens():
    tokens = verifier()
    token = minted()
    tokens.verify(token)
    tokens.use_keys(OTHER_KEYS.jwks())
    with pytest.raises(problems.Problem):
        tokens.verify(token)


def test_the_token_cache_is_bounded():
    tokens = verifier(cache_size=2)
    for account in range(5):
        tokens.verify(minted(account_id=account))
    assert len(tokens._cache) == 2


# -- idempotency ---------------------------------------------------------------------------


def test_fingerprints_ignore_json_formatting_but_not_content():
    a = idempotency.fingerprint("POST", "/api/v1/centers", {"a": 1, "b": [1, 2]})
    assert a == idempotency.fingerprint("POST", "/api/v1/centers", {"b": [1, 2], "a": 1})
    assert a != idempotency.fingerprint("POST", "/api/v1/centers", {"a": 2, "b": [1, 2]})
    assert a != idempotency.fingerprint("POST", "/api/v1/centers/1/venues", {"a": 1, "b": [1, 2]})


def account_call(key, password="a-long-password"):
    payload = {"username": "vol.1", "password": password, "role": "volunteer", "display_name": "志愿者"}
    headers = {} if key is None else {"Idempotency-Key": key}
    return Call(
        "POST", "/api/v1/accounts", headers, "127.0.0.1", "r1", principal=Actor("5", "county_admin"), payload=payload
    )


CREATE_ACCOUNT = next(s for s in ROUTES if s.name == "create_account")


def test_the_key_reaches_the_service_scoped_to_the_account_without_any_secret_in_its_fingerprint():
    context = idempotency.context(account_call("k-1"), CREATE_ACCOUNT)
    assert context["idempotency_key"] == "5/k-1"
    # a password cannot be guessed back from the fingerprint: it is not in it
    assert context == idempotency.context(account_call("k-1", password="another-password"), CREATE_ACCOUNT)
    assert idempotency.context(account_call(None), CREATE_ACCOUNT) == {}


@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "中文"])
def test_malformed_idempotency_keys_are_refused(key):
    with pytest.raises(problems.Problem) as refused:
        idempotency.context(account_call(key), CREATE_ACCOUNT)
    assert refused.value.status == 400


# -- routes --------------------------------------------------------------------------------

EXPECTED_ROUTES = {
    ("GET", "/api/v1/activities"),
    ("POST", "/api/v1/activities"),
    ("GET", "/api/v1/activities/<int:activity_id>"),
    ("PATCH", "/api/v1/activities/<int:activity_id>"),
    ("POST", "/api/v1/activities/<int:activity_id>/publish"),
    ("POST", "/api/v1/activities/<int:activity_id>/start"),
    ("POST", "/api/v1/activities/<int:activity_id>/complete"),
    ("POST", "/api/v1/activities/<int:activity_id>/cancel"),
    ("POST", "/api/v1/activities/<int:activity_id>/signup"),
    ("GET", "/api/v1/activities/<int:activity_id>/signup"),
    ("POST", "/api/v1/activities/<int:activity_id>/signup/cancel"),
    ("POST", "/api/v1/activities/<int:activity_id>/check-in"),
    ("POST", "/api/v1/activities/<int:activity_id>/check-out"),
    ("GET", "/api/v1/me/signups"),
    ("GET", "/api/v1/activities/<int:activity_id>/signups"),
    ("POST", "/api/v1/activities/<int:activity_id>/signups/<int:volunteer_id>/remove"),
    ("POST", "/api/v1/activities/<int:activity_id>/attendance"),
    ("GET", "/api/v1/series"),
    ("POST", "/api/v1/series"),
    ("GET", "/api/v1/series/<int:series_id>"),
    ("POST", "/api/v1/series/<int:series_id>/generate"),
    ("PATCH", "/api/v1/series/<int:series_id>/from/<int:activity_id>"),
    ("POST", "/api/v1/series/<int:series_id>/end"),
    ("GET", "/api/v1/activities/<int:activity_id>/ledger"),
    ("PUT", "/api/v1/activities/<int:activity_id>/ledger"),
    ("POST", "/api/v1/activities/<int:activity_id>/files"),
    ("GET", "/api/v1/activities/<int:activity_id>/files"),
    ("GET", "/api/v1/activities/<int:activity_id>/files/<int:file_id>"),
    ("DELETE", "/api/v1/activities/<int:activity_id>/files/<int:file_id>"),
    ("POST", "/api/v1/activities/<int:activity_id>/record"),
    ("GET", "/api/v1/centers/<int:center_id>/ledger-export"),
    ("GET", "/api/v1/centers/<int:center_id>/activities.ics"),
    ("GET", "/api/v1/calendars/<token>.ics"),
    ("POST", "/api/v1/me/calendar"),
    ("DELETE", "/api/v1/me/calendar"),
    ("GET", "/api/v1/centers/<int:center_id>/activity-statistics"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/me"),
    ("POST", "/api/v1/accounts"),
    ("POST", "/api/v1/auth/logout"),
    ("PATCH", "/api/v1/accounts/<int:account_id>"),
    ("POST", "/api/v1/accounts/<int:account_id>/deactivation"),
    ("POST", "/api/v1/accounts/<int:account_id>/reactivation"),
    ("GET", "/api/v1/accounts/<int:account_id>/audit"),
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
    # the volunteers service's parts
    ("GET", "/api/v1/backfills"),
    ("GET", "/api/v1/backfills/<int:backfill_id>"),
    ("POST", "/api/v1/backfills/<int:backfill_id>/approve"),
    ("GET", "/api/v1/backfills/<int:backfill_id>/photos/<int:position>"),
    ("POST", "/api/v1/backfills/<int:backfill_id>/reject"),
    ("GET", "/api/v1/centers/<int:center_id>/goods"),
    ("POST", "/api/v1/centers/<int:center_id>/goods"),
    ("GET", "/api/v1/centers/<int:center_id>/hours"),
    ("GET", "/api/v1/centers/<int:center_id>/redemptions"),
    ("GET", "/api/v1/certificates/<number>/verify"),
    ("GET", "/api/v1/certificates/keys"),
    ("POST", "/api/v1/certificates/verify"),
    ("GET", "/api/v1/goods/<int:goods_id>"),
    ("PATCH", "/api/v1/goods/<int:goods_id>"),
    ("POST", "/api/v1/goods/<int:goods_id>/redeem"),
    ("POST", "/api/v1/goods/<int:goods_id>/stock"),
    ("GET", "/api/v1/hour-disputes"),
    ("POST", "/api/v1/hour-entries/<int:entry_id>/dispute"),
    ("POST", "/api/v1/hour-entries/<int:entry_id>/resolve"),
    ("POST", "/api/v1/hour-entries/<int:entry_id>/revoke"),
    ("POST", "/api/v1/me/backfills"),
    ("GET", "/api/v1/me/hours"),
    ("GET", "/api/v1/me/points"),
    ("GET", "/api/v1/me/teams"),
    ("GET", "/api/v1/me/volunteer"),
    ("POST", "/api/v1/me/volunteer"),
    ("GET", "/api/v1/me/volunteer/export"),
    ("POST", "/api/v1/redemptions/<int:redemption_id>/cancellation"),
    ("GET", "/api/v1/team-kinds"),
    ("GET", "/api/v1/teams"),
    ("POST", "/api/v1/teams"),
    ("GET", "/api/v1/teams/<int:team_id>"),
    ("PATCH", "/api/v1/teams/<int:team_id>"),
    ("GET", "/api/v1/teams/<int:team_id>/applications"),
    ("POST", "/api/v1/teams/<int:team_id>/applications"),
    ("POST", "/api/v1/teams/<int:team_id>/applications/<int:application_id>/approve"),
    ("POST", "/api/v1/teams/<int:team_id>/applications/<int:application_id>/reject"),
    ("POST", "/api/v1/teams/<int:team_id>/applications/<int:application_id>/withdraw"),
    ("GET", "/api/v1/teams/<int:team_id>/hours"),
    ("POST", "/api/v1/teams/<int:team_id>/leave"),
    ("GET", "/api/v1/teams/<int:team_id>/members"),
    ("POST", "/api/v1/teams/<int:team_id>/members"),
    ("POST", "/api/v1/teams/<int:team_id>/members/<int:volunteer_id>/removal"),
    ("POST", "/api/v1/teams/<int:team_id>/status"),
    ("GET", "/api/v1/volunteer-audit"),
    ("POST", "/api/v1/volunteer-imports"),
    ("GET", "/api/v1/volunteer-imports/<int:import_id>"),
    ("GET", "/api/v1/volunteer-imports/<int:import_id>/report.csv"),
    ("GET", "/api/v1/volunteer-imports/<int:import_id>/rows"),
    ("GET", "/api/v1/volunteers"),
    ("POST", "/api/v1/volunteers"),
    ("GET", "/api/v1/volunteers/<int:volunteer_id>"),
    ("PATCH", "/api/v1/volunteers/<int:volunteer_id>"),
    ("GET", "/api/v1/volunteers/<int:volunteer_id>/certificates"),
    ("POST", "/api/v1/volunteers/<int:volunteer_id>/certificates"),
    ("GET", "/api/v1/volunteers/<int:volunteer_id>/certificates/<number>"),
    ("GET", "/api/v1/volunteers/<int:volunteer_id>/certificates/<number>/pdf"),
    ("GET", "/api/v1/volunteers/<int:volunteer_id>/hours"),
    ("GET", "/api/v1/volunteers/<int:volunteer_id>/points"),
    ("POST", "/api/v1/volunteers/<int:volunteer_id>/reveal"),
    ("POST", "/api/v1/volunteers/<int:volunteer_id>/status"),
    ("POST", "/api/v1/volunteers/<int:volunteer_id>/transfer"),
    ("GET", "/api/v1/volunteers/<int:volunteer_id>/transfers"),
    ("POST", "/api/v1/volunteers/sign-up"),
}


def test_every_route_is_declared_once_with_its_rule():
    specs = ROUTES
    assert {(s.method, s.path) for s in specs} == EXPECTED_ROUTES
    rules = {(s.method, s.path): s.auth for s in specs}
    assert isinstance(rules[("POST", "/api/v1/auth/token")], Public)
    assert isinstance(rules[("GET", "/api/v1/openapi.json")], Public)
    assert type(rules[("GET", "/api/v1/centers/<int:center_id>")]) is Authenticated
    assert type(rules[("POST", "/api/v1/auth/logout")]) is Authenticated  # anyone signs its own token out
    for (method, path), rule in rules.items():  # the network and the accounts are admins' to change
        if method != "GET" and path.startswith(("/api/v1/centers", "/api/v1/venues", "/api/v1/accounts")):
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
    async def extra_route(edge, call):
        return await edge.rpc("volunteers").ping()

    specs = collect([ROUTES, table])
    operation = openapi.build(specs)["paths"]["/api/v1/extra"]["get"]
    assert operation["operationId"] == "extra_route" and "503" in operation["responses"]

    app = build_app(specs, state=None)
    assert any(route.path == "/api/v1/extra" and route.name == "extra_route" for route in app.routes)
    assert {route.path for route in app.routes} == {starlette_path(spec.path) for spec in specs}


def test_declared_paths_become_starlette_paths():
    assert starlette_path("/api/v1/centers/<int:center_id>/venues") == "/api/v1/centers/{center_id:int}/venues"
    assert starlette_path("/api/v1/things/<name>") == "/api/v1/things/{name}"


def test_two_routes_with_one_method_and_path_are_refused():
    table = RouteTable(tag="dup")

    @table.route("GET", "/api/v1/me", auth=Authenticated(), summary="Again")
    def me_again(edge, call):
        return {}

    with pytest.raises(ValueError):
        collect([ROUTES, table])


def test_a_handler_may_call_only_the_services_its_route_declares():
    spec = next(s for s in ROUTES if s.name == "get_center")
    edge = Edge(spec, lambda service: f"proxy of {service}", shared=None)
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


# -- circuit breaker -----------------------------------------------------------------------


def test_the_circuit_opens_after_calls_without_an_answer_and_a_probe_closes_it():
    clock = Clock()
    breaker = CircuitBreaker(failures_to_open=3, open_seconds=5, clock=clock)
    for _ in range(2):
        assert breaker.retry_after("centers") == 0
        breaker.unanswered("centers")
    breaker.answered("centers")  # an answer in between: the count starts again
    for _ in range(3):
        assert breaker.retry_after("centers") == 0
        breaker.unanswered("centers")
    assert breaker.retry_after("centers") == 5 and breaker.retry_after("identity") == 0
    clock.now += 5
    assert breaker.retry_after("centers") == 0  # the probe
    assert breaker.retry_after("centers") >= 1  # others wait while it is in flight
    breaker.unanswered("centers")  # the probe failed: open again
    assert breaker.retry_after("centers") == 5
    clock.now += 5
    assert breaker.retry_after("centers") == 0
    breaker.answered("centers")
    assert breaker.retry_after("centers") == 0 and breaker.open_circuits() == []


def test_an_open_circuit_is_a_503_with_retry_after():
    problem = problems.to_problem(CircuitOpen("centers", 4))
    assert (problem.status, problem.code, problem.headers) == (503, "service.unavailable", {"Retry-After": "4"})
