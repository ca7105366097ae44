"""The center list is served from the gateway's read model: it answers what the centers
service's own query answers, for every filter, page and order."""

import pytest
from nameko.standalone.rpc import ServiceRpcClient

from tests.support.waiting import wait_for

NETWORK = [  # (key, level, parent key, platforms, status)
    ("county", "center", None, ["theory", "culture"], "active"),
    ("east", "institute", "county", ["theory"], "active"),
    ("east-1", "station", "east", ["culture", "health"], "active"),
    ("east-2", "station", "east", [], "suspended"),
    ("west", "institute", "county", ["science"], "active"),
    ("west-1", "station", "west", ["culture"], "closed"),
    ("west-2", "station", "west", ["theory", "health"], "active"),
]


@pytest.fixture
def network(gateway, web, county_token):
    ids = {}
    for key, level, parent, platforms, status in NETWORK:
        body = {
            "code": f"list-{key}",
            "name": f"{key.upper()} 新时代文明实践{'站' if level == 'station' else '所'}",
            "level": level,
            "parent_id": ids.get(parent),
            "platforms": platforms,
        }
        response = web.post("/api/v1/centers", json=body, token=county_token)
        assert response.status_code == 201, response.text
        ids[key] = response.json()["id"]
        if status != "active":
            changed = web.post(
                f"/api/v1/centers/{ids[key]}/status", json={"status": status, "reason": "整改"}, token=county_token
            )
            assert changed.status_code == 200, changed.text
    return ids


def queries(ids):
    yield {}
    yield {"level": "station"}
    yield {"level": "station", "status": "active"}
    yield {"parent_id": ids["east"]}
    yield {"within": ids["west"]}
    yield {"within": ids["county"], "platform": "culture"}
    yield {"q": "east"}  # names are upper case: the match ignores case
    yield {"q": "实践站", "page_size": 2, "page": 2}
    yield {"code": "list-west-2"}
    yield {"within": 999_999}  # unknown: nothing
    yield {"page": 5}  # past the end


def test_every_filter_answers_what_the_service_answers(network, web, county_token):
    with ServiceRpcClient("centers") as centers:
        for query in queries(network):
            filters = dict(query)
            page, page_size = filters.pop("page", 1), filters.pop("page_size", 20)
            expected = centers.list_centers(filters, page, page_size)
            served = web.get("/api/v1/centers", params=query, token=county_token)
            assert served.status_code == 200, served.text
            assert served.json() == expected, query


def test_a_change_made_elsewhere_reaches_the_list_through_events(network, web, county_token):
    """A center created by another gateway replica (here: straight over RPC) is listed once
    its event arrives."""
    from tests.support.actors import COUNTY as COUNTY_ADMIN

    with ServiceRpcClient("centers") as centers:
        created = centers.create_center(
            {"code": "list-late", "name": "迟到实践站", "level": "station", "parent_id": network["east"]}, COUNTY_ADMIN
        )

    def listed():
        return web.get("/api/v1/centers", params={"code": "list-late"}, token=county_token).json()["items"]

    assert wait_for(listed)[0]["id"] == created["id"]


def test_the_list_needs_no_rpc(network, web, county_token, centers_service):
    before = web.get("/api/v1/centers", params={"level": "station"}, token=county_token)
    centers_service.stop()
    after = web.get("/api/v1/centers", params={"level": "station"}, token=county_token)
    assert after.status_code == 200, after.text
    assert after.json() == before.json() and len(after.json()["items"]) == 4
