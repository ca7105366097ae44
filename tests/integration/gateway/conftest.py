"""The gateway in-process against the real broker, with the identity service (which
publishes the keys tokens are verified with) and, for most tests, the centers service."""

import time

import pytest
import requests

from gateway.dependencies import GatewayShared
from gateway.service import GatewayService
from services.centers import migrate as centers_migrate
from services.centers.service import CentersService
from services.identity import migrate as identity_migrate
from services.identity.keys import SigningKeys, issue_token, new_private_pem
from services.identity.service import IdentityService
from tests.support.net import free_port
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


def shared_of(container):
    return next(e for e in container.shared_extensions.values() if isinstance(e, GatewayShared))


@pytest.fixture
def web_config(nameko_config):
    port = free_port()
    nameko_config.update(
        {"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "IDENTITY_SIGNING_KEY": SIGNING_KEY, "RPC_TIMEOUT": 2}
    )
    return port


@pytest.fixture
def identity_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    identity_migrate.upgrade(url)
    return url


@pytest.fixture
def identity_service(start_service, identity_db, web_config):
    return start_service(IdentityService, identity_db)


@pytest.fixture
def start_gateway(start_service, identity_service, web_config):
    """Starts the gateway and waits until it holds the identity service's public keys."""

    def start():
        container = start_service(GatewayService)
        wait_for(lambda: shared_of(container).tokens.ready, what="the gateway to fetch the public keys")
        return container

    return start


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
