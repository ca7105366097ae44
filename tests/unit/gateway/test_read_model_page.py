"""The read model's list pages: none before a snapshot, and never stale after a change."""

import json

from gateway.read_model import CenterReadModel


def center(center_id, parent_id, version=1, **fields):
    return {
        "id": center_id,
        "parent_id": parent_id,
        "code": f"c{center_id}",
        "name": f"实践站{center_id}",
        "level": "station" if parent_id else "center",
        "status": "active",
        "platforms": [],
        "version": version,
        **fields,
    }


def listed(model, **filters):
    return [item["id"] for item in json.loads(model.page(filters, 1, 20))["items"]]


def test_no_page_before_the_first_snapshot():
    model = CenterReadModel()
    model.apply(center(1, None))
    assert model.page({}, 1, 20) is None
    model.load([])
    assert listed(model) == [1]


def test_a_change_is_seen_by_the_next_page_however_it_was_asked_before():
    model = CenterReadModel()
    model.load([center(1, None), center(2, 1), center(3, 1), center(4, 2)])
    assert listed(model, within=2) == [2, 4]
    assert listed(model, status="active") == [1, 2, 3, 4]
    model.apply(center(4, 3, version=2))  # moved under 3
    model.apply(center(3, 1, version=2, status="closed"))
    assert listed(model, within=2) == [2]
    assert listed(model, within=3) == [3, 4]
    assert listed(model, status="active") == [1, 2, 4]
    model.apply(center(5, 3))
    assert listed(model, parent_id=3) == [4, 5]
    assert listed(model, code="c5") == [5]


def test_pages_and_totals():
    model = CenterReadModel()
    model.load([center(1, None)] + [center(n, 1) for n in range(2, 8)])
    page = json.loads(model.page({"level": "station"}, 2, 4))
    assert [item["id"] for item in page["items"]] == [6, 7]
    assert (page["total"], page["page"], page["page_size"]) == (6, 2, 4)
