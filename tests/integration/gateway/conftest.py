"""The gateway (asyncio: a process of its own) against the real broker, with the identity
service (which publishes the keys tokens are verified with) and, for most tests, the centers
service, both in-process."""

import re
import time
from datetime import timedelta

import jwt
import pytest
import requests

from services.activities import migrate as activities_migrate
from services.activities.service import ActivitiesService
from services.chassis.clock import iso, utcnow
from services.chassis.db import Store
from services.identity import migrate as identity_migrate
from services.identity.contract import ACCOUNT_CHANGED, account_state
from services.identity.keys import SigningKeys, issue_token, new_private_pem
from services.identity.models import Account, Base
from services.identity.service import IdentityService
from services.volunteers import migrate as volunteers_migrate
from services.volunteers.contract.registration import VOLUNTEER_REGISTERED
from services.volunteers.models import Volunteer
from services.volunteers.service import VolunteersService
from services.volunteers.views import event_data as volunteer_event_data
from tests.support.net import free_port
from tests.support.processes import log_tail, start_module, stop
from tests.support.volunteer_keys import KEYS as VOLUNTEER_KEYS
from tests.support.waiting import wait_for

from ..conftest import make_tree

SIGNING_KEY = new_private_pem()
COUNTY = ("9001", "county_admin", None)


