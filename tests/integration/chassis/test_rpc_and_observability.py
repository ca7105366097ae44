"""Timed RPC gives up instead of hanging; every service serves metrics, health and readiness."""

import time

import pytest
import requests
from nameko.standalone.rpc import ServiceRpcClient

from services.chassis.errors import NotFound, ServiceUnavailable
from services.chassis.observability import Observability
from services.chassis.rpc import TimedServiceRpc, rpc
from tests.support.net import free_port
from tests.support.notes import NotesService


class SlowService:
    name = "slow"

    @rpc
    def nap(self, seconds):
        time.sleep(seconds)
        return "awake"

    @rpc
    def missing(self):
        raise NotFound("thing.not_found", "没有这个东西")


class CallerService:
    name = "caller"
    slow = TimedServiceRpc("slow", timeout=0.5)
    nobody = TimedServiceRpc("nobody", timeout=0.5)
    observability = Observability()

    @rpc
    def call_slow(self, seconds):
        return self.slow.nap(seconds)

    @rpc
    def call_missing(self):
        return self.slow.missing()

    @rpc
    def call_nobody(self):
        return self.nobody.anything()


@pytest.fixture
def caller(start_service):
    for cls in (SlowService, CallerService):
        start_service(cls)
    with ServiceRpcClient("caller") as client:
        yield client


def test_a_slow_service_gives_service_unavailable_at_the_deadline(caller):
    assert caller.call_slow(0) == "awake"
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as raised:
        caller.call_slow(3)
    assert time.monotonic() - started < 2
    assert raised.value.code == "service.unavailable"


def test_a_service_without_consumers_fails_fast(caller):
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        caller.call_nobody()
    assert time.monotonic() - started < 2


def test_domain_errors_cross_two_hops_intact_and_are_not_logged_as_incidents(caller, caplog):
    with pytest.raises(NotFound) as raised:
        caller.call_missing()
    assert raised.value.code == "thing.not_found"
    [refusal] = [r for r in caplog.records if "slow.missing" in r.getMessage()]
    assert refusal.levelname == "INFO" and refusal.exc_info is None


def test_metrics_health_and_readiness(start_service, notes_db, nameko_config):
    port = free_port()
    nameko_config["METRICS_PORT"] = port
    nameko_config["METRICS_HOST"] = "127.0.0.1"
    start_service(NotesService, notes_db)
    with ServiceRpcClient("notes") as notes:
        notes.add("计数")
    base = f"http://127.0.0.1:{port}"
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    ready = requests.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text
    text = requests.get(f"{base}/metrics", timeout=5).text
    assert 'wenming_entrypoint_calls_total{entrypoint_type="rpc",method="add",outcome="ok",service="notes"}' in text
    assert 'wenming_entrypoint_latency_seconds_bucket{entrypoint_type="rpc"' in text
    assert 'wenming_outbox_backlog{service="notes"}' in text
    assert 'wenming_outbox_oldest_unsent_age_seconds{service="notes"}' in text


def test_readiness_fails_while_the_database_is_unreachable(start_service, nameko_config):
    port = free_port()
    nameko_config["METRICS_PORT"] = port
    nameko_config["METRICS_HOST"] = "127.0.0.1"
    start_service(NotesService, "postgresql+pg8000://postgres@127.0.0.1:5432/wenming_no_such_database")
    response = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
    assert response.status_code == 503
    assert "database" in response.text and "broker" not in response.text
