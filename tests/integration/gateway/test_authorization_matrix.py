"""Every route × caller × target, against the running gateway: the table of
docs/authorization.md, cell by cell.

`MATRIX` is the one statement of what each caller gets; the doc's table mirrors it (checked
by `test_the_doc_table_is_the_matrix`) and it agrees with the route declarations
(`test_the_matrix_agrees_with_the_route_declarations`). The routes of each module of
gateway/routes run against one fresh gateway with the identity, centers and volunteers
services (the fixtures of conftest.py), each cell a subtest with fresh targets wherever the
cell changes its target, so no cell depends on another.

Callers: anonymous (no token), resident and volunteer (no scope), team_leader and
center_admin scoped at institute `a`, county_admin. The volunteer caller has a volunteer
record of its own; the team_leader caller's account is linked to a volunteer record too, the
leader of the teams it leads. Targets: `in` lies in a's subtree, `out` in b's (county → a →
a1, a2; county → b → b1, b2), `self` is the volunteer caller's own record (or its own
application, back-fill, entry), `own` a team the team_leader caller leads, `unknown` an id
nobody has, `-` a route without one (`TARGETS` and the doc say more where a route needs it).
"""

import base64
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Producer

from gateway.openapi import openapi_path
from gateway.routes import ROUTES
from services.chassis.clock import utcnow
from services.chassis.events import SERIALIZER, make_event
from services.volunteers.contract.hours import ACTIVITIES, ATTENDANCE_CONFIRMED
from services.volunteers.contract.registration import PRIVACY_STATEMENT_VERSION
from tests.support.people import id_number, phone
from tests.support.waiting import wait_for

from .conftest import add_account, known_to_the_gateway

DOC = Path(__file__).parents[3] / "docs" / "authorization.md"
CALLERS = ("anonymous", "resident", "volunteer", "team_leader", "center_admin", "county_admin")
DECLARED = {f"{spec.method} {openapi_path(spec.path)}": spec for spec in ROUTES}
UNKNOWN = 999_999
PASSWORD = "a-long-password-for-tests"
TODAY = utcnow().date()  # on or before the service's local (China) date
PERIOD = {"period_start": str(TODAY - timedelta(days=30)), "period_end": str(TODAY - timedelta(days=1))}
SERVED_ON = str(TODAY - timedelta(days=7))  # inside PERIOD
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32
LEDGER = {"summary": "开展文明实践活动一次，服务群众 10 人。", "people_served": 10}
PHOTO = {"kind": "photo", "filename": "现场.png", "content": base64.b64encode(PNG).decode()}
POINTS = 1000  # the points each credited volunteer earns: enough for every redemption of a run

# route → target → the status each caller (in CALLERS order) gets
PUBLIC = (200, 200, 200, 200, 200, 200)
READ = (401, 200, 200, 200, 200, 200)
READ_UNKNOWN = (401, 404, 404, 404, 404, 404)
READS = {"in": READ, "out": READ, "unknown": READ_UNKNOWN}
ADMINS = (401, 403, 403, 403, 200, 200)  # routes of admins that name no target
# routes of the caller's own volunteer record: volunteers and team leaders (a leader is a volunteer too)
VOLUNTEER_ONLY = (401, 403, 200, 200, 403, 403)
VOLUNTEER_AND_ADMINS = (401, 403, 200, 200, 200, 200)
HOLDERS_UNKNOWN = (401, 403, 404, 404, 404, 404)  # an unknown id, on a route of volunteers and admins
SELF_UNKNOWN = (401, 403, 404, 404, 403, 403)  # an unknown id, on a route of volunteers and team leaders


def _admins(ok):
    """Admins whose scope holds the target."""
    return {
        "in": (401, 403, 403, 403, ok, ok),
        "out": (401, 403, 403, 403, 403, ok),
        "unknown": (401, 403, 403, 403, 404, 404),
    }


def _creates(unknown=(422, 422)):
    """A creation under the center its body names, by admins whose scope holds that center;
    `unknown`: what the center_admin and the county_admin get for an unknown center."""
    return {
        "in": (401, 403, 403, 403, 201, 201),
        "out": (401, 403, 403, 403, 403, 201),
        "unknown": (401, 403, 403, 403, *unknown),
    }


def _own(ok, unknown=READ_UNKNOWN):
    """A volunteer's own record: the volunteer themself (`self`), or admins whose scope holds it."""
    return {
        "in": (401, 403, 403, 403, ok, ok),
        "out": (401, 403, 403, 403, 403, ok),
        "self": (401, 403, ok, 403, ok, ok),
        "unknown": unknown,
    }


def _led(ok):
    """A team's business: its leader (the team_leader caller leads `own`), or admins whose scope holds it."""
    return {
        "in": (401, 403, 403, 403, ok, ok),
        "out": (401, 403, 403, 403, 403, ok),
        "own": (401, 403, 403, ok, ok, ok),
        "unknown": (401, 403, 403, 404, 404, 404),
    }


ACCOUNT_ROUTES = (
    "PATCH /api/v1/accounts/{account_id}",
    "POST /api/v1/accounts/{account_id}/deactivation",
    "POST /api/v1/accounts/{account_id}/reactivation",
    "GET /api/v1/accounts/{account_id}/audit",
)
APPLY = (401, 403, 201, 201, 403, 403)
SUBMIT = (401, 403, 201, 201, 403, 403)  # by the caller for themself
OWNER_ONLY = (401, 403, 201, 403, 403, 403)  # the volunteer caller's own record, nobody else's
SIGN_UP = (401, 403, 201, 201, 403, 403)  # volunteers (a leader is one too) sign up as themselves
SIGNED_UP = (401, 403, 200, 200, 403, 403)  # their own sign-up (both callers signed up)


