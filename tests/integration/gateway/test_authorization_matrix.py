"""Every route × caller × scope, against the running gateway: the table of
docs/authorization.md, cell by cell.

`MATRIX` is the one statement of what each caller gets; the doc's table mirrors it (checked
by `test_the_doc_table_is_the_matrix`) and it agrees with the route declarations
(`test_the_matrix_agrees_with_the_route_declarations`). Each route's cells run against one
fresh gateway with the centers and identity services (the fixtures of conftest.py), each
cell a subtest with its own fresh targets, so no cell depends on another.

Callers: anonymous (no token), resident and volunteer (no scope), team_leader and
center_admin scoped at institute `a`, county_admin. Targets: `in` lies in a's subtree, `out`
in b's (county → a → a1, a2; county → b → b1, b2), `unknown` is an id nobody has, `-` is a
route without one.
"""

import re
from pathlib import Path

import pytest

from gateway.openapi import openapi_path
from gateway.routes import ROUTES

from .conftest import add_account

DOC = Path(__file__).parents[3] / "docs" / "authorization.md"
CALLERS = ("anonymous", "resident", "volunteer", "team_leader", "center_admin", "county_admin")
UNKNOWN = 999_999
PASSWORD = "a-long-password-for-tests"

# route → target → the status each caller (in CALLERS order) gets
READ = (401, 200, 200, 200, 200, 200)
READ_UNKNOWN = (401, 404, 404, 404, 404, 404)
READS = {"in": READ, "out": READ, "unknown": READ_UNKNOWN}


def _writes(ok):
    return {
        "in": (401, 403, 403, 403, ok, ok),
        "out": (401, 403, 403, 403, 403, ok),
        "unknown": (401, 403, 403, 403, 404, 404),
    }


ACCOUNT_ROUTES = (
    "PATCH /api/v1/accounts/{account_id}",
    "POST /api/v1/accounts/{account_id}/deactivation",
    "POST /api/v1/accounts/{account_id}/reactivation",
    "GET /api/v1/accounts/{account_id}/audit",
)


MATRIX = {
    "POST /api/v1/auth/token": {"-": (200, 200, 200, 200, 200, 200)},
    "GET /api/v1/me": {"-": READ},
    "POST /api/v1/accounts": {
        "in": (401, 403, 403, 403, 201, 201),
        "out": (401, 403, 403, 403, 403, 201),
        "unknown": (401, 403, 403, 403, 422, 422),
    },
    "POST /api/v1/auth/logout": {"-": (401, 204, 204, 204, 204, 204)},
    **{route: _writes(200) for route in ACCOUNT_ROUTES},
    "GET /api/v1/openapi.json": {"-": (200, 200, 200, 200, 200, 200)},
    "GET /api/v1/centers": {"-": READ},
    "POST /api/v1/centers": {
        "in": (401, 403, 403, 403, 201, 201),
        "out": (401, 403, 403, 403, 403, 201),
        "unknown": (401, 403, 403, 403, 422, 422),
    },
    "GET /api/v1/centers/{center_id}": READS,
    "PATCH /api/v1/centers/{center_id}": _writes(200),
    "POST /api/v1/centers/{center_id}/move": _writes(200),
    "POST /api/v1/centers/{center_id}/status": _writes(200),
    "GET /api/v1/centers/{center_id}/subtree": READS,
    "GET /api/v1/centers/{center_id}/ancestors": READS,
    "GET /api/v1/centers/{center_id}/stats": READS,
    "GET /api/v1/centers/{center_id}/venues": READS,
    "POST /api/v1/centers/{center_id}/venues": _writes(201),
    "GET /api/v1/venues/{venue_id}": READS,
    "PATCH /api/v1/venues/{venue_id}": _writes(200),
    "DELETE /api/v1/venues/{venue_id}": _writes(204),
}

# what the target of each route is (the doc's "target" column)
TARGETS = {
    "POST /api/v1/accounts": "the new account's scope_center_id",
    "PATCH /api/v1/accounts/{account_id}": "the account's scope_center_id (a volunteer, made team_leader)",
    "POST /api/v1/accounts/{account_id}/deactivation": "the account's scope_center_id (a volunteer)",
    "POST /api/v1/centers": "parent_id",
    "POST /api/v1/centers/{center_id}/move": "the center moved (to a parent on the same side)",
}


def cells():
    for route, by_target in MATRIX.items():
        for target, statuses in by_target.items():
            yield route, target, dict(zip(CALLERS, statuses, strict=True))


# -- the table, the doc and the declarations agree -------------------------------------------