class WebSession(requests.Session):
    """nameko's web_session fixture imports werkzeug.urls.url_join, gone in werkzeug 3."""

    def __init__(self, base_url):
        super().__init__()
        self.base_url = base_url

    def request(self, method, url, *args, token=None, **kwargs):
        if token is not None:
            kwargs.setdefault("headers", {})["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 10)
        return super().request(method, self.base_url + url, *args, **kwargs)


@pytest.fixture
def web_config(nameko_config):
    """The gateway's HTTP port; the in-process services' config."""
    nameko_config.update({"IDENTITY_SIGNING_KEY": SIGNING_KEY, "RPC_TIMEOUT": 2, "OUTBOX_POLL_SECONDS": 0.1})
    return free_port()


@pytest.fixture
def gateway_metrics_port():
    return free_port()


@pytest.fixture
def identity_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    identity_migrate.upgrade(url)
    return url


@pytest.fixture
def identity_service(start_service, identity_db, web_config):
    return start_service(IdentityService, identity_db)


@pytest.fixture
def start_gateway(identity_service, web_config, gateway_metrics_port, amqp_uri, tmp_path):
    """Starts `python -m gateway` and waits until it is ready (it holds the public keys and
    the accounts). `start(web_port=…, metrics_port=…)` starts a replica on ports of its own."""
    processes = []

    def ready(process, metrics_port, log_path):
        assert process.poll() is None, f"the gateway exited:\n{log_tail(log_path)}"
        try:
            return requests.get(f"http://127.0.0.1:{metrics_port}/readyz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def start(web_port=None, metrics_port=None):
        web_port, metrics_port = web_port or web_config, metrics_port or gateway_metrics_port
        env = {
            "AMQP_URI": amqp_uri,
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{web_port}",
            "METRICS_HOST": "127.0.0.1",
            "METRICS_PORT": str(metrics_port),
            "RPC_TIMEOUT": "2",
            "HEADERS_TIMEOUT_SECONDS": "1",
        }
        log_path = tmp_path / ("gateway.log" if web_port == web_config else f"gateway-{web_port}.log")
        process = start_module(["gateway"], env, log_path)
        processes.append(process)
        wait_for(lambda: ready(process, metrics_port, log_path), timeout=30, what="the gateway to be ready")
        return process

    yield start
    for process in processes:
        stop(process)


@pytest.fixture
def gateway(centers_service, start_gateway):
    """One gateway process in front of identity and centers."""
    return start_gateway()


@pytest.fixture
def volunteers_service(start_service, centers_service, tmp_path, nameko_config):
    """The volunteers service (SQLite) beside centers, with its data keys."""
    nameko_config.update(VOLUNTEER_KEYS)
    url = f"sqlite:///{tmp_path / 'volunteers.db'}"
    volunteers_migrate.upgrade(url)
    return start_service(VolunteersService, url)


@pytest.fixture
def volunteers_gateway(volunteers_service, start_gateway):
    """One gateway process in front of identity, centers and volunteers."""
    return start_gateway()


@pytest.fixture
def activities_service(start_service, volunteers_service, tmp_path, nameko_config):
    """The activities service (SQLite) beside volunteers, whose events it copies; its files
    in the test's folder."""
    nameko_config["ACTIVITY_FILES_DIR"] = str(tmp_path / "activity-files")
    url = f"sqlite:///{tmp_path / 'activities.db'}"
    activities_migrate.upgrade(url)
    return start_service(ActivitiesService, url)


@pytest.fixture
def activities_gateway(activities_service, volunteers_gateway):
    """The one gateway process, in front of identity, centers, volunteers and activities
    (started once they all run). Never a second one: replicas of the test's port would share
    its metrics port, whose /readyz would answer for the first only."""
    return volunteers_gateway


@pytest.fixture
def volunteer_tree(volunteers_gateway, web, county_token):
    """county → a → a1; county → b → b1, made through the gateway: {name: center id}."""
    nodes = (
        ("county", "center", None),
        ("a", "institute", "county"),
        ("a1", "station", "a"),
        ("b", "institute", "county"),
        ("b1", "station", "b"),
    )
    return make_tree(lambda body: _created_center(web, body, county_token), "v", nodes)


def _created_center(web, body, token):
    response = web.post("/api/v1/centers", json=body, token=token)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def volunteer_of(tmp_path, volunteers_service):
    """`volunteer_of(token, station_id, name="测试志愿者")`: a volunteer record linked to the
    token's account, written straight into the volunteers database (no private data) with
    its `volunteer.registered` event, which the service's relay publishes; its id."""
    store = Store(f"sqlite:///{tmp_path / 'volunteers.db'}", VolunteersService.db.metadata, source="volunteers")

    def add(token, station_id, name="测试志愿者"):
        account_id = int(jwt.decode(token, options={"verify_signature": False})["sub"])
        now = utcnow()
        with store.unit_of_work() as uow:
            volunteer = Volunteer(
                volunteer_number=f"TEST-2026-{account_id:06d}",
                account_id=account_id,
                name=name,
                skills=[],
                service_categories=[],
                available_times=[],
                home_station_id=station_id,
                status="active",
                channel="staff",
                registered_by="test",
                version=1,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(volunteer)
            uow.flush()
            data = {**volunteer_event_data(volunteer), "channel": "staff"}
            uow.emit(VOLUNTEER_REGISTERED, subject=str(volunteer.id), data=data)
            return volunteer.id

    yield add
    store.dispose()


@pytest.fixture
def web(web_config):
    with WebSession(f"http://127.0.0.1:{web_config}") as session:
        yield session


def add_account(store, username, role, scope=None, password_hash="!no-login"):
    """An account row written straight into identity's database, with its `account.changed`
    event in the outbox (identity's relay publishes it): gateways learn it as they would
    from the service. Returns (id, version)."""
    with store.unit_of_work() as uow:
        account = Account(
            username=username,
            password_hash=password_hash,
            role=role,
            scope_center_id=scope,
            display_name=username,
            active=True,
            created_at=utcnow(),
            version=1,
        )
        uow.session.add(account)
        uow.flush()
        uow.emit(ACCOUNT_CHANGED, subject=str(account.id), data=account_state(account.id, 1, True, role, scope))
        return account.id, account.version


def known_to_the_gateway(web, token, timeout=10):
    """Wait until the gateway (if one is running) accepts `token`: its account's event has
    arrived. A gateway started later loads the account with its snapshot."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = web.get("/api/v1/me", token=token, timeout=2)
        except requests.ConnectionError:
            return  # no gateway yet
        if response.status_code != 401 or time.monotonic() > deadline:
            return
        time.sleep(0.05)


@pytest.fixture
def identity_store(identity_db):
    store = Store(identity_db, Base.metadata, source="identity")
    yield store
    store.dispose()


@pytest.fixture
def tokens(identity_service, identity_store, web):
    """`tokens(label, role, scope=None)`: a token of a real account of that role and scope,
    signed with the identity service's key. The account (one per label, role and scope) is
    created on first use; the gateway refuses tokens of accounts it does not know."""
    keys = SigningKeys(SIGNING_KEY)
    accounts = {}

    def mint(label, role, scope=None):
        if (label, role, scope) not in accounts:
            username = re.sub(r"[^a-z0-9_.-]", "-", f"t{label}.{role}.{scope}".lower())[:64]
            accounts[label, role, scope] = add_account(identity_store, username, role, scope)
            fresh = True
        else:
            fresh = False
        account_id, version = accounts[label, role, scope]
        token = issue_token(keys, account_id, role, scope, 3600, int(time.time()), version=version)
        if fresh:
            known_to_the_gateway(web, token)
        return token

    return mint


@pytest.fixture
def county_token(tokens):
    return tokens(*COUNTY)


@pytest.fixture
def activities_tree(activities_gateway, volunteer_tree):
    """The tree of `volunteer_tree`, with a gateway in front of the activities service too."""
    return volunteer_tree


@pytest.fixture
def activity_volunteer(tokens, web, volunteer_of):
    """`volunteer(label, station_id)` → (token, volunteer id), once the activities service
    has the volunteer's copy (from the volunteers service's event)."""

    def make(label, station_id):
        token = tokens(label, "volunteer")
        volunteer_id = volunteer_of(token, station_id)
        wait_for(lambda: web.get("/api/v1/me/signups", token=token).status_code == 200, what="the copy")
        return token, volunteer_id

    return make


def new_activity(center_id, **overrides):
    starts = utcnow() + timedelta(minutes=30)  # check-in is already open
    body = {
        "title": "关爱留守儿童周末课堂",
        "platform": "education",
        "organizer_center_id": center_id,
        "place": "城关镇新时代文明实践所",
        "latitude": 37.687,
        "longitude": 112.752,
        "starts_at": iso(starts),
        "ends_at": iso(starts + timedelta(hours=2)),
        "capacity": 2,
        "hours": 2,
        "points_rule": {"kind": "per_hour", "rate": 10},
    }
    return {**body, **overrides}