MATRIX = {
    "POST /api/v1/auth/token": {"-": PUBLIC},
    "GET /api/v1/me": {"-": READ},
    "POST /api/v1/accounts": _creates(),
    "POST /api/v1/auth/logout": {"-": (401, 204, 204, 204, 204, 204)},
    **{route: _admins(200) for route in ACCOUNT_ROUTES},
    "GET /api/v1/openapi.json": {"-": PUBLIC},
    "GET /api/v1/centers": {"-": READ},
    "POST /api/v1/centers": _creates(),
    "GET /api/v1/centers/{center_id}": READS,
    "PATCH /api/v1/centers/{center_id}": _admins(200),
    "POST /api/v1/centers/{center_id}/move": _admins(200),
    "POST /api/v1/centers/{center_id}/status": _admins(200),
    "GET /api/v1/centers/{center_id}/subtree": READS,
    "GET /api/v1/centers/{center_id}/ancestors": READS,
    "GET /api/v1/centers/{center_id}/stats": READS,
    "GET /api/v1/centers/{center_id}/venues": READS,
    "POST /api/v1/centers/{center_id}/venues": _admins(201),
    "GET /api/v1/venues/{venue_id}": READS,
    "PATCH /api/v1/venues/{venue_id}": _admins(200),
    "DELETE /api/v1/venues/{venue_id}": _admins(204),
    # -- volunteers
    "POST /api/v1/volunteers": _creates(unknown=(403, 422)),
    "POST /api/v1/volunteers/sign-up": {"-": (201, 201, 201, 201, 201, 201)},
    "GET /api/v1/volunteers": {"-": (401, 403, 403, 200, 200, 200)},
    "GET /api/v1/volunteers/{volunteer_id}": {
        "in": (401, 403, 403, 200, 200, 200),
        "out": (401, 403, 403, 403, 403, 200),
        "self": (401, 403, 200, 200, 200, 200),
        "unknown": READ_UNKNOWN,
    },
    "PATCH /api/v1/volunteers/{volunteer_id}": _own(200),
    "POST /api/v1/volunteers/{volunteer_id}/status": _own(200),
    "POST /api/v1/volunteers/{volunteer_id}/transfer": _admins(200),
    "GET /api/v1/volunteers/{volunteer_id}/transfers": _own(200),
    "POST /api/v1/volunteers/{volunteer_id}/reveal": _admins(200),
    "GET /api/v1/volunteer-audit": {"-": ADMINS},
    "GET /api/v1/me/volunteer": {"-": VOLUNTEER_ONLY},
    "POST /api/v1/me/volunteer": {"-": (401, 403, 201, 409, 403, 403)},
    "GET /api/v1/me/volunteer/export": {"-": VOLUNTEER_ONLY},
    # -- teams
    "GET /api/v1/team-kinds": {"-": READ},
    "GET /api/v1/teams": {"-": READ},
    "POST /api/v1/teams": _creates(),
    "GET /api/v1/teams/{team_id}": READS,
    "PATCH /api/v1/teams/{team_id}": _admins(200),
    "POST /api/v1/teams/{team_id}/status": _admins(200),
    "GET /api/v1/teams/{team_id}/members": {
        "in": (401, 403, 403, 403, 200, 200),
        "out": (401, 403, 403, 403, 403, 200),
        "own": (401, 403, 200, 200, 200, 200),
        "unknown": READ_UNKNOWN,
    },
    "POST /api/v1/teams/{team_id}/members": _admins(201),
    "POST /api/v1/teams/{team_id}/members/{volunteer_id}/removal": _led(204),
    "POST /api/v1/teams/{team_id}/leave": {"own": (401, 403, 204, 409, 403, 403), "unknown": SELF_UNKNOWN},
    "GET /api/v1/me/teams": {"-": (401, 403, 200, 200, 403, 403)},
    "GET /api/v1/teams/{team_id}/applications": _led(200),
    "POST /api/v1/teams/{team_id}/applications": {"in": APPLY, "out": APPLY, "unknown": SELF_UNKNOWN},
    "POST /api/v1/teams/{team_id}/applications/{application_id}/approve": _led(200),
    "POST /api/v1/teams/{team_id}/applications/{application_id}/reject": _led(200),
    "POST /api/v1/teams/{team_id}/applications/{application_id}/withdraw": {
        "self": (401, 403, 200, 403, 403, 403),
        "unknown": SELF_UNKNOWN,
    },
    # -- points and love supermarkets
    "GET /api/v1/me/points": {"-": (401, 403, 200, 200, 403, 403)},
    "GET /api/v1/volunteers/{volunteer_id}/points": _own(200),
    "GET /api/v1/centers/{center_id}/goods": READS,
    "POST /api/v1/centers/{center_id}/goods": _admins(201),
    "GET /api/v1/goods/{goods_id}": READS,
    "PATCH /api/v1/goods/{goods_id}": _admins(200),
    "POST /api/v1/goods/{goods_id}/stock": _admins(200),
    "POST /api/v1/goods/{goods_id}/redeem": {
        "in": (401, 403, 201, 403, 201, 201),
        "out": (401, 403, 201, 403, 403, 201),
        "unknown": HOLDERS_UNKNOWN,
    },
    "GET /api/v1/centers/{center_id}/redemptions": _admins(200),
    "POST /api/v1/redemptions/{redemption_id}/cancellation": _admins(200),
    # -- certificates
    "POST /api/v1/volunteers/{volunteer_id}/certificates": _own(201, HOLDERS_UNKNOWN),
    "GET /api/v1/volunteers/{volunteer_id}/certificates": _own(200, HOLDERS_UNKNOWN),
    "GET /api/v1/volunteers/{volunteer_id}/certificates/{number}": _own(200, HOLDERS_UNKNOWN),
    "GET /api/v1/volunteers/{volunteer_id}/certificates/{number}/pdf": _own(200, HOLDERS_UNKNOWN),
    "GET /api/v1/certificates/{number}/verify": {"-": PUBLIC},
    "POST /api/v1/certificates/verify": {"-": PUBLIC},
    "GET /api/v1/certificates/keys": {"-": PUBLIC},
    # -- hours
    "GET /api/v1/me/hours": {"-": VOLUNTEER_ONLY},
    "GET /api/v1/volunteers/{volunteer_id}/hours": _own(200, HOLDERS_UNKNOWN),
    "GET /api/v1/teams/{team_id}/hours": READS,
    "GET /api/v1/centers/{center_id}/hours": READS,
    "POST /api/v1/me/backfills": {"in": SUBMIT, "out": SUBMIT, "unknown": (401, 403, 422, 422, 403, 403)},
    "GET /api/v1/backfills": {"-": VOLUNTEER_AND_ADMINS},
    "GET /api/v1/backfills/{backfill_id}": _own(200, HOLDERS_UNKNOWN),
    "GET /api/v1/backfills/{backfill_id}/photos/{position}": _own(200, HOLDERS_UNKNOWN),
    "POST /api/v1/backfills/{backfill_id}/approve": _admins(200),
    "POST /api/v1/backfills/{backfill_id}/reject": _admins(200),
    "POST /api/v1/hour-entries/{entry_id}/dispute": {
        "in": (401, 403, 403, 403, 403, 403),
        "self": OWNER_ONLY,
        "unknown": (401, 403, 404, 404, 403, 403),
    },
    "POST /api/v1/hour-entries/{entry_id}/resolve": _admins(200),
    "POST /api/v1/hour-entries/{entry_id}/revoke": _admins(200),
    "GET /api/v1/hour-disputes": {"-": VOLUNTEER_AND_ADMINS},
    # -- imports
    "POST /api/v1/volunteer-imports": _creates(unknown=(403, 422)),
    "GET /api/v1/volunteer-imports/{import_id}": _admins(200),
    "GET /api/v1/volunteer-imports/{import_id}/rows": _admins(200),
    "GET /api/v1/volunteer-imports/{import_id}/report.csv": _admins(200),
    # -- activities
    "GET /api/v1/activities": {"-": READ},
    "POST /api/v1/activities": {**_creates(unknown=(403, 422)), "own": (401, 403, 403, 201, 201, 201)},
    "GET /api/v1/activities/{activity_id}": READS,
    "PATCH /api/v1/activities/{activity_id}": _led(200),
    "POST /api/v1/activities/{activity_id}/publish": _led(200),
    "POST /api/v1/activities/{activity_id}/start": _led(200),
    "POST /api/v1/activities/{activity_id}/complete": _led(200),
    "POST /api/v1/activities/{activity_id}/cancel": _led(200),
    "POST /api/v1/activities/{activity_id}/signup": {"in": SIGN_UP, "out": SIGN_UP, "unknown": SELF_UNKNOWN},
    "GET /api/v1/activities/{activity_id}/signup": {"in": SIGNED_UP, "out": SIGNED_UP, "unknown": SELF_UNKNOWN},
    "POST /api/v1/activities/{activity_id}/signup/cancel": {"in": SIGNED_UP, "unknown": SELF_UNKNOWN},
    "POST /api/v1/activities/{activity_id}/check-in": {"in": SIGNED_UP, "unknown": SELF_UNKNOWN},
    "POST /api/v1/activities/{activity_id}/check-out": {"in": SIGNED_UP, "unknown": SELF_UNKNOWN},
    "GET /api/v1/me/signups": {"-": SIGNED_UP},
    "GET /api/v1/activities/{activity_id}/signups": _led(200),
    "POST /api/v1/activities/{activity_id}/signups/{volunteer_id}/remove": _led(200),
    "POST /api/v1/activities/{activity_id}/attendance": _led(200),
    # -- series
    "GET /api/v1/series": {"-": READ},
    "POST /api/v1/series": {**_creates(unknown=(403, 422)), "own": (401, 403, 403, 201, 201, 201)},
    "GET /api/v1/series/{series_id}": READS,
    "POST /api/v1/series/{series_id}/generate": _led(200),
    "PATCH /api/v1/series/{series_id}/from/{activity_id}": _led(200),
    "POST /api/v1/series/{series_id}/end": _led(200),
    # -- ledgers
    "POST /api/v1/activities/{activity_id}/files": _led(201),
    "GET /api/v1/activities/{activity_id}/files": _led(200),
    "GET /api/v1/activities/{activity_id}/files/{file_id}": _led(200),
    "DELETE /api/v1/activities/{activity_id}/files/{file_id}": _led(204),
    "GET /api/v1/activities/{activity_id}/ledger": _led(200),
    "PUT /api/v1/activities/{activity_id}/ledger": _led(200),
    "POST /api/v1/activities/{activity_id}/record": _led(200),
    "GET /api/v1/centers/{center_id}/ledger-export": {**_admins(200), "unknown": (401, 403, 403, 403, 403, 404)},
    # -- calendars (feeds are fetched by calendar clients, which send no token) and statistics
    "GET /api/v1/centers/{center_id}/activities.ics": {"in": PUBLIC, "out": PUBLIC, "unknown": (404,) * 6},
    "GET /api/v1/calendars/{token}.ics": {"own": PUBLIC, "unknown": (404,) * 6},
    "POST /api/v1/me/calendar": {"-": SUBMIT},
    "DELETE /api/v1/me/calendar": {"-": (401, 403, 204, 204, 403, 403)},
    "GET /api/v1/centers/{center_id}/activity-statistics": _admins(200),
}

