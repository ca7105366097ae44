"""Hostile and careless input against the real gateway process, the real broker and the
centers service on SQLite and PostgreSQL: every bad input is a 4xx problem+json with a
stable code (naming the field when there is one) and changes nothing; none is a 500."""

import contextlib
import json
import socket
import time

import jwt
import pytest
from nameko.standalone.rpc import ServiceRpcClient

from services.centers import migrate as centers_migrate
from services.centers.service import CentersService
from services.chassis.schemas import MAX_INT
from services.identity.contract import TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER
from services.identity.keys import SigningKeys
from tests.support.waiting import wait_for

from .conftest import SIGNING_KEY

COUNTY_CENTER = {"code": "yuci", "name": "榆次区新时代文明实践中心", "level": "center"}


def assert_problem(response, status, code=None, field=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.json()
    assert body["status"] == status and body["request_id"] == response.headers["X-Request-Id"]
    assert {"type", "title", "detail", "code"} <= set(body)
    if code:
        assert body["code"] == code, body
    if field:
        assert field in body.get("errors", {}), body
    return body


@pytest.fixture
def centers_service(start_service, database_url):
    """The centers service on SQLite, then on PostgreSQL (overrides conftest's SQLite only)."""
    centers_migrate.upgrade(database_url)
    return start_service(CentersService, database_url)


@pytest.fixture
def county(gateway, web, county_token):
    """A county center, its id."""
    response = web.post("/api/v1/centers", json=COUNTY_CENTER, token=county_token)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def station(county, web, county_token):
    """An institute under the county and a station under it, with a venue: (center, venue)."""
    institute = web.post(
        "/api/v1/centers",
        json={"code": "dongyang", "name": "东阳镇实践所", "level": "institute", "parent_id": county},
        token=county_token,
    ).json()["id"]
    center = web.post(
        "/api/v1/centers",
        json={"code": "dongyang-1", "name": "东阳村实践站", "level": "station", "parent_id": institute},
        token=county_token,
    ).json()["id"]
    venue = web.post(
        f"/api/v1/centers/{center}/venues", json={"name": "法律援助室", "kind": "legal_aid"}, token=county_token
    )
    assert venue.status_code == 201, venue.text
    return center, venue.json()["id"]


def snapshot(center_id, venue_id):
    with ServiceRpcClient("centers", timeout=10) as centers:
        listing = centers.list_centers({}, 1, 200)
        return listing, centers.get_center(center_id), centers.get_venue(venue_id)


# -- numbers: within the column on both databases, and within business bounds --------------


def test_numbers_out_of_range_are_422_naming_the_field_and_change_nothing(station, web, county_token):
    center, venue = station
    before = snapshot(center, venue)
    creates = {
        "households_served": [2**63, 2**31, MAX_INT + 1, 10_000_001, -1],
        "residents_served": [2**63, 2**31, 100_000_001],
        "floor_area_m2": [1e308, 1e7, -0.5],
        "parent_id": [2**63, 2**64, 0, -1],
        "longitude": [1e308],
        "opened_on": ["0001-01-01", "1899-12-31", "2100-01-01", "9999-12-31"],
    }
    for field, values in creates.items():
        for value in values:
            body = {"code": "new-one", "name": "新站点", "level": "point", "parent_id": center, field: value}
            assert_problem(web.post("/api/v1/centers", json=body, token=county_token), 422, field=field)
            patched = web.patch(f"/api/v1/centers/{center}", json={field: value}, token=county_token)
            assert patched.status_code == 422, (field, value, patched.text)
    for field, value in (("capacity", 2**63), ("capacity", 2**31), ("capacity", 100_001), ("area_m2", 1e12)):
        assert_problem(web.patch(f"/api/v1/venues/{venue}", json={field: value}, token=county_token), 422, field=field)
        assert_problem(
            web.post(
                f"/api/v1/centers/{center}/venues",
                json={"name": "礼堂", "kind": "culture", field: value},
                token=county_token,
            ),
            422,
            field=field,
        )
    assert_problem(web.post(f"/api/v1/centers/{center}/move", json={"parent_id": 2**63}, token=county_token), 422)
    assert_problem(web.post(f"/api/v1/centers/{center}/move", json={"parent_id": 2**70}, token=county_token), 422)
    for query, field in (
        ("page=1000000000000000000", "page"),
        ("page=10000000000000000000000", "page"),
        ("page=100001", "page"),
        ("page=0", "page"),
        ("page_size=1000000000000000000000", "page_size"),
        ("parent_id=9223372036854775808", "parent_id"),
        ("within=99999999999999999999999", "within"),
    ):
        assert_problem(web.get(f"/api/v1/centers?{query}", token=county_token), 422, "query.invalid", field)
    assert snapshot(center, venue) == before


def test_numbers_at_their_bounds_are_stored_on_either_database(station, web, county_token):
    center, venue = station
    changed = web.patch(
        f"/api/v1/centers/{center}",
        json={"households_served": 10_000_000, "residents_served": 100_000_000, "floor_area_m2": 1_000_000},
        token=county_token,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["households_served"] == 10_000_000
    venue_changed = web.patch(f"/api/v1/venues/{venue}", json={"capacity": 100_000}, token=county_token)
    assert venue_changed.status_code == 200 and venue_changed.json()["capacity"] == 100_000
    listed = web.get("/api/v1/centers?page=100000&page_size=200", token=county_token)
    assert listed.status_code == 200 and listed.json()["items"] == []


# -- JSON: depth, text, shape --------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_deeply_nested_json_is_refused(county, web, county_token):
    for depth in (100_000, 5_000, 100):
        body = '{"name":' + "[" * depth + "]" * depth + "}"
        response = web.patch(
            f"/api/v1/centers/{county}", data=body, token=county_token, headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 400, "request.too_deep")
    shallow = web.patch(f"/api/v1/centers/{county}", json={"name": [[["x"]]]}, token=county_token)
    assert_problem(shallow, 422, field="name")


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_lone_surrogates_and_control_characters_are_422_and_change_nothing(station, web, county_token):
    center, venue = station
    before = snapshot(center, venue)
    for text in ("\ud800", "a\udfffb", "榆次\x00", "x\x07y", "a\nb", "\x1b[31m红"):
        create = dict(COUNTY_CENTER, code="other", name=text, level="station", parent_id=center)
        assert_problem(web.post("/api/v1/centers", json=create, token=county_token), 422, field="name")
        assert_problem(web.patch(f"/api/v1/centers/{center}", json={"address": text}, token=county_token), 422)
        assert_problem(web.patch(f"/api/v1/venues/{venue}", json={"name": text}, token=county_token), 422)
        manager = {"managers": [{"name": text, "phone": None}]}
        assert_problem(
            web.patch(f"/api/v1/centers/{center}", json=manager, token=county_token), 422, field="managers.0.name"
        )
    surrogate_key = web.patch(f"/api/v1/centers/{center}", json={"\ud800": 1}, token=county_token)
    assert_problem(surrogate_key, 422, "input.invalid")
    assert snapshot(center, venue) == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_login_route_refuses_lone_surrogates_and_nul(gateway, web):
    for username, password in (("\ud800", "x"), ("admin", "\udc00"), ("ad\x00min", "x"), ("admin", "p\x00w")):
        response = web.post("/api/v1/auth/token", json={"username": username, "password": password})
        body = assert_problem(response, 422, "input.invalid")
        assert set(body["errors"]) <= {"username", "password"} and body["errors"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_control_characters_in_the_query_string_are_422(county, web, county_token):
    assert web.get("/api/v1/centers?q=%E6%A6%86", token=county_token).json()["total"] == 1  # 榆
    assert web.get("/api/v1/centers?q=nothing-like-this", token=county_token).json()["total"] == 0
    for query in ("q=%00", "q=%1F", "q=a%0Ab", "code=yu%00ci", "q=%7F"):
        response = web.get(f"/api/v1/centers?{query}", token=county_token)
        assert_problem(response, 422, "query.invalid", query.split("=")[0])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_body_that_is_not_an_object_is_422(county, web, county_token):
    before = web.get(f"/api/v1/centers/{county}", token=county_token).json()
    for body in ("null", "[]", '"name"', "3"):
        for method, path in (
            ("PATCH", f"/api/v1/centers/{county}"),
            ("POST", "/api/v1/centers"),
            ("POST", "/api/v1/auth/token"),
        ):
            response = web.request(
                method, path, data=body, token=county_token, headers={"Content-Type": "application/json"}
            )
            assert_problem(response, 422, "input.invalid")
    assert web.get(f"/api/v1/centers/{county}", token=county_token).json() == before


# -- transport: sizes and limits -----------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_chunked_body_over_the_limit_is_413(county, web, county_token):
    def chunks():
        yield b'{"name": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    response = web.patch(
        f"/api/v1/centers/{county}", data=chunks(), token=county_token, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "request.too_large")
    # with a Content-Length, refused before reading
    announced = web.patch(
        f"/api/v1/centers/{county}",
        data=b"[" * (2 * 1024 * 1024),
        token=county_token,
        headers={"Content-Type": "application/json"},
    )
    assert_problem(announced, 413, "request.too_large")


def raw_exchange(port, request, wait=5):
    """What the gateway answers to `request` (bytes) on a socket of its own, until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(request)
        received = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
    return received


def parse_raw(answer):
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, json.loads(body)


GET = b"GET /api/v1/centers HTTP/1.1\r\nHost: x\r\n"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "request_bytes, status, code",
    [
        (GET + b"X-Long: " + b"x" * 20_000 + b"\r\n\r\n", 431, "http.headers_too_large"),
        (GET + b"".join(b"X-H%d: 1\r\n" % n for n in range(150)) + b"\r\n", 431, "http.too_many_headers"),
        (b"GET /api/v1/centers?x=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431, "http.headers_too_large"),
        (b"GET /api/v1/centers HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, "http.malformed_request"),
        (b"NOT-HTTP\r\n\r\n", 400, "http.malformed_request"),
    ],
)
def test_requests_refused_before_they_reach_a_route_are_problems(gateway, web_config, request_bytes, status, code):
    got, headers, body = parse_raw(raw_exchange(web_config, request_bytes))
    assert got == status and body["code"] == code and body["status"] == status
    assert headers["content-type"] == "application/problem+json"
    assert headers["x-content-type-options"] == "nosniff"
    assert "server" not in headers and body["detail"] and body["request_id"] == headers["x-request-id"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_requests_beyond_the_connection_cap_are_a_503_problem(centers_service, start_gateway, web_config, monkeypatch):
    monkeypatch.setenv("MAX_CONNECTIONS", "3")
    start_gateway()
    idle = [socket.create_connection(("127.0.0.1", web_config)) for _ in range(3)]
    try:
        got, headers, body = parse_raw(raw_exchange(web_config, GET + b"\r\n"))
    finally:
        for sock in idle:
            sock.close()
    assert got == 503 and body["code"] == "http.too_many_connections"
    assert headers["content-type"] == "application/problem+json" and headers["retry-after"] == "1"
    assert headers["x-content-type-options"] == "nosniff" and "server" not in headers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_100_000_character_token_is_a_431_the_client_can_read(gateway, web):
    response = web.get("/api/v1/centers", token="x" * 100_000)
    assert response.status_code == 431, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "http.headers_too_large"
    assert "Server" not in response.headers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_token_whose_claims_have_the_wrong_type_is_401_every_time(gateway, web):
    keys = SigningKeys(SIGNING_KEY)
    now = int(time.time())
    claims = {"iss": TOKEN_ISSUER, "aud": TOKEN_AUDIENCE, "iat": now, "sub": "9001", "role": "county_admin"}
    for bad in ({"exp": str(now + 3600)}, {"exp": now + 3600, "scope": True}, {"exp": now + 3600, "scope": 2**70}):
        token = jwt.encode({**claims, **bad}, keys.private_key, algorithm=TOKEN_ALGORITHM, headers={"kid": keys.kid})
        for _ in range(3):  # the second use is served from the verified-token cache
            assert_problem(web.get("/api/v1/centers", token=token), 401, "auth.token_invalid")


# -- headers and logs ------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_response_says_nosniff(county, web, county_token):
    for response in (
        web.get(f"/api/v1/centers/{county}", token=county_token),
        web.get("/api/v1/centers", token=county_token),
        web.get("/api/v1/openapi.json"),
        web.get("/api/v1/nowhere"),
        web.put(f"/api/v1/centers/{county}", token=county_token),
        web.get("/api/v1/centers"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_access_log_names_each_request_but_never_a_token_in_the_query(county, web, county_token, tmp_path):
    secret = county_token.rsplit(".", 1)[1]
    response = web.get(
        f"/api/v1/centers?access_token={county_token}&q=yuci",
        token=county_token,
        headers={"X-Request-Id": "access-log-1"},
    )
    assert response.status_code == 422
    web.get(f"/api/v1/nowhere?token={county_token}", headers={"X-Request-Id": "access-log-2"})
    web.get(f"/api/v1/centers/{county}?jwt={county_token}", headers={"X-Request-Id": "access-log-3"})
    request_ids = ("access-log-1", "access-log-2", "access-log-3")

    def logged():  # the access log writes its lines once the gateway's event loop is free
        text = (tmp_path / "gateway.log").read_text()
        return text if all(request_id in text for request_id in request_ids) else None

    log = wait_for(logged, timeout=5, what="the three access-log lines")
    assert secret not in log and county_token not in log
