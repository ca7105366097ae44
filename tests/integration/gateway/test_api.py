"""The gateway over HTTP with the centers service, both in-process on the real broker."""

import contextlib
import socket
import time

import pytest
import requests
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ServiceRpcClient
from openapi_spec_validator import validate
from prometheus_client.parser import text_string_to_metric_families

from gateway.routes import ROUTES
from services.chassis import events
from services.identity import admin
from services.identity.keys import SigningKeys, issue_token, new_private_pem
from tests.support.waiting import wait_for

COUNTY_CENTER = {"code": "yuci", "name": "榆次区新时代文明实践中心", "level": "center"}


def assert_problem(response, status, code=None, field=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["request_id"] == response.headers["X-Request-Id"]
    assert {"type", "title", "detail", "code"} <= set(body)
    if code:
        assert body["code"] == code
    if field:
        assert field in body["errors"], body
    return body


@pytest.fixture
def tree(gateway, web, county_token):
    """county (center) → a (institute) → a1 (station); county → b (institute)."""
    ids = {}

    def add(name, level, parent):
        body = {"code": f"code-{name}", "name": f"{name} 实践", "level": level, "parent_id": ids.get(parent)}
        response = web.post("/api/v1/centers", json=body, token=county_token)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]

    add("county", "center", None)
    add("a", "institute", "county")
    add("a1", "station", "a")
    add("b", "institute", "county")
    return ids


@pytest.fixture
def callers(tokens, tree):
    return {
        "county": tokens("9001", "county_admin"),
        "admin_a": tokens("9003", "center_admin", tree["a"]),
        "volunteer": tokens("9004", "volunteer"),
    }


# -- auth and accounts ---------------------------------------------------------------------


def create_root(identity_db, monkeypatch):
    monkeypatch.setenv("WENMING_ADMIN_PASSWORD", "a-long-password")
    admin.main(["create-admin", "--username", "root", "--database-url", identity_db])


def test_create_admin_is_idempotent_and_the_admin_can_log_in(identity_db, start_gateway, web, capsys, monkeypatch):
    create_root(identity_db, monkeypatch)
    create_root(identity_db, monkeypatch)
    assert "already exists" in capsys.readouterr().out
    start_gateway()

    response = web.post("/api/v1/auth/token", json={"username": "root", "password": "a-long-password"})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    me = web.get("/api/v1/me", token=token)
    assert me.status_code == 200 and me.json()["role"] == "county_admin" and me.json()["username"] == "root"
    assert "password" not in me.text and "hash" not in me.text


def test_wrong_credentials_are_401_and_repeated_failures_429(identity_db, start_gateway, web, monkeypatch):
    create_root(identity_db, monkeypatch)
    start_gateway()
    assert_problem(
        web.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"}), 401, "auth.invalid_credentials"
    )
    for _ in range(5):  # the limiter allows 5 failures per username and address
        assert_problem(web.post("/api/v1/auth/token", json={"username": "root", "password": "wrong"}), 401)
    limited = web.post("/api/v1/auth/token", json={"username": "root", "password": "a-long-password"})
    assert_problem(limited, 429, "auth.too_many_attempts")
    assert int(limited.headers["Retry-After"]) >= 1
    assert_problem(web.post("/api/v1/auth/token", json={"username": "root"}), 422, field="password")


def test_missing_or_bad_tokens_are_401_with_a_bearer_challenge(gateway, web, tokens):
    missing = assert_problem(web.get("/api/v1/centers/1"), 401, "auth.token_missing")
    assert missing and web.get("/api/v1/centers/1").headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(web.get("/api/v1/centers/1", token="not-a-jwt"), 401, "auth.token_invalid")
    basic = web.get("/api/v1/centers/1", headers={"Authorization": "Basic abc"})
    assert_problem(basic, 401, "auth.token_invalid")


def test_a_token_signed_with_any_other_key_is_refused(gateway, web, county_token):
    assert web.get("/api/v1/centers", token=county_token).status_code == 200  # the published key verifies
    forged = issue_token(SigningKeys(new_private_pem()), "9001", "county_admin", None, 3600, int(time.time()))
    assert_problem(web.get("/api/v1/centers", token=forged), 401, "auth.token_invalid")


