"""Shared fixtures: a private RabbitMQ vhost per test session and fresh databases.

Tests talk to the real broker and to both SQLite and PostgreSQL; nothing here is mocked.
"""
import eventlet

eventlet.monkey_patch()  # nameko's pytest plugin no longer does this (ARCHITECTURE.md pitfalls)

import os  # noqa: E402
import subprocess  # noqa: E402
import uuid  # noqa: E402
from urllib.parse import quote  # noqa: E402

import pg8000.native  # noqa: E402
import pytest  # noqa: E402

BROKER_HOST = os.environ.get("TEST_BROKER_HOST", "127.0.0.1")
PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_USER = os.environ.get("TEST_PG_USER", "postgres")


def _rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def amqp_vhost():
    """A vhost of our own, so that queues left by other runs never see our events."""
    vhost = f"wenming-test-{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield vhost
    _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def amqp_uri(amqp_vhost):
    return f"amqp://guest:guest@{BROKER_HOST}:5672/{quote(amqp_vhost, safe='')}"


def _create_pg_database():
    name = f"wenming_test_{uuid.uuid4().hex[:10]}"
    admin = pg8000.native.Connection(PG_USER, host=PG_HOST, database="postgres")
    try:
        admin.run(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()
    return name


def _drop_pg_database(name):
    admin = pg8000.native.Connection(PG_USER, host=PG_HOST, database="postgres")
    try:
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


@pytest.fixture
def postgres_url():
    name = _create_pg_database()
    yield f"postgresql+pg8000://{PG_USER}@{PG_HOST}:5432/{name}"
    _drop_pg_database(name)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'service.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def nameko_config(amqp_uri):
    """Patch nameko's global config for in-process containers; returns the dict to extend."""
    import nameko

    values = {
        "AMQP_URI": amqp_uri,
        "RPC_TIMEOUT": 5,
        "OUTBOX_POLL_SECONDS": 0.5,
        "METRICS_PORT": 0,
    }
    patcher = nameko.config.patch(values)
    patcher.start()
    yield nameko.config
    patcher.stop()
