"""Idempotency records in the gateway database, on SQLite and on PostgreSQL."""

import pytest

from gateway import idempotency
from gateway.migrate import upgrade
from gateway.models import Base
from gateway.problems import Problem
from services.chassis.db import Store


@pytest.fixture
def store(database_url):
    upgrade(database_url)
    store = Store(database_url, Base.metadata, source="gateway")
    yield store
    store.dispose()


def test_a_key_is_reserved_then_replayed_refused_or_expired(store):
    fp = idempotency.fingerprint("POST", "/api/v1/centers", {"code": "x"})
    assert idempotency.begin(store, "1", "k", fp, now=1000) is None
    with pytest.raises(Problem) as in_flight:  # the first request is still running
        idempotency.begin(store, "1", "k", fp, now=1001)
    assert in_flight.value.status == 409 and in_flight.value.code == "idempotency.in_flight"

    idempotency.finish(store, "1", "k", 201, "application/json", '{"id":1}')
    stored = idempotency.begin(store, "1", "k", fp, now=1002)
    assert (stored.status, stored.body) == (201, '{"id":1}')
    with pytest.raises(Problem) as reused:
        idempotency.begin(store, "1", "k", "another fingerprint", now=1003)
    assert reused.value.status == 422 and reused.value.code == "idempotency.key_reused"
    assert idempotency.begin(store, "2", "k", fp, now=1003) is None  # keys are per account

    later = 1000 + idempotency.TTL_SECONDS
    assert idempotency.begin(store, "1", "k", fp, now=later) is None  # expired: a new request
    assert idempotency.purge_expired(store, now=later + idempotency.TTL_SECONDS) == 2


def test_a_failed_request_releases_its_key(store):
    fp = idempotency.fingerprint("POST", "/api/v1/centers", {})
    assert idempotency.begin(store, "1", "k", fp) is None
    idempotency.finish(store, "1", "k", 503, "application/problem+json", "{}")
    assert idempotency.begin(store, "1", "k", fp) is None  # a retry after an outage runs again
