"""Shared fixtures: a private RabbitMQ vhost per test session, fresh databases, services
started in-process. Tests talk to the real broker and to both SQLite and PostgreSQL; nothing
here is mocked. The helpers behind these fixtures are in tests/support.

Tests are grouped by layer, one folder each, and marked after it: `unit` (pure, no broker
or database: `make test-unit`), `integration` (services in-process on the real broker and
databases), `e2e` (the system as separate processes), `faults`, and `edge` (the asyncio
side of the gateway).

Two worlds, two pytest processes: nameko services run in-process on eventlet, which must
monkey-patch the standard library before anything else is imported; asyncio code must not
run on a patched library. `pytest` runs the eventlet world and leaves tests/edge out;
`WENMING_TEST_WORLD=asyncio pytest tests/edge` runs the asyncio world (`make test` runs both).
"""

import contextlib
import os

ASYNCIO_WORLD = os.environ.get("WENMING_TEST_WORLD") == "asyncio"
if not ASYNCIO_WORLD:
    import eventlet

    eventlet.monkey_patch()  # nameko's pytest plugin no longer does this (docs/architecture.md, pitfalls)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.support.broker import private_vhost  # noqa: E402
from tests.support.postgres import create_database, drop_database  # noqa: E402

LAYERS = ("unit", "integration", "e2e", "faults", "edge")
# each world collects only its own tests
collect_ignore = ["unit", "integration", "e2e", "faults"] if ASYNCIO_WORLD else ["edge"]


def pytest_collection_modifyitems(items):
    tests_dir = Path(__file__).parent
    for item in items:
        layer = item.path.relative_to(tests_dir).parts[0]
        if layer in LAYERS:
            item.add_marker(layer)


@pytest.fixture(scope="session")
def amqp_uri():
    """A vhost of our own, so that queues left by other runs never see our events."""
    with private_vhost("wenming-test") as uri:
        yield uri


@pytest.fixture
def postgres_url():
    url = create_database()
    yield url
    drop_database(url)


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


@pytest.fixture
def start_service(container_factory, nameko_config):
    """`start_service(ServiceClass, database_url)`: a started container of a chassis service.

    Services read DATABASE_URL from nameko's one global config when they start, so each
    container is started right after DATABASE_URL is pointed at its own database."""

    started = set()

    def start(service_cls, database_url=None):
        if database_url is not None:
            nameko_config["DATABASE_URL"] = database_url
        container = container_factory(service_cls)
        if container.service_name not in started:  # a restart within the test keeps what queued meanwhile
            started.add(container.service_name)
            purge_event_queues(container, nameko_config["AMQP_URI"])
        container.start()
        return container

    return start


def purge_event_queues(container, amqp_uri):
    """Empty the durable queues of the service's event handlers (and their retry queues)
    before its first start in a test: the vhost lasts the session, and what an earlier test
    published and nobody consumed, or left waiting to be retried, would reach this test's
    service, whose fresh database reuses the same ids."""
    from amqp.exceptions import NotFound  # the eventlet world's own (this module serves both)
    from kombu import Connection
    from nameko.events import EventHandler

    with Connection(amqp_uri) as connection:
        for handler in container.entrypoints:
            if isinstance(handler, EventHandler):  # nameko names the handler's queue so
                queue = f"evt-{handler.source_service}-{handler.event_type}--{container.service_name}"
                for name in (f"{queue}.{handler.method_name}", f"{queue}.{handler.method_name}.retry"):
                    with contextlib.suppress(NotFound):  # (the retry queue: copies waiting to come back)
                        connection.channel().queue_purge(name)
