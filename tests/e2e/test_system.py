"""The running system end to end, once on SQLite and once on PostgreSQL: the demo network
through HTTP, a created center's event at a plain AMQP consumer, metrics and health,
seeding repeated."""

import contextlib
import json
import os
import signal
import time
import uuid

import kombu
import pytest
import requests

from deploy.local.launcher import load_demo
from services.registry import SERVICES

SEED_INSTITUTES = {
    "昔阳县城社区新时代文明实践所",
    "左权县辽阳镇新时代文明实践所",
    "和顺县松烟镇新时代文明实践所",
    "榆社县箕城镇新时代文明实践所",
}


def list_institutes(system, headers):
    response = requests.get(
        f"{system.gateway_url}/api/v1/centers", params={"level": "institute"}, headers=headers, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_an_admin_lists_the_seeds_institutes(system, admin_headers):
    assert {center["name"] for center in list_institutes(system, admin_headers)} == SEED_INSTITUTES


@pytest.fixture
def center_events(system):
    """Messages on `centers.events`, as any subscriber sees them: kombu, no nameko."""
    exchange = kombu.Exchange("centers.events", type="topic", durable=True)
    queue = kombu.Queue(f"e2e-subscriber-{uuid.uuid4().hex[:8]}", exchange, routing_key="center.*", exclusive=True)
    received = []
    # on_message: the raw message, undecoded, whatever its content type
    with kombu.Connection(system.amqp_uri) as connection, connection.Consumer(queue, on_message=received.append):

        def wait_for(predicate, timeout=15):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                for message in received:
                    if predicate(message):
                        return message
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=0.5)
            raise AssertionError(f"no such event in {timeout} s; got {[m.body for m in received]}")

        yield wait_for


def test_a_center_created_over_http_reaches_a_plain_amqp_subscriber(system, admin_headers, center_events):
    songyan = next(c for c in list_institutes(system, admin_headers) if c["code"] == "JZ-HS-SY")
    response = requests.post(
        f"{system.gateway_url}/api/v1/centers",
        json={
            "code": f"JZ-HS-SY-E2E{uuid.uuid4().hex[:6]}",
            "name": "和顺县松烟镇测试村新时代文明实践站",
            "level": "station",
            "parent_id": songyan["id"],
            "floor_area_m2": 60,
            "head": {"name": "村党支部书记", "title": "站长"},
            "platforms": ["theory", "culture"],
        },
        headers={**admin_headers, "Idempotency-Key": uuid.uuid4().hex},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    created = response.json()

    message = center_events(lambda m: json.loads(m.body)["subject"] == str(created["id"]))

    assert message.content_type == "application/cloudevents+json"
    assert message.delivery_info["routing_key"] == "center.created"
    event = json.loads(message.body)
    assert event["specversion"] == "1.0"
    assert event["type"] == "center.created"
    assert event["source"] == "/wenming/centers"
    assert message.properties["message_id"] == event["id"]
    for key in ("id", "code", "name", "level", "parent_id", "floor_area_m2", "head", "platforms", "status", "version"):
        assert event["data"][key] == created[key], key


def metric_lines(system, service, name):
    response = requests.get(system.metrics_url(service), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return [line for line in response.text.splitlines() if line.startswith(name + "{")]


def test_the_gateway_serves_request_counters_and_latency_histograms(system, admin_headers):
    list_institutes(system, admin_headers)
    counters = metric_lines(system, "gateway", "wenming_http_request_duration_seconds_count")
    assert any('route="/api/v1/centers"' in line and 'status="200"' in line for line in counters), counters
    assert metric_lines(system, "gateway", "wenming_http_request_duration_seconds_bucket")


def test_the_centers_service_serves_entrypoint_counters_and_latency_histograms(system):
    calls = metric_lines(system, "centers", "wenming_entrypoint_calls_total")
    # the seed went through create_center over RPC
    assert any('service="centers"' in line and 'method="create_center"' in line for line in calls), calls
    buckets = metric_lines(system, "centers", "wenming_entrypoint_latency_seconds_bucket")
    assert any('method="create_center"' in line for line in buckets)


@pytest.mark.parametrize("service", [service.name for service in SERVICES])
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_and_readiness_answer(system, service, path):
    url = system.metrics_url(service).removesuffix("/metrics") + path
    assert requests.get(url, timeout=10).status_code == 200


def demo_codes(nodes):
    for node in nodes:
        yield node["code"]
        yield from demo_codes(node.get("children", []))


def test_seeding_again_creates_nothing(system):
    with system.rpc() as client:
        before = client.centers.list_centers({}, 1, 1)["total"]
        assert system.seed() == 0
        assert client.centers.list_centers({}, 1, 1)["total"] == before
        for code in demo_codes(load_demo()):
            assert client.centers.list_centers({"code": code})["total"] == 1, code
        xiyang = client.centers.list_centers({"code": "JZ-XY-CSQ"})["items"][0]
        assert len(client.centers.list_venues(xiyang["id"])) == 5


def test_a_request_answered_503_while_its_service_is_paused_never_happens_later(system, admin_headers):
    """SIGSTOP the centers process for longer than the RPC timeout: the gateway answers 503;
    when the process resumes it finds the request's deadline passed and does nothing; the
    client's retry with the same Idempotency-Key creates the venue exactly once."""
    station = next(c for c in list_institutes(system, admin_headers) if c["code"] == "JZ-HS-SY")["id"]
    venues_url = f"{system.gateway_url}/api/v1/centers/{station}/venues"
    venue = {"name": f"暂停测试室-{uuid.uuid4().hex[:6]}", "kind": "other"}
    headers = {**admin_headers, "Idempotency-Key": f"pause-{uuid.uuid4().hex}"}

    def named_venues():
        venues = requests.get(venues_url, headers=admin_headers, timeout=10).json()
        return [v for v in venues if v["name"] == venue["name"]]

    centers = system.processes["centers"]
    os.kill(centers.pid, signal.SIGSTOP)
    try:
        refused = requests.post(venues_url, json=venue, headers=headers, timeout=30)
    finally:
        os.kill(centers.pid, signal.SIGCONT)
    assert refused.status_code == 503, refused.text
    time.sleep(2)  # the resumed service works through what it had received while stopped
    assert named_venues() == []
    first = requests.post(venues_url, json=venue, headers=headers, timeout=30)
    again = requests.post(venues_url, json=venue, headers=headers, timeout=30)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json()
    assert len(named_venues()) == 1


def test_the_data_folder_is_its_owners_alone(system):
    """Databases, their journals, logs and the signing key: no other user may read them."""
    paths = [system.data_dir, *system.data_dir.rglob("*")]
    assert {path.name for path in paths} >= {"identity-signing-key.pem", "logs"}
    exposed = [str(path) for path in paths if path.stat().st_mode & 0o077]
    assert not exposed, exposed
