"""The gateway (asyncio: a process of its own) against the real broker, with the identity
service (which publishes the keys tokens are verified with) and, for most tests, the centers
service, both in-process."""

import time

import pytest
import requests

from services.centers import migrate as centers_migrate
from services.centers.service import CentersService
from services.identity import migrate as identity_migrate
from services.identity.keys import SigningKeys, issue_token, new_private_pem
from services.identity.service import IdentityService
from tests.support.net import free_port
from tests.support.processes import log_tail, start_module, stop
from tests.support.waiting import wait_for

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
    nameko_config.update({"IDENTITY_SIGNING_KEY": SIGNING_KEY, "RPC_TIMEOUT": 2})
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
    """Starts `python -m gateway` and waits until it is ready (it holds the public keys)."""
    processes = []
    log_path = tmp_path / "gateway.log"
    env = {
        "AMQP_URI": amqp_uri,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{web_config}",
        "METRICS_HOST": "127.0.0.1",
        "METRICS_PORT": str(gateway_metrics_port),
        "RPC_TIMEOUT": "2",
        "HEADERS_TIMEOUT_SECONDS": "1",
    }

    def ready(process):
        assert process.poll() is None, f"the gateway exited:\n{log_tail(log_path)}"
        try:
            return requests.get(f"http://127.0.0.1:{gateway_metrics_port}/readyz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def start():
        process = start_module(["gateway"], env, log_path)
        processes.append(process)
        wait_for(lambda: ready(process), timeout=30, what="the gateway to be ready")
        return process

    yield start
    for process in processes:
        stop(process)


@pytest.fixture
def centers_service(start_service, tmp_path):
    url = f"sqlite:///{tmp_path / 'centers.db'}"
    centers_migrate.upgrade(url)
    return start_service(CentersService, url)


@pytest.fixture
def web(web_config):
    with WebSession(f"http://127.0.0.1:{web_config}") as session:
        yield session


@pytest.fixture
def tokens():
    """Mints tokens with the identity service's key, for callers that need no account row."""
    keys = SigningKeys(SIGNING_KEY)
    return lambda account_id, role, scope=None: issue_token(keys, account_id, role, scope, 3600, int(time.time()))


@pytest.fixture
def county_token(tokens):
    return tokens(*COUNTY)
