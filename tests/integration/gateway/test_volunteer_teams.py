"""Teams over HTTP: the gateway in front of identity, centers and volunteers (all SQLite). An
admin creates a team, a volunteer applies, the leader approves, the roster shows them; and
callers of another subtree, of the wrong role or without a token are refused."""

import pytest


@pytest.fixture
def tree(volunteer_tree):
    return volunteer_tree


@pytest.fixture
def callers(tree, tokens, volunteer_of):
    found = {
        "admin_a": tokens("teams-a", "center_admin", tree["a"]),
        "admin_b": tokens("teams-b", "center_admin", tree["b"]),
        "leader": tokens("teams-leader", "team_leader"),
        "volunteer": tokens("teams-volunteer", "volunteer"),
    }
    found["leader_id"] = volunteer_of(found["leader"], tree["a1"], name="王队长")
    found["volunteer_id"] = volunteer_of(found["volunteer"], tree["a1"], name="李志愿")
    return found


def create_team(web, tree, callers, token):
    body = {
        "center_id": tree["a1"],
        "name": "南天池村文明旅游志愿服务队",
        "kind": "civilized_tourism",
        "leader_volunteer_id": callers["leader_id"],
    }
    return web.post("/api/v1/teams", json=body, token=token)


def test_a_team_is_created_joined_on_approval_and_shows_its_roster(web, tree, callers):
    created = create_team(web, tree, callers, callers["admin_a"])
    assert created.status_code == 201, created.text
    team = created.json()
    assert created.headers["Location"] == f"/api/v1/teams/{team['id']}" and team["member_count"] == 1
    applications = f"/api/v1/teams/{team['id']}/applications"

    applied = web.post(applications, json={"note": "周末有空"}, token=callers["volunteer"])
    assert applied.status_code == 201, applied.text
    application = applied.json()
    assert application["status"] == "pending" and application["volunteer_id"] == callers["volunteer_id"]
    pending = web.get(applications, params={"status": "pending"}, token=callers["leader"])
    assert [item["id"] for item in pending.json()["items"]] == [application["id"]]

    approved = web.post(f"{applications}/{application['id']}/approve", token=callers["leader"])
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"

    roster = web.get(f"/api/v1/teams/{team['id']}/members", token=callers["volunteer"])
    assert roster.status_code == 200, roster.text
    members = [(m["volunteer_id"], m["name"], m["role"]) for m in roster.json()["items"]]
    assert members == [(callers["leader_id"], "王队长", "leader"), (callers["volunteer_id"], "李志愿", "member")]
    mine = web.get("/api/v1/me/teams", token=callers["volunteer"]).json()
    assert [item["team"]["id"] for item in mine["teams"]] == [team["id"]]
    listed = web.get("/api/v1/teams", params={"within": tree["a"]}, token=callers["volunteer"]).json()
    assert [(item["id"], item["member_count"]) for item in listed["items"]] == [(team["id"], 2)]


def test_callers_outside_the_scope_or_of_the_wrong_role_are_refused(web, tree, callers):
    refused = create_team(web, tree, callers, callers["admin_b"])
    assert refused.status_code == 403 and refused.json()["code"] == "scope.outside"
    assert create_team(web, tree, callers, callers["volunteer"]).json()["code"] == "auth.role_forbidden"
    team = create_team(web, tree, callers, callers["admin_a"]).json()
    applications = f"/api/v1/teams/{team['id']}/applications"
    application = web.post(applications, json={}, token=callers["volunteer"]).json()
    approve = f"{applications}/{application['id']}/approve"

    by_admin_b = web.post(approve, token=callers["admin_b"])
    assert by_admin_b.status_code == 403 and by_admin_b.json()["code"] == "scope.outside"
    by_volunteer = web.post(approve, token=callers["volunteer"])
    assert by_volunteer.status_code == 403 and by_volunteer.json()["code"] == "auth.role_forbidden"
    roster = web.get(f"/api/v1/teams/{team['id']}/members", token=callers["admin_b"])
    assert roster.status_code == 403 and roster.json()["code"] == "scope.outside"
    for method, path in (("GET", "/api/v1/teams"), ("POST", "/api/v1/teams"), ("POST", approve)):
        assert web.request(method, path, json={}).status_code == 401
    # nothing of the refused requests changed anything
    assert web.get(f"/api/v1/teams/{team['id']}", token=callers["volunteer"]).json()["member_count"] == 1
    assert web.get(applications, token=callers["admin_a"]).json()["items"][0]["status"] == "pending"
