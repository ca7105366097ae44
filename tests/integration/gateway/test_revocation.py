"""A deactivated, changed or logged-out account loses its rights at once (issue 8, item 1):
against two gateway processes (each on ports of its own) with identity and centers
in-process on the real broker. Before this, a token kept every right until it expired,
restarts included."""

import pytest

from services.identity.service import hash_password
from tests.support.net import free_port
from tests.support.waiting import wait_for

from .conftest import WebSession, add_account
from .test_api import assert_problem

PASSWORD = "a-long-password-for-tests"


@pytest.fixture
def replicas(centers_service, start_gateway, web, web_config):
    """Two gateway processes: `web` (the default port) and another."""
    start_gateway()
    port = free_port()
    start_gateway(web_port=port, metrics_port=free_port())
    with WebSession(f"http://127.0.0.1:{port}") as other:
        yield {"a": web, "b": other}


@pytest.fixture
def people(identity_store):
    """County admins that log in with PASSWORD: `boss`, `chief` and `clerk`."""
    password_hash = hash_password(PASSWORD)
    for name in ("boss", "chief", "clerk"):
        add_account(identity_store, name, "county_admin", password_hash=password_hash)
    return ("boss", "chief", "clerk")


def login(web, username):
    response = web.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def me(web, token):
    return web.get("/api/v1/me", token=token).json()


def new_account(web, token, username, role="volunteer", scope=None):
    body = {
        "username": username,
        "password": PASSWORD,
        "role": role,
        "scope_center_id": scope,
        "display_name": username,
    }
    return web.post("/api/v1/accounts", json=body, token=token)


def refused_everywhere(replicas, token, code, timeout=5):
    """Every replica answers 401 `code` to `token`, within `timeout` seconds."""
    for web in replicas.values():
        wait_for(lambda web=web: web.get("/api/v1/centers", token=token).status_code == 401, timeout=timeout)
        assert_problem(web.get("/api/v1/centers", token=token), 401, code)
        assert_problem(new_account(web, token, "never.made"), 401, code)


def test_a_deactivated_account_is_refused_within_seconds_by_every_replica(people, replicas):
    boss = login(replicas["a"], "boss")
    chief = login(replicas["b"], "chief")
    for web in replicas.values():
        assert web.get("/api/v1/centers", token=chief).status_code == 200
    chief_id = me(replicas["a"], chief)["id"]

    done = replicas["a"].post(f"/api/v1/accounts/{chief_id}/deactivation", json={"reason": "离职"}, token=boss)
    assert done.status_code == 200 and done.json()["active"] is False, done.text
    refused_everywhere(replicas, chief, "auth.account_inactive")
    assert_problem(replicas["b"].post("/api/v1/auth/token", json={"username": "chief", "password": PASSWORD}), 401)

    audit = replicas["b"].get(f"/api/v1/accounts/{chief_id}/audit", token=boss)
    assert audit.status_code == 200, audit.text
    [entry] = [e for e in audit.json() if e["action"] == "deactivated"]
    assert entry["reason"] == "离职" and entry["actor_account_id"] == me(replicas["a"], boss)["id"]

    # reactivated: the old token stays refused, a new login works
    back = replicas["b"].post(f"/api/v1/accounts/{chief_id}/reactivation", json={}, token=boss)
    assert back.status_code == 200 and back.json()["active"] is True
    refused_everywhere(replicas, chief, "auth.token_stale")
    fresh = login(replicas["a"], "chief")
    for web in replicas.values():
        wait_for(lambda web=web: web.get("/api/v1/centers", token=fresh).status_code == 200, timeout=5)


def test_a_restarted_gateway_keeps_refusing_a_deactivated_account_and_a_revoked_token(
    people, centers_service, start_gateway, web
):
    start_gateway()
    boss, chief, clerk = login(web, "boss"), login(web, "chief"), login(web, "clerk")
    chief_id = me(web, chief)["id"]
    assert web.post(f"/api/v1/accounts/{chief_id}/deactivation", json={"reason": "离职"}, token=boss).ok
    assert web.post("/api/v1/auth/logout", token=clerk).status_code == 204
    port, metrics = free_port(), free_port()
    start_gateway(web_port=port, metrics_port=metrics)  # a replica that starts after the changes
    with WebSession(f"http://127.0.0.1:{port}") as later:
        assert_problem(later.get("/api/v1/centers", token=chief), 401, "auth.account_inactive")
        assert_problem(later.get("/api/v1/centers", token=clerk), 401, "auth.token_revoked")
        assert later.get("/api/v1/centers", token=boss).status_code == 200


def test_a_role_change_refuses_the_old_tokens(people, replicas, identity_store):
    boss = login(replicas["a"], "boss")
    chief = login(replicas["a"], "chief")
    chief_id = me(replicas["a"], chief)["id"]
    changed = replicas["b"].patch(f"/api/v1/accounts/{chief_id}", json={"role": "volunteer"}, token=boss)
    assert changed.status_code == 200 and changed.json()["role"] == "volunteer", changed.text
    refused_everywhere(replicas, chief, "auth.token_stale")
    # the new token has the new role: no more admin rights
    demoted = login(replicas["b"], "chief")
    assert me(replicas["a"], demoted)["role"] == "volunteer"
    assert_problem(new_account(replicas["a"], demoted, "not.by.me"), 403, "auth.role_forbidden")


def test_logout_revokes_exactly_that_token_on_every_replica(people, replicas):
    first, second = login(replicas["a"], "chief"), login(replicas["b"], "chief")
    assert replicas["a"].post("/api/v1/auth/logout", token=first).status_code == 204
    refused_everywhere(replicas, first, "auth.token_revoked")
    for web in replicas.values():
        assert web.get("/api/v1/centers", token=second).status_code == 200
    assert_problem(replicas["b"].post("/api/v1/auth/logout", token=first), 401, "auth.token_revoked")


def test_nobody_deactivates_itself_and_refused_changes_change_nothing(people, replicas):
    boss = login(replicas["a"], "boss")
    boss_id = me(replicas["a"], boss)["id"]
    own = replicas["a"].post(f"/api/v1/accounts/{boss_id}/deactivation", json={"reason": "试试"}, token=boss)
    assert_problem(own, 403, "account.self_forbidden")
    assert_problem(replicas["a"].patch(f"/api/v1/accounts/{boss_id}", json={"role": "volunteer"}, token=boss), 403)
    assert_problem(replicas["a"].post("/api/v1/accounts/999999/deactivation", json={"reason": "x"}, token=boss), 404)
    assert_problem(replicas["a"].post(f"/api/v1/accounts/{boss_id}/deactivation", json={}, token=boss), 422)
    assert replicas["b"].get("/api/v1/centers", token=boss).status_code == 200
    assert [e["action"] for e in replicas["a"].get(f"/api/v1/accounts/{boss_id}/audit", token=boss).json()] == []