def test_accounts_are_created_within_the_creators_scope(tree, web, callers):
    def create(caller, username, role, scope=None):
        body = {
            "username": username,
            "password": "a-long-password",
            "role": role,
            "scope_center_id": scope,
            "display_name": username,
        }
        return web.post("/api/v1/accounts", json=body, token=callers[caller])

    made = create("county", "admin.a", "center_admin", tree["a"])
    assert made.status_code == 201 and made.json()["scope_center_id"] == tree["a"]
    assert create("admin_a", "admin.a1", "center_admin", tree["a1"]).status_code == 201
    assert create("admin_a", "vol.1", "volunteer").status_code == 201
    assert_problem(create("admin_a", "admin.b", "center_admin", tree["b"]), 403, "account.scope_forbidden")
    assert_problem(create("admin_a", "boss", "county_admin"), 403, "account.role_forbidden")
    assert_problem(create("volunteer", "vol.2", "volunteer"), 403, "auth.role_forbidden")
    assert_problem(create("county", "admin.a", "volunteer"), 409, "account.username_taken")
    assert_problem(create("county", "ghost", "center_admin", 999), 422, field="scope_center_id")
    bad = web.post("/api/v1/accounts", json={"username": "x", "role": "king"}, token=callers["county"])
    body = assert_problem(bad, 422)
    assert {"username", "role", "password", "display_name"} <= set(body["errors"])

    login = web.post("/api/v1/auth/token", json={"username": "admin.a", "password": "a-long-password"})
    me = web.get("/api/v1/me", token=login.json()["access_token"]).json()
    assert me["role"] == "center_admin" and me["scope_center_id"] == tree["a"]


# -- centers and venues: every route -------------------------------------------------------


def test_reads_work_for_any_account_and_need_a_token(tree, web, callers):
    reads = [
        f"/api/v1/centers?within={tree['a']}&page_size=5",
        f"/api/v1/centers/{tree['a1']}",
        f"/api/v1/centers/{tree['a1']}/subtree",
        f"/api/v1/centers/{tree['a1']}/ancestors",
        f"/api/v1/centers/{tree['county']}/stats",
        f"/api/v1/centers/{tree['a1']}/venues",
    ]
    for path in reads:
        assert web.get(path, token=callers["volunteer"]).status_code == 200, path
        assert_problem(web.get(path), 401)
    listing = web.get(f"/api/v1/centers?within={tree['a']}", token=callers["volunteer"]).json()
    assert {c["id"] for c in listing["items"]} == {tree["a"], tree["a1"]}
    ancestors = web.get(f"/api/v1/centers/{tree['a1']}/ancestors", token=callers["volunteer"]).json()
    assert [c["id"] for c in ancestors] == [tree["county"], tree["a"]]
    subtree = web.get(f"/api/v1/centers/{tree['a']}/subtree", token=callers["volunteer"]).json()
    assert [(c["id"], c["depth"]) for c in subtree] == [(tree["a"], 0), (tree["a1"], 1)]
    stats = web.get(f"/api/v1/centers/{tree['county']}/stats", token=callers["volunteer"]).json()
    assert stats["count_by_level"]["institute"] == 2


def test_reads_refuse_bad_input_and_unknown_ids(tree, web, callers):
    assert_problem(web.get("/api/v1/centers?level=castle", token=callers["volunteer"]), 422, field="level")
    assert_problem(web.get("/api/v1/centers?page_size=500", token=callers["volunteer"]), 422, field="page_size")
    assert_problem(web.get("/api/v1/centers?color=red", token=callers["volunteer"]), 422, field="color")
    assert_problem(web.get("/api/v1/centers/9999", token=callers["volunteer"]), 404)
    assert_problem(web.get("/api/v1/venues/9999", token=callers["volunteer"]), 404)