def doc_rows():
    """The rows of the doc's matrix: (route, target, {caller: status})."""
    rows = []
    header = None
    for line in DOC.read_text().splitlines():
        cells_ = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| route | target"):
            header = cells_
            continue
        if header is None or line.startswith("|---"):
            continue
        if not line.startswith("|"):  # the table ends at its first line that is not a row
            if rows:
                break
            continue
        statuses = {
            caller: int(re.match(r"\d{3}", cell).group()) for caller, cell in zip(header[2:], cells_[2:], strict=True)
        }
        rows.append((cells_[0].strip("`"), cells_[1].strip("`"), statuses))
    return rows, header


def test_the_doc_table_is_the_matrix():
    rows, header = doc_rows()
    assert header[2:] == list(CALLERS)
    assert rows == list(cells())


def test_the_matrix_agrees_with_the_route_declarations():
    declared = {f"{spec.method} {openapi_path(spec.path)}": spec for spec in ROUTES}
    assert set(MATRIX) == set(declared)
    for route, target, expected in cells():
        spec = declared[route]
        assert (expected["anonymous"] == 401) is spec.auth.requires_token, route
        for role in CALLERS[1:]:
            if spec.auth.roles is not None and role not in spec.auth.roles:  # the gateway refuses the role
                assert expected[role] == 403, (route, target, role)
            if expected[role] < 300:
                assert expected[role] == spec.status, (route, target, role)


# -- every cell against the gateway ------------------------------------------------------------


class World:
    """The tree, the callers' tokens and fresh targets, made through the API by the county admin."""

    def __init__(self, web, tokens, identity_store):
        self.web = web
        self._mint = tokens
        self._store = identity_store
        self.county = tokens("8001", "county_admin")
        self.ids = {}
        self._made = 0
        self._accounts = {}
        for name, level, parent in (
            ("county", "center", None),
            ("a", "institute", "county"),
            ("b", "institute", "county"),
            ("a1", "station", "a"),
            ("a2", "station", "a"),
            ("b1", "station", "b"),
            ("b2", "station", "b"),
        ):
            self.ids[name] = self.center(level, self.ids.get(parent))
        self.tokens = {
            "anonymous": None,
            "resident": tokens("8002", "resident"),
            "volunteer": tokens("8003", "volunteer"),
            "team_leader": tokens("8004", "team_leader", self.ids["a"]),
            "center_admin": tokens("8005", "center_admin", self.ids["a"]),
            "county_admin": self.county,
        }
        self._labels = {"resident": "8002", "volunteer": "8003", "team_leader": "8004", "center_admin": "8005"}

    def fresh_token(self, caller):
        """Another token of the caller's account (for a cell that revokes it)."""
        if caller == "anonymous":
            return None
        if caller == "county_admin":
            return self._mint("8001", "county_admin")
        scope = self.ids["a"] if caller in ("team_leader", "center_admin") else None
        return self._mint(self._labels[caller], caller, scope)

    def target_account(self, target):
        """A fresh volunteer account scoped on the target's side, or an unknown id."""
        if target == "unknown":
            return UNKNOWN
        account_id, _ = add_account(self._store, self.unique("target."), "volunteer", self.station(target))
        return account_id

    def unique(self, prefix):
        self._made += 1
        return f"{prefix}{self._made}"

    def center(self, level, parent_id):
        body = {"code": self.unique("m-"), "name": "矩阵测试", "level": level, "parent_id": parent_id}
        response = self.web.post("/api/v1/centers", json=body, token=self.county)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def venue(self, center_id):
        body = {"name": "文化服务室", "kind": "culture"}
        response = self.web.post(f"/api/v1/centers/{center_id}/venues", json=body, token=self.county)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def station(self, target):
        """A center on the target's side (`in`: a1, `out`: b1) or an unknown id."""
        return {"in": self.ids["a1"], "out": self.ids["b1"]}.get(target, UNKNOWN)

    def fresh(self, target, level="point"):
        """A new center of its own under the target's side, for a cell that changes it."""
        return UNKNOWN if target == "unknown" else self.center(level, self.station(target))

    def fresh_venue(self, target):
        return UNKNOWN if target == "unknown" else self.venue(self.station(target))

    def account(self, caller):
        """A real account of the caller's role and scope (for /me and logins): created once."""
        if caller not in self._accounts:
            role, scope = {
                "anonymous": ("resident", None),
                "resident": ("resident", None),
                "volunteer": ("volunteer", None),
                "team_leader": ("team_leader", self.ids["a"]),
                "center_admin": ("center_admin", self.ids["a"]),
                "county_admin": ("county_admin", None),
            }[caller]
            username = self.unique(f"matrix.{caller}.")
            body = {
                "username": username,
                "password": PASSWORD,
                "role": role,
                "scope_center_id": scope,
                "display_name": username,
            }
            created = self.web.post("/api/v1/accounts", json=body, token=self.county)
            assert created.status_code == 201, created.text
            login = self.web.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert login.status_code == 200, login.text
            self._accounts[caller] = (username, login.json()["access_token"])
        return self._accounts[caller]


