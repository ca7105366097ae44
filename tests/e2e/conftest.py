"""End-to-end fixtures: the services as separate `nameko run` processes, started and
stopped by the launcher's `System` (deploy/local/launcher.py), on SQLite and on PostgreSQL.

Each system gets a vhost of its own: no queue left by another test's services (whose
center ids would collide with this system's) ever feeds it."""

import pytest
import requests

from deploy.local.launcher import DEMO_PASSWORD, DEMO_USERNAME, LaunchError, System
from services.registry import SERVICES
from tests.support.broker import private_vhost
from tests.support.net import free_port
from tests.support.postgres import create_database, drop_database


@pytest.fixture(scope="module")
def pg_databases():
    """PostgreSQL databases made on demand for this module, dropped after it: `new()` -> URL."""
    urls = []

    def new():
        urls.append(create_database("wenming_e2e"))
        return urls[-1]

    yield new
    for url in urls:
        drop_database(url)


@pytest.fixture
def vhost_uri():
    with private_vhost("wenming-e2e") as uri:
        yield uri


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def system(request, tmp_path_factory):
    """The whole system with its demo data."""
    database_urls = {}
    if request.param == "postgresql":
        new_database = request.getfixturevalue("pg_databases")
        database_urls = {service.name: new_database() for service in SERVICES if service.has_database}
    with private_vhost("wenming-e2e") as amqp_uri:
        system = System(
            tmp_path_factory.mktemp(f"wenming-{request.param}"),
            amqp_uri=amqp_uri,
            http_ports={service.name: free_port() for service in SERVICES if service.http_port},
            metrics_ports={service.name: free_port() for service in SERVICES},
            database_urls=database_urls,
            broker_autostart=False,
            say=lambda message: None,
        )
        try:
            system.start()
        except LaunchError as exc:
            pytest.fail(f"the system did not start: {exc}")
        yield system
        system.stop()


@pytest.fixture(scope="module")
def admin_headers(system):
    """Logs in once per system: the gateway rate-limits logins per user and address."""
    response = requests.post(
        f"{system.gateway_url}/api/v1/auth/token",
        json={"username": DEMO_USERNAME, "password": DEMO_PASSWORD},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