def test_center_writes_by_role_and_scope(tree, web, callers):
    a1, b = tree["a1"], tree["b"]
    # create
    station = {"code": "a2", "name": "a2 实践站", "level": "station", "parent_id": tree["a"]}
    assert web.post("/api/v1/centers", json=station, token=callers["admin_a"]).status_code == 201
    assert_problem(
        web.post("/api/v1/centers", json=dict(station, code="b1", parent_id=b), token=callers["admin_a"]), 403
    )
    assert_problem(web.post("/api/v1/centers", json=dict(station, code="v1"), token=callers["volunteer"]), 403)
    assert_problem(
        web.post("/api/v1/centers", json=dict(station, code="x"), token=callers["county"]), 422, field="code"
    )
    # update, with If-Match
    patched = web.patch(
        f"/api/v1/centers/{a1}", json={"floor_area_m2": 55.0}, token=callers["admin_a"], headers={"If-Match": '"1"'}
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2 and patched.headers["ETag"] == '"2"'
    assert_problem(
        web.patch(
            f"/api/v1/centers/{a1}", json={"name": "stale"}, token=callers["admin_a"], headers={"If-Match": '"1"'}
        ),
        409,
    )
    assert_problem(web.patch(f"/api/v1/centers/{b}", json={"name": "x"}, token=callers["admin_a"]), 403)
    assert_problem(
        web.patch(f"/api/v1/centers/{a1}", json={"floor_area_m2": -1}, token=callers["admin_a"]),
        422,
        field="floor_area_m2",
    )
    assert_problem(
        web.patch(f"/api/v1/centers/{a1}", json={"level": "center"}, token=callers["county"]), 422, field="level"
    )
    # read-your-writes: the read model already has version 2
    assert web.get(f"/api/v1/centers/{a1}", token=callers["volunteer"]).json()["floor_area_m2"] == 55.0
    # status
    assert_problem(web.post(f"/api/v1/centers/{a1}/status", json={"status": "closed"}, token=callers["admin_a"]), 422)
    assert_problem(
        web.post(f"/api/v1/centers/{a1}/status", json={"status": "gone"}, token=callers["admin_a"]), 422, field="status"
    )
    assert_problem(
        web.post(
            f"/api/v1/centers/{b}/status", json={"status": "suspended", "reason": "装修"}, token=callers["admin_a"]
        ),
        403,
    )
    suspended = web.post(
        f"/api/v1/centers/{a1}/status", json={"status": "suspended", "reason": "装修"}, token=callers["admin_a"]
    )
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    # move
    assert_problem(web.post(f"/api/v1/centers/{a1}/move", json={"parent_id": b}, token=callers["admin_a"]), 403)
    assert_problem(
        web.post(f"/api/v1/centers/{a1}/move", json={"parent_id": "b"}, token=callers["county"]), 422, field="parent_id"
    )
    moved = web.post(f"/api/v1/centers/{a1}/move", json={"parent_id": b}, token=callers["county"])
    assert moved.status_code == 200 and moved.json()["parent_id"] == b
    ancestors = web.get(f"/api/v1/centers/{a1}/ancestors", token=callers["volunteer"]).json()
    assert [c["id"] for c in ancestors] == [tree["county"], b]


def test_venue_routes_by_role_and_scope(tree, web, callers):
    a1, b = tree["a1"], tree["b"]
    venue = {"name": "法律援助室", "kind": "legal_aid", "capacity": 20}
    added = web.post(f"/api/v1/centers/{a1}/venues", json=venue, token=callers["admin_a"])
    assert added.status_code == 201 and added.headers["Location"].endswith(f"/venues/{added.json()['id']}")
    venue_id = added.json()["id"]
    assert_problem(web.post(f"/api/v1/centers/{b}/venues", json=venue, token=callers["admin_a"]), 403)
    assert_problem(web.post(f"/api/v1/centers/{a1}/venues", json=venue, token=callers["volunteer"]), 403)
    assert_problem(
        web.post(f"/api/v1/centers/{a1}/venues", json=dict(venue, kind="pool"), token=callers["admin_a"]),
        422,
        field="kind",
    )

    assert web.get(f"/api/v1/venues/{venue_id}", token=callers["volunteer"]).json()["name"] == "法律援助室"
    changed = web.patch(f"/api/v1/venues/{venue_id}", json={"capacity": 30}, token=callers["admin_a"])
    assert changed.status_code == 200 and changed.json()["capacity"] == 30
    assert_problem(
        web.patch(f"/api/v1/venues/{venue_id}", json={"capacity": -3}, token=callers["admin_a"]), 422, field="capacity"
    )
    assert_problem(web.patch(f"/api/v1/venues/{venue_id}", json={"capacity": 1}, token=callers["volunteer"]), 403)

    b_venue = web.post(f"/api/v1/centers/{b}/venues", json=venue, token=callers["county"]).json()["id"]
    assert_problem(web.delete(f"/api/v1/venues/{b_venue}", token=callers["admin_a"]), 403)
    assert_problem(web.delete(f"/api/v1/venues/{venue_id}", token=callers["volunteer"]), 403)
    removed = web.delete(f"/api/v1/venues/{venue_id}", token=callers["admin_a"])
    assert removed.status_code == 204 and removed.content == b""
    assert_problem(web.get(f"/api/v1/venues/{venue_id}", token=callers["volunteer"]), 404)
    assert [v["id"] for v in web.get(f"/api/v1/centers/{b}/venues", token=callers["volunteer"]).json()] == [b_venue]


def test_refused_writes_change_nothing(tree, web, callers):
    a1 = tree["a1"]
    before = web.get(f"/api/v1/centers/{a1}", token=callers["volunteer"]).json()
    for response in (
        web.patch(f"/api/v1/centers/{a1}", json={"name": ""}, token=callers["admin_a"]),
        web.patch(f"/api/v1/centers/{a1}", json={"name": "x"}, token=callers["volunteer"]),
        web.patch(
            f"/api/v1/centers/{a1}",
            data="{oops",
            token=callers["admin_a"],
            headers={"Content-Type": "application/json"},
        ),
    ):
        assert response.status_code in (400, 403, 422)
    with ServiceRpcClient("centers", timeout=10) as centers:
        assert centers.get_center(a1) == before


# -- errors --------------------------------------------------------------------------------


def test_transport_errors_are_problems(tree, web, callers):
    token = callers["county"]
    assert_problem(
        web.post("/api/v1/centers", data="{not json", token=token, headers={"Content-Type": "application/json"}),
        400,
        "request.malformed_json",
    )
    assert_problem(
        web.post(
            "/api/v1/centers", data="code=x", token=token, headers={"Content-Type": "application/x-www-form-urlencoded"}
        ),
        400,
        "request.content_type",
    )
    huge = b'{"name":"' + b"x" * (1024 * 1024) + b'"}'
    assert_problem(
        web.post("/api/v1/centers", data=huge, token=token, headers={"Content-Type": "application/json"}),
        413,
        "request.too_large",
    )
    assert_problem(web.get("/api/v1/nowhere"), 404, "http.not_found")
    not_allowed = web.put(f"/api/v1/centers/{tree['a']}", json={}, token=token)
    assert_problem(not_allowed, 405, "http.method_not_allowed")
    assert "PATCH" in not_allowed.headers["Allow"]
    assert_problem(web.post("/api/v1/centers", json=["a list"], token=token), 422)


def raw_exchange(port, request, wait=5):
    """What the gateway answers to `request` (bytes) on a socket of its own, until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(request)
        received = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
    return received


def test_clients_that_do_not_finish_their_headers_are_cut_off(gateway, web_config):
    started = time.monotonic()
    answer = raw_exchange(web_config, b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n", wait=10)
    assert answer.startswith(b"HTTP/1.1 408") and b"http.headers_timeout" in answer
    assert time.monotonic() - started < 5  # HEADERS_TIMEOUT_SECONDS is 1 in these tests


@pytest.mark.parametrize(
    "headers, code",
    [
        (b"X-Long: " + b"x" * 20_000 + b"\r\n", b"http.headers_too_large"),
        (b"".join(b"X-H%d: 1\r\n" % n for n in range(150)), b"http.too_many_headers"),
    ],
)
def test_oversized_request_headers_are_refused_with_431(gateway, web_config, headers, code):
    answer = raw_exchange(web_config, b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431") and code in answer
    assert b"application/problem+json" in answer and b"server:" not in answer.lower()


def test_503_fast_when_centers_is_not_running(start_gateway, web, county_token, gateway_metrics_port):
    start_gateway()
    for call in (
        lambda: web.get("/api/v1/centers/1", token=county_token),
        lambda: web.get("/api/v1/centers", token=county_token),
        lambda: web.post("/api/v1/centers", json=COUNTY_CENTER, token=county_token),
    ):
        started = time.monotonic()
        response = call()
        assert time.monotonic() - started < 3  # RPC_TIMEOUT is 2 s in these tests
        assert_problem(response, 503, "service.unavailable")
        assert "Traceback" not in response.text
    # the circuit is open now, however the calls above failed (no queue, or a durable queue
    # left by an earlier test that nobody consumes): the next caller is answered at once
    started = time.monotonic()
    refused = web.get("/api/v1/centers", token=county_token)
    assert time.monotonic() - started < 0.5
    assert_problem(refused, 503, "service.unavailable")
    assert int(refused.headers["Retry-After"]) >= 1
    # the replica stays in rotation (reads from the read model still work) and says what is gone
    readiness = requests.get(f"http://127.0.0.1:{gateway_metrics_port}/readyz", timeout=2)
    assert readiness.status_code == 200
    assert "centers: not answering" in readiness.text
    metrics = requests.get(f"http://127.0.0.1:{gateway_metrics_port}/metrics", timeout=2).text
    assert 'wenming_gateway_circuit_open{service="centers"} 1.0' in metrics


# -- idempotency, request ids --------------------------------------------------------------


def test_idempotency_key_replays_and_refuses_reuse(gateway, web, county_token, tokens):
    headers = {"Idempotency-Key": "create-county-1"}
    first = web.post("/api/v1/centers", json=COUNTY_CENTER, token=county_token, headers=headers)
    again = web.post("/api/v1/centers", json=dict(reversed(COUNTY_CENTER.items())), token=county_token, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    reused = web.post("/api/v1/centers", json=dict(COUNTY_CENTER, code="other"), token=county_token, headers=headers)
    assert_problem(reused, 422, "idempotency.key_reused")
    assert web.get("/api/v1/centers", token=county_token).json()["total"] == 1
    # keys are per account: the same key from another account is another request
    other = web.post("/api/v1/centers", json=COUNTY_CENTER, headers=headers, token=tokens("9002", "county_admin"))
    assert_problem(other, 409, "center.code_taken")
    # a refused command changed nothing and recorded nothing: its retry is refused alike
    replayed = web.post("/api/v1/centers", json=COUNTY_CENTER, headers=headers, token=tokens("9002", "county_admin"))
    assert_problem(replayed, 409, "center.code_taken")


def test_request_ids_are_echoed_and_reach_the_services(gateway, web, county_token, amqp_uri):
    with Connection(amqp_uri) as connection:
        queue = Queue(
            "test-request-id",
            Exchange("centers.events", "topic", durable=True),
            routing_key="center.created",
            exclusive=True,
        )
        received = []
        with connection.Consumer(queue, callbacks=[lambda body, message: received.append(body)], accept=events.ACCEPT):
            response = web.post(
                "/api/v1/centers", json=COUNTY_CENTER, token=county_token, headers={"X-Request-Id": "req-abc_123"}
            )
            assert response.headers["X-Request-Id"] == "req-abc_123"
            deadline = time.monotonic() + 10
            while not received and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=0.5)
    # the centers service stamped our request id (carried in the RPC context) on its event
    assert received and received[0]["requestid"] == "req-abc_123"
    generated = web.get("/api/v1/nowhere", headers={"X-Request-Id": "bad id!"}).headers["X-Request-Id"]
    assert generated != "bad id!" and len(generated) == 32


# -- the read model ------------------------------------------------------------------------


def test_the_read_model_learns_from_events_and_serves_centers_without_rpc(gateway, centers_service, web, county_token):
    actor = {"account_id": "x", "role": "county_admin", "scope_center_id": None}
    with ServiceRpcClient("centers", timeout=10) as centers:
        created = centers.create_center(COUNTY_CENTER, actor)
        url = f"/api/v1/centers/{created['id']}"
        assert web.get(url, token=county_token).json()["version"] == 1
        # changed behind the gateway's back: only the center.updated event can tell it
        updated = centers.update_center(created["id"], {"name": "新名字"}, actor)
    wait_for(lambda: web.get(url, token=county_token).json()["version"] == updated["version"], timeout=10)

    # reads of known centers need no RPC at all: they keep working with centers stopped
    centers_service.stop()
    served = web.get(url, token=county_token)
    assert served.status_code == 200 and served.json()["name"] == "新名字"
    assert served.headers["ETag"] == f'"{updated["version"]}"'


# -- OpenAPI and metrics -------------------------------------------------------------------


def test_openapi_is_public_valid_and_complete(start_gateway, web):
    start_gateway()
    response = web.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert len([op for item in document["paths"].values() for op in item]) == len(ROUTES)  # every route


def test_http_metrics_count_by_route_template_and_status(tree, web, callers, gateway_metrics_port):
    web.get(f"/api/v1/centers/{tree['a']}", token=callers["volunteer"])
    web.get("/api/v1/centers/424242", token=callers["volunteer"])
    text = requests.get(f"http://127.0.0.1:{gateway_metrics_port}/metrics", timeout=5).text
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    labels = {("route", "/api/v1/centers/<int:center_id>"), ("method", "GET")}
    count = "wenming_http_request_duration_seconds_count"
    assert samples[(count, frozenset(labels | {("status", "200")}))] >= 1
    assert samples[(count, frozenset(labels | {("status", "404")}))] >= 1
    bucket = ("wenming_http_request_duration_seconds_bucket", frozenset(labels | {("status", "200"), ("le", "+Inf")}))
    assert samples[bucket] >= 1
