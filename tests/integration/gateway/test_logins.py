"""Logins over HTTP (issue 8, items 2, 7 and 9): the gateway passes the socket peer to the
identity service, whose limits hold per address and per username; bad usernames are 422
problems naming the field; the token response is never cached. The gateway runs as a
process of its own, the identity service in-process, on the real broker."""

import pytest
import requests
from requests.adapters import HTTPAdapter

from services.identity import admin

PASSWORD = "a-long-password"


class FromAddress(HTTPAdapter):
    """Connections from a given loopback source address (all of 127/8 is loopback on Linux)."""

    def __init__(self, source):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture
def client(web_config):
    """`client(source)`: a session whose connections come from `source`."""
    sessions = []

    def make(source):
        session = requests.Session()
        session.mount("http://", FromAddress(source))
        sessions.append(session)
        return lambda body, **kwargs: session.post(
            f"http://127.0.0.1:{web_config}/api/v1/auth/token", json=body, timeout=10, **kwargs
        )

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def gateway_with_root(identity_db, start_gateway, monkeypatch):
    monkeypatch.setenv("WENMING_ADMIN_PASSWORD", PASSWORD)
    admin.main(["create-admin", "--username", "root", "--database-url", identity_db])
    start_gateway()


def problem(response, status, code, field=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code, body
    if field:
        assert list(body["errors"]) == [field] and body["errors"][field][0], body
    return body


def test_the_token_response_is_not_cached(gateway_with_root, client):
    response = client("127.0.0.1")({"username": "root", "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_failures_are_limited_per_socket_address_and_per_address_across_usernames(gateway_with_root, client):
    attacker, owner = client("127.0.0.2"), client("127.0.0.3")
    for _ in range(5):
        problem(attacker({"username": "root", "password": "wrong-password"}), 401, "auth.invalid_credentials")
    limited = problem(attacker({"username": "root", "password": PASSWORD}), 429, "auth.too_many_attempts")
    assert limited["status"] == 429
    token = owner({"username": "ROOT", "password": PASSWORD})  # another address, the name in any case
    assert token.status_code == 200, token.text
    # spraying other usernames: 20 failures per address in all (one more per 6 s meanwhile)
    sprayed = [attacker({"username": f"user{n}", "password": "wrong-password"}) for n in range(25)]
    statuses = [response.status_code for response in sprayed]
    assert statuses[:15] == [401] * 15 and 429 in statuses, statuses
    limited = sprayed[statuses.index(429)]
    problem(limited, 429, "auth.too_many_attempts")
    assert 1 <= int(limited.headers["Retry-After"]) <= 6


@pytest.mark.parametrize("username", ["root\n", " root", "root ", "ro\u200bot", "ro\ud800ot"])
def test_control_characters_and_surrounding_whitespace_in_a_username_are_422(gateway_with_root, client, username):
    response = client("127.0.0.4")({"username": username, "password": PASSWORD})
    problem(response, 422, "input.invalid", field="username")


def test_x_forwarded_for_from_a_local_client_does_not_change_the_address(gateway_with_root, client):
    attacker = client("127.0.0.1")
    for n in range(5):
        headers = {"X-Forwarded-For": f"198.51.100.{n}"}
        problem(
            attacker({"username": "root", "password": "wrong-password"}, headers=headers),
            401,
            "auth.invalid_credentials",
        )
    headers = {"X-Forwarded-For": "198.51.100.99"}
    problem(attacker({"username": "root", "password": PASSWORD}, headers=headers), 429, "auth.too_many_attempts")
