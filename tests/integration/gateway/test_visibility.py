"""Private fields over HTTP: a station manager's phone (ManagerSchema.phone, visibility
"staff") reaches staff whose scope holds the station and nobody else, on every route that
returns a center, whether the gateway answers from its read model (fed by the snapshot and
by events), from an RPC or from a replayed idempotent command."""

import pytest
from nameko.standalone.rpc import ServiceRpcClient

from tests.support.processes import stop
from tests.support.waiting import wait_for

PHONE = "13812345678"
MANAGERS = [{"name": "李明", "phone": PHONE}]

# caller → whether it sees the phone of station a1 (county → a → a1; county → b)
CALLERS = {
    "resident": False,
    "volunteer_in_a": False,
    "team_leader_in_a": True,
    "team_leader_in_b": False,
    "center_admin_a": True,
    "center_admin_a1": True,
    "center_admin_b": False,
    "county_admin": True,
}


@pytest.fixture
def tree(gateway, web, county_token):
    ids = {}
    for name, level, parent in (("county", "center", None), ("a", "institute", "county"), ("b", "institute", "county")):
        body = {"code": f"v-{name}", "name": f"{name} 实践", "level": level, "parent_id": ids.get(parent)}
        ids[name] = web.post("/api/v1/centers", json=body, token=county_token).json()["id"]
    station = {"code": "v-a1", "name": "a1 实践站", "level": "station", "parent_id": ids["a"], "managers": MANAGERS}
    created = web.post("/api/v1/centers", json=station, token=county_token)
    assert created.status_code == 201 and created.json()["managers"] == MANAGERS
    ids["a1"] = created.json()["id"]
    return ids


@pytest.fixture
def callers(tokens, tree):
    return {
        "resident": tokens("7001", "resident"),
        "volunteer_in_a": tokens("7002", "volunteer", tree["a"]),
        "team_leader_in_a": tokens("7003", "team_leader", tree["a"]),
        "team_leader_in_b": tokens("7004", "team_leader", tree["b"]),
        "center_admin_a": tokens("7005", "center_admin", tree["a"]),
        "center_admin_a1": tokens("7006", "center_admin", tree["a1"]),
        "center_admin_b": tokens("7007", "center_admin", tree["b"]),
        "county_admin": tokens("7008", "county_admin"),
    }


def reads(tree):
    a, a1 = tree["a"], tree["a1"]
    return {
        "one center (read model)": f"/api/v1/centers/{a1}",
        "list": f"/api/v1/centers?within={a}",
        "list by code": "/api/v1/centers?code=v-a1",
        "subtree": f"/api/v1/centers/{a}/subtree",
        "subtree of the station": f"/api/v1/centers/{a1}/subtree",
    }


def test_a_managers_phone_is_shown_only_to_staff_in_scope_on_every_read(tree, web, callers):
    for caller, sees in CALLERS.items():
        for what, path in reads(tree).items():
            response = web.get(path, token=callers[caller])
            assert response.status_code == 200, (caller, what, response.text)
            assert (PHONE in response.text) is sees, (caller, what)
            assert "李明" in response.text, (caller, what)  # the manager's name is public
    for path in reads(tree).values():  # anonymous: these routes need a token at all
        assert web.get(path).status_code == 401


def test_the_ancestors_route_filters_each_center_by_its_own_scope(tree, web, callers, county_token):
    point = {"code": "v-p", "name": "实践点", "level": "point", "parent_id": tree["a1"]}
    point_id = web.post("/api/v1/centers", json=point, token=county_token).json()["id"]
    for caller, sees in CALLERS.items():
        response = web.get(f"/api/v1/centers/{point_id}/ancestors", token=callers[caller])
        assert response.status_code == 200 and [c["id"] for c in response.json()][-1] == tree["a1"]
        assert (PHONE in response.text) is sees, caller


def test_writes_answer_with_the_same_filter(tree, web, callers):
    patched = web.patch(f"/api/v1/centers/{tree['a1']}", json={"floor_area_m2": 55.0}, token=callers["center_admin_a"])
    assert patched.status_code == 200 and patched.json()["managers"] == MANAGERS
    # a county admin who writes a station sees its phone; the same station read by a resident does not
    moved = web.post(f"/api/v1/centers/{tree['a1']}/move", json={"parent_id": tree["b"]}, token=callers["county_admin"])
    assert moved.status_code == 200 and PHONE in moved.text
    # after the move, a1 lies in b's scope, no longer in a's
    for caller, sees in {"center_admin_a": False, "center_admin_b": True, "team_leader_in_b": True}.items():
        assert (PHONE in web.get(f"/api/v1/centers/{tree['a1']}", token=callers[caller]).text) is sees, caller


def test_centers_learnt_from_events_are_filtered_too(tree, web, callers):
    """A change made behind the gateway's back reaches its read model only by a center.updated
    event; what it serves from there is filtered like the rest."""
    actor = {"account_id": "x", "role": "county_admin", "scope_center_id": None}
    new_phone = "13987654321"
    with ServiceRpcClient("centers", timeout=10) as centers:
        updated = centers.update_center(tree["a1"], {"managers": [{"name": "周强", "phone": new_phone}]}, actor)
    url = f"/api/v1/centers/{tree['a1']}"
    wait_for(lambda: web.get(url, token=callers["county_admin"]).json()["version"] == updated["version"], timeout=10)
    for caller, sees in CALLERS.items():
        response = web.get(url, token=callers[caller])
        assert response.json()["version"] == updated["version"] and "周强" in response.text
        assert (new_phone in response.text) is sees, caller


def test_openapi_says_which_fields_are_private(gateway, web):
    document = web.get("/api/v1/openapi.json").json()
    phone = document["components"]["schemas"]["Manager"]["properties"]["phone"]
    assert phone["x-visibility"] == "staff" and "Private" in phone["description"]


# -- replayed commands -----------------------------------------------------------------------


def test_a_replay_on_a_gateway_that_never_saw_the_request_keeps_location_etag_and_the_filter(
    centers_service, start_gateway, web, county_token, tokens
):
    """The gateway keeps no record of idempotent requests: a retry that reaches another
    replica (here: the same address after a restart) is replayed by the centers service,
    and the gateway rebuilds `Location` and `ETag` from the recorded outcome."""
    first_gateway = start_gateway()
    county = {"code": "r-county", "name": "县中心", "level": "center"}
    county_id = web.post("/api/v1/centers", json=county, token=county_token).json()["id"]
    admin = tokens("7101", "center_admin", county_id)
    body = {"code": "r-a", "name": "所", "level": "institute", "parent_id": county_id, "managers": MANAGERS}
    headers = {"Idempotency-Key": "replay-after-restart"}
    first = web.post("/api/v1/centers", json=body, token=admin, headers=headers)
    assert first.status_code == 201 and PHONE in first.text
    # the center changes after the first answer: the replay still answers as the first did
    changed = web.patch(first.headers["Location"].removeprefix(web.base_url), json={"name": "新名"}, token=admin)
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'

    stop(first_gateway)
    start_gateway()
    again = web.post("/api/v1/centers", json=body, token=admin, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"] == f"/api/v1/centers/{first.json()['id']}"
    assert again.headers["ETag"] == first.headers["ETag"] == '"1"'
    # the replay passes the same filter as any answer: another admin's retry is its own request,
    # and a replay to the same account still shows what that account may see
    assert PHONE in again.text