# what the target of each route is, where `in`/`out`/`self`/`own` alone do not say (the doc's prose)
TARGETS = {
    "POST /api/v1/accounts": "the new account's scope_center_id",
    "PATCH /api/v1/accounts/{account_id}": "the account's scope_center_id (a volunteer, made team_leader)",
    "POST /api/v1/accounts/{account_id}/deactivation": "the account's scope_center_id (a volunteer)",
    "POST /api/v1/centers": "parent_id",
    "POST /api/v1/centers/{center_id}/move": "the center moved (to a parent on the same side)",
    "POST /api/v1/volunteers": "home_station_id",
    "POST /api/v1/volunteers/{volunteer_id}/status": "the volunteer, deregistered (the status they may set themself)",
    "POST /api/v1/volunteers/{volunteer_id}/transfer": "the volunteer, moved to a station on the same side",
    "POST /api/v1/me/volunteer": "- (the volunteer caller: an account without a record yet)",
    "POST /api/v1/teams": "center_id",
    "POST /api/v1/teams/{team_id}/members": "the team; the volunteer caller is added",
    "POST /api/v1/teams/{team_id}/members/{volunteer_id}/removal": "the team; the volunteer caller is removed",
    "POST /api/v1/teams/{team_id}/leave": "`own`: a team the volunteer caller has joined, led by the team_leader",
    "POST /api/v1/teams/{team_id}/applications/{application_id}/approve": "the volunteer caller's application to it",
    "POST /api/v1/teams/{team_id}/applications/{application_id}/withdraw": "`self`: the caller's own application",
    "POST /api/v1/goods/{goods_id}/redeem": "the goods' center; for the volunteer caller (volunteer_id)",
    "POST /api/v1/redemptions/{redemption_id}/cancellation": "the redemption's center",
    "GET /api/v1/backfills/{backfill_id}": "its organizing center; `in`/`out`: another volunteer's",
    "POST /api/v1/me/backfills": "center_id (the organizing center)",
    "POST /api/v1/hour-entries/{entry_id}/dispute": "`self`: the caller's own entry; `in`: another volunteer's",
    "POST /api/v1/hour-entries/{entry_id}/resolve": "the entry's organizing center (a disputed entry)",
    "POST /api/v1/volunteer-imports": "center_id",
    "POST /api/v1/activities": "organizer_center_id; `own`: with the team the team_leader leads (its center a1)",
    "PATCH /api/v1/activities/{activity_id}": "the organizing center; `own`: an activity of the led team",
    "POST /api/v1/activities/{activity_id}/signup": "a published activity (a fresh one each cell)",
    "GET /api/v1/activities/{activity_id}/signup": "an activity the volunteer and the team_leader signed up for",
    "POST /api/v1/activities/{activity_id}/signups/{volunteer_id}/remove": "the activity; the volunteer caller removed",
    "POST /api/v1/activities/{activity_id}/attendance": "an activity under way; the volunteer caller attended",
    "POST /api/v1/series": "organizer_center_id; `own`: with the team the team_leader leads (its center a1)",
    "PATCH /api/v1/series/{series_id}/from/{activity_id}": "a published series at the target; its first occurrence",
    "GET /api/v1/calendars/{token}.ics": "`own`: the volunteer caller's secret feed token; `unknown`: one never issued",
    "GET /api/v1/activities/{activity_id}/files/{file_id}": "a completed activity with its ledger filed and a photo",
    "POST /api/v1/activities/{activity_id}/record": "a completed activity with its ledger filed and a photo",
}


