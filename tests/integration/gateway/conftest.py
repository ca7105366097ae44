"""The gateway in-process against the real broker, with or without the centers service."""

import pytest
import requests

from gateway import migrate as gateway_migrate
from gateway.service import GatewayService
from gateway.tokens import Tokens
from services.centers import migrate as centers_migrate
from services.centers.service import CentersService
from tests.support.net import free_port

SECRET = "test-secret-" + "x" * 40
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
def gateway_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    gateway_migrate.upgrade(url)
    return url


@pytest.fixture
def web_config(nameko_config, gateway_db):
    port = free_port()
    nameko_config.update(
        {
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
            "JWT_SECRET": SECRET,
            "RPC_TIMEOUT": 2,
        }
    )
    return port


@pytest.fixture
def start_gateway(start_service, gateway_db, web_config):
    return lambda: start_service(GatewayService, gateway_db)


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
    """Mints tokens as the gateway does (same secret), for callers that need no account row."""
    issuer = Tokens(SECRET)
    return lambda account_id, role, scope=None: issuer.issue(account_id, role, scope)


@pytest.fixture
def county_token(tokens):
    return tokens(*COUNTY)