def request_for(world, route, target, caller):
    """(method, path, json body, token) of one cell, with fresh targets where the cell changes them."""
    token = world.tokens[caller]
    ids = world.ids
    method = route.split()[0]
    if route == "POST /api/v1/auth/token":
        username, _ = world.account("resident")
        return method, "/api/v1/auth/token", {"username": username, "password": PASSWORD}, token
    if route == "GET /api/v1/me":
        return method, "/api/v1/me", None, None if caller == "anonymous" else world.account(caller)[1]
    if route == "POST /api/v1/accounts":
        scope = {"in": ids["a1"], "out": ids["b1"]}.get(target, UNKNOWN)
        username = world.unique("made.")
        body = {
            "username": username,
            "password": PASSWORD,
            "role": "volunteer",
            "scope_center_id": scope,
            "display_name": username,
        }
        return method, "/api/v1/accounts", body, token
    if route == "POST /api/v1/auth/logout":
        return method, "/api/v1/auth/logout", None, world.fresh_token(caller)
    if route in ACCOUNT_ROUTES:
        path = route.split()[1].format(account_id=world.target_account(target))
        body = {
            "PATCH": {"role": "team_leader"},
            "GET": None,
        }.get(method, {"reason": "矩阵测试"})
        return method, path, body, token
    if route == "GET /api/v1/openapi.json":
        return method, "/api/v1/openapi.json", None, token
    if route == "GET /api/v1/centers":
        return method, "/api/v1/centers", None, token
    if route == "POST /api/v1/centers":
        parent = {"in": ids["a1"], "out": ids["b1"]}.get(target, UNKNOWN)
        body = {"code": world.unique("new-"), "name": "新实践点", "level": "point", "parent_id": parent}
        return method, "/api/v1/centers", body, token
    if route == "POST /api/v1/centers/{center_id}/move":
        center = world.fresh(target)
        parent = {"in": ids["a2"], "out": ids["b2"]}.get(target, ids["a2"])
        return method, f"/api/v1/centers/{center}/move", {"parent_id": parent}, token
    if route == "POST /api/v1/centers/{center_id}/status":
        body = {"status": "suspended", "reason": "装修"}
        return method, f"/api/v1/centers/{world.fresh(target)}/status", body, token
    if route == "PATCH /api/v1/centers/{center_id}":
        return method, f"/api/v1/centers/{world.fresh(target)}", {"floor_area_m2": 55.0}, token
    if route == "POST /api/v1/centers/{center_id}/venues":
        body = {"name": "法律援助室", "kind": "legal_aid"}
        return method, f"/api/v1/centers/{world.station(target)}/venues", body, token
    if route.startswith("GET /api/v1/centers/{center_id}"):
        return method, route.split()[1].format(center_id=world.station(target)), None, token
    if route == "GET /api/v1/venues/{venue_id}":
        return method, f"/api/v1/venues/{world.fresh_venue(target)}", None, token
    if route == "PATCH /api/v1/venues/{venue_id}":
        return method, f"/api/v1/venues/{world.fresh_venue(target)}", {"capacity": 30}, token
    if route == "DELETE /api/v1/venues/{venue_id}":
        return method, f"/api/v1/venues/{world.fresh_venue(target)}", None, token
    raise AssertionError(f"no request for {route}")


@pytest.fixture
def world(centers_service, start_gateway, web, tokens, identity_store):
    start_gateway()
    return World(web, tokens, identity_store)


@pytest.mark.parametrize("route", list(MATRIX))
def test_every_cell_of_the_route(route, world, web, subtests):
    for target, statuses in MATRIX[route].items():
        for caller, expected in zip(CALLERS, statuses, strict=True):
            with subtests.test(target=target, caller=caller):
                method, path, body, token = request_for(world, route, target, caller)
                response = web.request(method, path, json=body, token=token)
                assert response.status_code == expected, f"{route} {target} {caller}: {response.text[:300]}"
                if expected >= 400:
                    assert response.headers["Content-Type"] == "application/problem+json"