def cells():
    for route, by_target in MATRIX.items():
        for target, statuses in by_target.items():
            yield route, target, dict(zip(CALLERS, statuses, strict=True))


def module_of(route):
    """The module of gateway/routes that declares `route`."""
    return DECLARED[route].handler.__module__.rsplit(".", 1)[1]


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
    assert set(MATRIX) == set(DECLARED)
    for route, target, expected in cells():
        spec = DECLARED[route]
        assert (expected["anonymous"] == 401) is spec.auth.requires_token, route
        for role in CALLERS[1:]:
            if spec.auth.roles is not None and role not in spec.auth.roles:  # the gateway refuses the role
                assert expected[role] == 403, (route, target, role)
            if expected[role] < 300:
                assert expected[role] == spec.status, (route, target, role)


# -- every cell against the gateway ------------------------------------------------------------


class World:
    """The tree, the callers' tokens and the targets, made through the API by the county admin.

    Targets are made on first use: a shared one once (reads, and additions that leave the
    target as it was), a fresh one for each cell that changes its target."""

    def __init__(self, web, tokens, identity_store, amqp_uri):
        self.web = web
        self._mint = tokens
        self._store = identity_store
        self._amqp_uri = amqp_uri
        self.county = tokens("8001", "county_admin")
        self.ids = {}
        self._made = 0
        self._accounts = {}
        self._shared = {}
        for name, level, parent in (
            ("county", "center", None),
            ("a", "institute", "county"),
            ("a1", "station", "a"),
            ("a2", "station", "a"),
            ("b", "institute", "county"),
            ("b1", "station", "b"),
            ("b2", "station", "b"),
        ):
            self.ids[name] = self.center(level, self.ids.get(parent))
        self._labels = {"resident": "8002", "volunteer": "8003", "center_admin": "8005"}
        self.tokens = {
            "anonymous": None,
            "resident": tokens("8002", "resident"),
            "volunteer": tokens("8003", "volunteer"),
            "center_admin": tokens("8005", "center_admin", self.ids["a"]),
            "county_admin": self.county,
        }
        self.own = self.register(self.ids["a1"], self.tokens["volunteer"])  # the volunteer caller's record
        self._leader, self.leader_volunteer = self._team_leader()
        self.tokens["team_leader"] = self.login(self._leader)

    # -- requests and callers

    def call(self, method, path, body=None, token=None, expect=200):
        """The JSON answer of a request the world needs (by the county admin unless `token`)."""
        response = self.web.request(method, path, json=body, token=token or self.county)
        assert response.status_code == expect, f"{method} {path}: {response.text[:300]}"
        return response.json()

    def unique(self, prefix=""):
        self._made += 1
        return f"{prefix}{self._made}"

    def once(self, key, make):
        """The shared target `key`, made by `make()` on first use."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]

    def login(self, username):
        token = self.call("POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD})["access_token"]
        known_to_the_gateway(self.web, token)
        return token

    def account_body(self, username, role, scope):
        return {
            "username": username,
            "password": PASSWORD,
            "role": role,
            "scope_center_id": scope,
            "display_name": username,
        }

    def _team_leader(self):
        """(username, volunteer id) of the team_leader caller: an account that registered as a
        volunteer of a1 and was then made team leader at a; its record stays linked to it."""
        username = self.unique("matrix.leader.")
        account = self.call("POST", "/api/v1/accounts", self.account_body(username, "volunteer", None), expect=201)
        volunteer = self.register(self.ids["a1"], self.login(username))
        change = {"role": "team_leader", "scope_center_id": self.ids["a"]}
        self.call("PATCH", f"/api/v1/accounts/{account['id']}", change)
        return username, volunteer

    def fresh_token(self, caller):
        """Another token of the caller's account (for a cell that revokes it)."""
        if caller == "anonymous":
            return None
        if caller == "county_admin":
            return self._mint("8001", "county_admin")
        if caller == "team_leader":
            return self.login(self._leader)
        scope = self.ids["a"] if caller == "center_admin" else None
        return self._mint(self._labels[caller], caller, scope)

    def volunteer_account(self):
        """The token of a new volunteer account, without a volunteer record yet."""
        return self._mint(self.unique("v"), "volunteer")

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
            self.call("POST", "/api/v1/accounts", self.account_body(username, role, scope), expect=201)
            self._accounts[caller] = (username, self.login(username))
        return self._accounts[caller]

    def target_account(self, target):
        """A fresh volunteer account scoped on the target's side, or an unknown id."""
        if target == "unknown":
            return UNKNOWN
        account_id, _ = add_account(self._store, self.unique("target."), "volunteer", self.station(target))
        return account_id

    # -- the ids of targets

    def path(self, route, target, **given):
        """The route's path on the target: each id it names from `given`, else the target's shared one."""
        template = route.split()[1]
        shared = {
            "account_id": self.target_account,
            "center_id": self.station,
            "venue_id": self.venue,
            "volunteer_id": self.volunteer,
            "team_id": self.team,
            "goods_id": self.goods,
            "backfill_id": self.backfill,
            "import_id": self.import_run,
            "number": lambda target: self.certificate(target)["certificate"]["number"],
            "position": lambda target: 1,
            "activity_id": self.activity,
            "token": self.calendar_token,
            "file_id": lambda target: self.filed(target)[1],
        }
        names = re.findall(r"{(\w+)}", template)
        return template.format(**{name: given[name] if name in given else shared[name](target) for name in names})

    def station(self, target):
        """A center on the target's side (`in`, `self`, `own`: a1; `out`: b1) or an unknown id."""
        return {"in": self.ids["a1"], "self": self.ids["a1"], "own": self.ids["a1"], "out": self.ids["b1"]}.get(
            target, UNKNOWN
        )

    def sibling(self, target):
        """Another station on the target's side (a2, b2): where a move or a transfer goes."""
        return self.ids["b2"] if target == "out" else self.ids["a2"]

    def center(self, level, parent_id):
        body = {"code": self.unique("m-"), "name": "矩阵测试", "level": level, "parent_id": parent_id}
        return self.call("POST", "/api/v1/centers", body, expect=201)["id"]

    def fresh(self, target, level="point"):
        """A new center of its own under the target's side, for a cell that changes it."""
        return UNKNOWN if target == "unknown" else self.center(level, self.station(target))

    def venue(self, target, fresh=False):
        if target == "unknown":
            return UNKNOWN
        if not fresh:
            return self.once(("venue", target), lambda: self.venue(target, fresh=True))
        body = {"name": "文化服务室", "kind": "culture"}
        return self.call("POST", f"/api/v1/centers/{self.station(target)}/venues", body, expect=201)["id"]

    # -- volunteers

    def person(self, station_id):
        """A valid registration of a new person (unique ID number and phone) at `station_id`."""
        serial = int(self.unique())
        return {
            "name": "矩阵志愿者",
            "id_number": id_number(serial, date(1980, 1, 1) + timedelta(days=serial // 1000)),
            "phone": phone(serial),
            "service_categories": ["education"],
            "home_station_id": station_id,
            "privacy_consent": {"version": PRIVACY_STATEMENT_VERSION},
        }

    def register(self, station_id, token=None):
        """A new volunteer's id: registered by the county admin, or by the volunteer account of `token`."""
        path = "/api/v1/volunteers" if token is None else "/api/v1/me/volunteer"
        return self.call("POST", path, self.person(station_id), token, expect=201)["id"]

    def linked_volunteer(self):
        """(id, token) of a new volunteer of a1 with an account of its own."""
        token = self.volunteer_account()
        return self.register(self.ids["a1"], token), token

    def volunteer(self, target, fresh=False):
        """A volunteer: `in` of a1, `out` of b1 (registered by the county admin), `self` the
        volunteer caller's own record, or an unknown id."""
        if target == "unknown":
            return UNKNOWN
        if target == "self":
            return self.own
        if not fresh:
            return self.once(("volunteer", target), lambda: self.volunteer(target, fresh=True))
        return self.register(self.station(target))

    def neighbour(self):
        """(id, token) of another volunteer of a1 with an account: whose back-fills and entries
        are `in` and `out` targets (organized at a1, b1)."""
        return self.once("neighbour", self.linked_volunteer)

    def credited(self):
        """Hours and points for the volunteer caller and the `in` and `out` volunteers: an
        attendance each, as the activities service announces it, organized at their station."""
        return self.once("credited", self._credit)

    def _credit(self):
        exchange = Exchange(f"{ACTIVITIES}.events", type="topic", durable=True)
        volunteers = [self.volunteer(target) for target in ("self", "in", "out")]
        with Connection(self._amqp_uri) as connection:
            producer = Producer(connection.default_channel, serializer=SERIALIZER)
            for volunteer, target in zip(volunteers, ("self", "in", "out"), strict=True):
                attendance_id = int(self.unique())
                data = {
                    "attendance_id": attendance_id,
                    "revision": 1,
                    "activity_id": attendance_id,
                    "activity_title": "文明旅游引导",
                    "organizer_center_id": self.station(target),
                    "team_id": None,
                    "volunteer_id": volunteer,
                    "served_on": SERVED_ON,
                    "hours": 2,
                    "points_rule": {"kind": "flat", "rate": POINTS},
                    "confirmed_at": f"{SERVED_ON}T10:00:00Z",
                }
                event = make_event(ACTIVITIES, ATTENDANCE_CONFIRMED, str(attendance_id), data)
                producer.publish(
                    event,
                    exchange=exchange,
                    routing_key=ATTENDANCE_CONFIRMED,
                    declare=[exchange],
                    message_id=event["id"],
                )
        for volunteer in volunteers:
            wait_for(lambda volunteer=volunteer: self._has_credit(volunteer), what="the attendance to be credited")
        return True

    def _has_credit(self, volunteer):
        hours = self.call("GET", f"/api/v1/volunteers/{volunteer}/hours")["total_hours"]
        return hours > 0 and self.call("GET", f"/api/v1/volunteers/{volunteer}/points")["balance"] > 0

    # -- teams

    def team_body(self, center_id, leader):
        name = self.unique("矩阵服务队")
        return {"center_id": center_id, "name": name, "kind": "civilized_tourism", "leader_volunteer_id": leader}

    def team(self, target, fresh=False, joined=None):
        """A team: `in` of a1 led by the `in` volunteer, `out` of b1 led by the `out` volunteer,
        `own` of a1 led by the team_leader caller, or an unknown id. `joined`: with the
        volunteer caller as a member (by default in `own` only)."""
        if target == "unknown":
            return UNKNOWN
        joined = target == "own" if joined is None else joined
        if not fresh:
            return self.once(("team", target, joined), lambda: self.team(target, fresh=True, joined=joined))
        leader = self.leader_volunteer if target == "own" else self.volunteer(target)
        team = self.call("POST", "/api/v1/teams", self.team_body(self.station(target), leader), expect=201)["id"]
        if joined:
            self.call("POST", f"/api/v1/teams/{team}/members", {"volunteer_id": self.own}, expect=201)
        return team

    def application(self, target):
        """(team, application): the volunteer caller's pending application to a new team on the
        target's side (`self`: in a1), or unknown ids."""
        if target == "unknown":
            return UNKNOWN, UNKNOWN
        team = self.team("in" if target == "self" else target, fresh=True, joined=False)
        path = f"/api/v1/teams/{team}/applications"
        return team, self.call("POST", path, {"note": "矩阵测试"}, self.tokens["volunteer"], expect=201)["id"]

    # -- goods, redemptions, certificates

    def goods_body(self):
        return {"name": self.unique("大米"), "price": 1, "stock": 100}

    def goods(self, target, fresh=False):
        """Goods of the target's station, or an unknown id."""
        if target == "unknown":
            return UNKNOWN
        if not fresh:
            return self.once(("goods", target), lambda: self.goods(target, fresh=True))
        return self.call("POST", f"/api/v1/centers/{self.station(target)}/goods", self.goods_body(), expect=201)["id"]

    def redemption(self, target):
        """A fresh redemption at the target's station, for the volunteer caller (by the county admin)."""
        if target == "unknown":
            return UNKNOWN
        self.credited()
        path = f"/api/v1/goods/{self.goods(target, fresh=True)}/redeem"
        return self.call("POST", path, {"volunteer_id": self.own}, expect=201)["id"]

    def certificate(self, target):
        """The certificate document of the target's volunteer (issued by the county admin); of
        the `in` volunteer for any other target."""
        target = target if target in ("out", "self") else "in"
        return self.once(("certificate", target), lambda: self._issue(self.volunteer(target)))

    def _issue(self, volunteer):
        self.credited()
        return self.call("POST", f"/api/v1/volunteers/{volunteer}/certificates", PERIOD, expect=201)

    # -- hours

    def backfill_body(self, center_id):
        return {
            "activity_title": "社区清扫",
            "center_id": center_id,
            "served_on": SERVED_ON,
            "hours": 1.5,
            "explanation": "组织者漏记，站长可证明。",
            "photos": [{"content_type": "image/png", "data": base64.b64encode(PNG).decode()}],
        }

    def owner(self, target):
        """The token of whoever's back-fills and entries the target names: `self` the volunteer
        caller's, `in` and `out` the neighbour's."""
        return self.tokens["volunteer"] if target == "self" else self.neighbour()[1]

    def backfill(self, target, fresh=False):
        """A pending back-fill, with a photo, organized at the target's station, or an unknown id."""
        if target == "unknown":
            return UNKNOWN
        if not fresh:
            return self.once(("backfill", target), lambda: self.backfill(target, fresh=True))
        body = self.backfill_body(self.station(target))
        return self.call("POST", "/api/v1/me/backfills", body, self.owner(target), expect=201)["id"]

    def entry(self, target, disputed=False):
        """A fresh hour entry (a back-fill the county admin approved), disputed by its volunteer if asked."""
        if target == "unknown":
            return UNKNOWN
        entry = self.call("POST", f"/api/v1/backfills/{self.backfill(target, fresh=True)}/approve")["entry_id"]
        if disputed:
            body = {"reason": "时长有误"}
            self.call("POST", f"/api/v1/hour-entries/{entry}/dispute", body, self.owner(target), expect=201)
        return entry

    # -- activities

    def activity_body(self, center_id, team_id=None):
        starts = utcnow() + timedelta(minutes=30)  # check-in is open, and an organizer may start it
        return {
            "title": "矩阵测试活动",
            "platform": "culture",
            "organizer_center_id": center_id,
            "team_id": team_id,
            "place": "文化广场",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "capacity": 10,
        }

    def activity(self, target, fresh=False, status="published", signed=False, checked_in=False):
        """An activity organized at the target's station (`own`: of the team the team_leader
        leads), in `status` (draft, published or in_progress); `signed`: the volunteer and the
        team_leader callers signed up (and checked in, if asked); or an unknown id."""
        if target == "unknown":
            return UNKNOWN
        if not fresh:
            key = ("activity", target, status, signed, checked_in)
            return self.once(key, lambda: self.activity(target, True, status, signed, checked_in))
        team = self.team("own") if target == "own" else None
        activity = self.call("POST", "/api/v1/activities", self.activity_body(self.station(target), team), expect=201)
        base = f"/api/v1/activities/{activity['id']}"
        if status != "draft":
            self.call("POST", base + "/publish")
        if signed:
            self.once("activities know the callers", self._activities_know_the_callers)
            for caller in ("volunteer", "team_leader"):
                self.call("POST", base + "/signup", None, self.tokens[caller], expect=201)
                if checked_in:
                    self.call("POST", base + "/check-in", {}, self.tokens[caller])
        if status == "in_progress":
            self.call("POST", base + "/start")
        return activity["id"]

    def filed(self, target, fresh=False):
        """(activity, file): a completed activity with its ledger filed and a photo, or unknown ids."""
        if target == "unknown":
            return UNKNOWN, UNKNOWN
        if not fresh:
            return self.once(("filed", target), lambda: self.filed(target, fresh=True))
        activity = self.activity(target, True, "in_progress")
        base = f"/api/v1/activities/{activity}"
        self.call("POST", base + "/complete")
        self.call("PUT", base + "/ledger", LEDGER)
        return activity, self.call("POST", base + "/files", PHOTO, expect=201)["id"]

    def calendar_token(self, target):
        """The volunteer caller's secret calendar token (issued once), or one never issued."""
        if target == "unknown":
            return "A" * 43
        self.once("activities know the callers", self._activities_know_the_callers)
        return self.once("calendar token", self._issue_calendar_token)["token"]

    def _issue_calendar_token(self):
        return self.call("POST", "/api/v1/me/calendar", None, self.tokens["volunteer"], expect=201)

    def _activities_know_the_callers(self):
        """The activities service copies volunteers from the volunteers service's events."""
        for caller in ("volunteer", "team_leader"):
            token = self.tokens[caller]
            wait_for(lambda token=token: self.web.get("/api/v1/me/signups", token=token).status_code == 200)
        return True

    def series_body(self, center_id, team_id=None):
        body = self.activity_body(center_id, team_id)
        first = body.pop("starts_at")
        del body["ends_at"]
        return {
            **body,
            "rrule": "FREQ=WEEKLY;COUNT=2",
            "first_starts_at": first,
            "duration_minutes": 60,
            "publish": True,
        }

    def series(self, target, fresh=False):
        """(series id, its first occurrence's id): a published weekly series of two at the
        target's station (`own`: of the team the team_leader leads), or unknown ids."""
        if target == "unknown":
            return UNKNOWN, UNKNOWN
        if not fresh:
            return self.once(("series", target), lambda: self.series(target, True))
        team = self.team("own") if target == "own" else None
        made = self.call("POST", "/api/v1/series", self.series_body(self.station(target), team), expect=201)
        first = self.call("GET", f"/api/v1/activities?series_id={made['id']}")["items"][0]
        return made["id"], first["id"]

    # -- imports

    def upload(self, center_id):
        """A one-row CSV of a new person, to import into `center_id`."""
        person = self.person(center_id)
        text = f"姓名,身份证号,手机号\r\n{person['name']},{person['id_number']},{person['phone']}\r\n"
        return {
            "center_id": center_id,
            "file_name": "志愿者名单.csv",
            "content": base64.b64encode(text.encode()).decode(),
            "privacy_consent": {"version": PRIVACY_STATEMENT_VERSION, "attested": True},
        }

    def import_run(self, target):
        """An import run into the target's station (by the county admin), or an unknown id."""
        if target == "unknown":
            return UNKNOWN
        return self.once(("import", target), lambda: self._start_import(self.station(target)))

    def _start_import(self, center_id):
        return self.call("POST", "/api/v1/volunteer-imports", self.upload(center_id), expect=201)["id"]


# bodies that name no target
BODIES = {
    "PATCH /api/v1/accounts/{account_id}": {"role": "team_leader"},
    "POST /api/v1/accounts/{account_id}/deactivation": {"reason": "矩阵测试"},
    "POST /api/v1/accounts/{account_id}/reactivation": {"reason": "矩阵测试"},
    "PATCH /api/v1/centers/{center_id}": {"floor_area_m2": 55.0},
    "POST /api/v1/centers/{center_id}/status": {"status": "suspended", "reason": "装修"},
    "POST /api/v1/centers/{center_id}/venues": {"name": "法律援助室", "kind": "legal_aid"},
    "PATCH /api/v1/venues/{venue_id}": {"capacity": 30},
    "PATCH /api/v1/volunteers/{volunteer_id}": {"skills": ["书法"]},
    "POST /api/v1/volunteers/{volunteer_id}/status": {"status": "deregistered", "reason": "本人申请"},
    "POST /api/v1/volunteers/{volunteer_id}/reveal": {"fields": ["id_number"], "reason": "核实身份"},
    "PATCH /api/v1/teams/{team_id}": {"description": "矩阵测试"},
    "POST /api/v1/teams/{team_id}/status": {"status": "dissolved", "reason": "矩阵测试"},
    "POST /api/v1/teams/{team_id}/members/{volunteer_id}/removal": {"reason": "矩阵测试"},
    "POST /api/v1/teams/{team_id}/applications": {"note": "周末有空"},
    "POST /api/v1/teams/{team_id}/applications/{application_id}/reject": {"reason": "名额已满"},
    "PATCH /api/v1/goods/{goods_id}": {"price": 2},
    "POST /api/v1/goods/{goods_id}/stock": {"delta": 5},
    "POST /api/v1/redemptions/{redemption_id}/cancellation": {"reason": "误操作"},
    "POST /api/v1/volunteers/{volunteer_id}/certificates": PERIOD,
    "POST /api/v1/backfills/{backfill_id}/reject": {"reason": "无法核实"},
    "POST /api/v1/hour-entries/{entry_id}/dispute": {"reason": "时长有误"},
    "POST /api/v1/hour-entries/{entry_id}/resolve": {"outcome": "rejected", "note": "核实无误"},
    "POST /api/v1/hour-entries/{entry_id}/revoke": {"reason": "核查不实"},
    "PATCH /api/v1/activities/{activity_id}": {"description": "矩阵测试"},
    "POST /api/v1/activities/{activity_id}/cancel": {"reason": "矩阵测试"},
    "POST /api/v1/activities/{activity_id}/signup/cancel": {},
    "POST /api/v1/activities/{activity_id}/check-in": {},
    "POST /api/v1/activities/{activity_id}/signups/{volunteer_id}/remove": {},
    "POST /api/v1/series/{series_id}/generate": {},
    "PATCH /api/v1/series/{series_id}/from/{activity_id}": {"description": "矩阵测试"},
    "POST /api/v1/series/{series_id}/end": {"reason": "矩阵测试"},
    "POST /api/v1/activities/{activity_id}/files": PHOTO,
    "PUT /api/v1/activities/{activity_id}/ledger": LEDGER,
}

# the body of each route that creates something under the center it names (the target)
CREATIONS = {
    "POST /api/v1/accounts": lambda world, center: world.account_body(world.unique("made."), "volunteer", center),
    "POST /api/v1/centers": lambda world, center: {
        "code": world.unique("new-"),
        "name": "新实践点",
        "level": "point",
        "parent_id": center,
    },
    "POST /api/v1/volunteers": World.person,
    "POST /api/v1/teams": lambda world, center: world.team_body(center, world.volunteer("in")),
    "POST /api/v1/me/backfills": World.backfill_body,
    "POST /api/v1/volunteer-imports": World.upload,
}

# routes whose cells change their target's team (a fresh one each) or its application
FRESH_TEAM = (
    "PATCH /api/v1/teams/{team_id}",
    "POST /api/v1/teams/{team_id}/status",
    "POST /api/v1/teams/{team_id}/members",
    "POST /api/v1/teams/{team_id}/leave",
    "POST /api/v1/teams/{team_id}/applications",
)
# routes whose cells change their activity: the state a fresh one is made in (status, signed, checked in)
FRESH_ACTIVITY = {
    "POST /api/v1/activities/{activity_id}/publish": ("draft", False, False),
    "POST /api/v1/activities/{activity_id}/start": ("published", False, False),
    "POST /api/v1/activities/{activity_id}/complete": ("in_progress", False, False),
    "POST /api/v1/activities/{activity_id}/cancel": ("published", False, False),
    "POST /api/v1/activities/{activity_id}/signup": ("published", False, False),
    "POST /api/v1/activities/{activity_id}/signup/cancel": ("published", True, False),
    "POST /api/v1/activities/{activity_id}/check-in": ("published", True, False),
    "POST /api/v1/activities/{activity_id}/check-out": ("published", True, True),
    "POST /api/v1/activities/{activity_id}/signups/{volunteer_id}/remove": ("published", True, False),
    "POST /api/v1/activities/{activity_id}/attendance": ("in_progress", True, False),
}
# routes on a completed activity with its ledger and a photo (a fresh one where the cell changes it)
LEDGER_ROUTES = tuple(
    f"{method} /api/v1/activities/{{activity_id}}/{tail}"
    for method, tail in (
        ("POST", "files"),
        ("GET", "files"),
        ("GET", "files/{file_id}"),
        ("DELETE", "files/{file_id}"),
        ("GET", "ledger"),
        ("PUT", "ledger"),
        ("POST", "record"),
    )
)
FRESH_LEDGER_ROUTES = (
    "DELETE /api/v1/activities/{activity_id}/files/{file_id}",
    "POST /api/v1/activities/{activity_id}/record",
)
DECISIONS = tuple(
    f"POST /api/v1/teams/{{team_id}}/applications/{{application_id}}/{decision}"
    for decision in ("approve", "reject", "withdraw")
)


def request_for(world, route, target, caller):
    """(method, path, json body, token) of one cell, with fresh targets where the cell changes them."""
    method = route.split()[0]
    token = world.tokens[caller]
    body = BODIES.get(route)
    given = {}  # the ids of fresh targets
    query = ""
    if route == "POST /api/v1/auth/token":
        body = {"username": world.account("resident")[0], "password": PASSWORD}
    elif route == "GET /api/v1/me":
        token = None if caller == "anonymous" else world.account(caller)[1]
    elif route == "POST /api/v1/auth/logout":
        token = world.fresh_token(caller)
    elif route in CREATIONS:
        body = CREATIONS[route](world, world.station(target))
    elif route in ("POST /api/v1/volunteers/sign-up", "POST /api/v1/me/volunteer"):
        body = world.person(world.ids["a1"])
        if route.endswith("sign-up"):
            body.update(username=world.unique("signed.up."), password=PASSWORD)
        elif caller == "volunteer":
            token = world.volunteer_account()
    elif route in ("PATCH /api/v1/centers/{center_id}", "POST /api/v1/centers/{center_id}/status"):
        given["center_id"] = world.fresh(target)
    elif route == "POST /api/v1/centers/{center_id}/move":
        given["center_id"], body = world.fresh(target), {"parent_id": world.sibling(target)}
    elif route in ("PATCH /api/v1/venues/{venue_id}", "DELETE /api/v1/venues/{venue_id}"):
        given["venue_id"] = world.venue(target, fresh=True)
    elif route in ("PATCH /api/v1/volunteers/{volunteer_id}", "POST /api/v1/volunteers/{volunteer_id}/status"):
        if target == "self":  # a new record of a new volunteer account, whose token the volunteer caller uses
            given["volunteer_id"], own_token = world.linked_volunteer()
            token = own_token if caller == "volunteer" else token
        else:
            given["volunteer_id"] = world.volunteer(target, fresh=True)
    elif route == "POST /api/v1/volunteers/{volunteer_id}/transfer":
        given["volunteer_id"] = world.volunteer(target, fresh=True)
        body = {"to_station_id": world.sibling(target), "reason": "搬迁"}
    elif route in FRESH_TEAM:
        given["team_id"] = world.team(target, fresh=True)
        if route.endswith("/members"):
            body = {"volunteer_id": world.own}
    elif route == "POST /api/v1/teams/{team_id}/members/{volunteer_id}/removal":
        given["team_id"], given["volunteer_id"] = world.team(target, fresh=True, joined=True), world.own
    elif route in DECISIONS:
        given["team_id"], given["application_id"] = world.application(target)
    elif route == "POST /api/v1/centers/{center_id}/goods":
        body = world.goods_body()
    elif route in ("PATCH /api/v1/goods/{goods_id}", "POST /api/v1/goods/{goods_id}/stock"):
        given["goods_id"] = world.goods(target, fresh=True)
    elif route == "POST /api/v1/goods/{goods_id}/redeem":
        world.credited()
        given["goods_id"], body = world.goods(target, fresh=True), {"volunteer_id": world.own}
    elif route == "POST /api/v1/redemptions/{redemption_id}/cancellation":
        given["redemption_id"] = world.redemption(target)
    elif route == "POST /api/v1/volunteers/{volunteer_id}/certificates":
        world.credited()
    elif route == "POST /api/v1/certificates/verify":
        body = world.certificate(target)
    elif route == "GET /api/v1/certificates/{number}/verify":
        query = f"?code={world.certificate(target)['verification_code']}"
    elif route in ("POST /api/v1/backfills/{backfill_id}/approve", "POST /api/v1/backfills/{backfill_id}/reject"):
        given["backfill_id"] = world.backfill(target, fresh=True)
    elif route.startswith("POST /api/v1/hour-entries/"):
        given["entry_id"] = world.entry(target, disputed=route.endswith("/resolve"))
    elif route == "GET /api/v1/centers/{center_id}/activity-statistics":
        query = f"?from={TODAY}&to={TODAY}"
    elif route == "GET /api/v1/centers/{center_id}/ledger-export":
        query = f"?starts_from={TODAY}&starts_to={TODAY}"
    elif route in LEDGER_ROUTES:
        given["activity_id"], given["file_id"] = world.filed(target, fresh=route in FRESH_LEDGER_ROUTES)
    elif route == "POST /api/v1/activities":
        body = world.activity_body(world.station(target), world.team("own") if target == "own" else None)
    elif route == "GET /api/v1/activities/{activity_id}/signup":
        given["activity_id"] = world.activity(target, signed=True)
    elif route in FRESH_ACTIVITY:
        status, signed, checked_in = FRESH_ACTIVITY[route]
        given["activity_id"] = world.activity(target, True, status, signed, checked_in)
        given["volunteer_id"] = world.own
        if route.endswith("/attendance"):
            body = {"attendances": [{"volunteer_id": world.own, "attendance": "attended"}]}
    elif route == "POST /api/v1/series":
        body = world.series_body(world.station(target), world.team("own") if target == "own" else None)
    elif "{series_id}" in route:  # ending changes its series: a fresh one each cell
        given["series_id"], given["activity_id"] = world.series(target, fresh=route.endswith("/end"))
    return method, world.path(route, target, **given) + query, body, token


@pytest.fixture
def world(activities_service, start_gateway, web, tokens, identity_store, amqp_uri):
    start_gateway()
    return World(web, tokens, identity_store, amqp_uri)


@pytest.mark.parametrize("module", sorted({module_of(route) for route in MATRIX if route in DECLARED}))
def test_every_cell_of_the_module(module, world, web, subtests):
    for route in (route for route in MATRIX if route in DECLARED and module_of(route) == module):
        for target, statuses in MATRIX[route].items():
            for caller, expected in zip(CALLERS, statuses, strict=True):
                with subtests.test(route=route, target=target, caller=caller):
                    method, path, body, token = request_for(world, route, target, caller)
                    response = web.request(method, path, json=body, token=token)
                    assert response.status_code == expected, f"{route} {target} {caller}: {response.text[:300]}"
                    if expected >= 400:
                        assert response.headers["Content-Type"] == "application/problem+json"
