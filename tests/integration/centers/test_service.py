"""The centers service in-process against the real RabbitMQ, on SQLite and on PostgreSQL.

Every test migrates a fresh database, starts the service in a nameko container and talks
to it over RPC, as the gateway does. The outbox table shows what each change emitted.
"""

import json
import uuid

import eventlet
import jsonschema
import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ServiceRpcClient

from services.centers import migrate
from services.centers.contract import EVENT_SCHEMAS as SCHEMAS
from services.centers.models import Base
from services.centers.service import CentersService
from services.chassis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.chassis.events import validate_event
from tests.support.actors import COUNTY, VOLUNTEER, center_admin


@pytest.fixture
def centers_db(database_url):
    migrate.upgrade(database_url)
    return database_url


@pytest.fixture
def engine(centers_db):
    engine = sa.create_engine(centers_db, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def centers(start_service, centers_db):
    container = start_service(CentersService, centers_db)
    with ServiceRpcClient("centers", timeout=15) as client:
        yield client
    container.stop()


@pytest.fixture
def outbox(engine):
    """The events emitted so far, oldest first, each checked against the published contract."""
    table = Base.metadata.tables["outbox"]

    def read():
        with engine.connect() as connection:
            rows = connection.execute(sa.select(table.c.event_type, table.c.payload).order_by(table.c.id)).all()
        documents = [json.loads(row.payload) for row in rows]
        for row, document in zip(rows, documents, strict=True):
            assert row.event_type == document["type"]
            assert_valid_event(document)
        return documents

    return read


def assert_valid_event(event):
    assert validate_event(event) == []
    assert event["source"] == "/wenming/centers"
    assert event["subject"] == str(event["data"]["id"])
    jsonschema.validate(event["data"], SCHEMAS[event["type"]], format_checker=jsonschema.FormatChecker())


def station_data(code, parent_id, **extra):
    return {"code": code, "name": f"{code} 实践站", "level": "station", "parent_id": parent_id, **extra}


@pytest.fixture
def county(centers):
    """center → institutes A, B → stations A1, A2 (under A), B1 (under B) → point P (under A1)."""
    ids = {}

    def add(key, level, parent, **extra):
        data = {"code": f"{key}-code", "name": f"{key} 文明实践", "level": level, "parent_id": ids.get(parent), **extra}
        ids[key] = centers.create_center(data, COUNTY)["id"]

    add("county", "center", None, households_served=0, residents_served=0, floor_area_m2=771.63)
    add("A", "institute", "county", households_served=1000, residents_served=3000, floor_area_m2=100)
    add("B", "institute", "county", households_served=800, residents_served=2500)
    add(
        "A1",
        "station",
        "A",
        households_served=300,
        residents_served=900,
        floor_area_m2=55,
        platforms=["culture", "theory"],
    )
    add("A2", "station", "A", households_served=200, residents_served=700, platforms=["health"])
    add("B1", "station", "B", households_served=150, residents_served=400, platforms=["culture"])
    add("P", "point", "A1")
    return ids


def raises(error_class, code, call, *args, **kwargs):
    with pytest.raises(error_class) as excinfo:
        call(*args, **kwargs)
    assert excinfo.value.code == code, excinfo.value
    return excinfo.value


# --- creating and reading ----------------------------------------------------------------


def test_create_returns_the_center_and_emits_one_event(centers, outbox):
    root = centers.create_center({"code": "yc-county", "name": "榆次区新时代文明实践中心", "level": "center"}, COUNTY)
    data = {
        "code": "dy-town",
        "name": " 东阳镇新时代文明实践所 ",
        "level": "institute",
        "parent_id": root["id"],
        "address": "东阳镇政府街 1 号",
        "longitude": 112.75,
        "latitude": 37.68,
        "floor_area_m2": 771.63,
        "households_served": 5200,
        "residents_served": 16000,
        "head": {"name": "王书记", "title": "镇党委书记"},
        "managers": [{"name": "李专管", "phone": "0354-1234567"}, {"name": "赵专管"}],
        "contact_phone": "13800000000",
        "platforms": ["health", "theory", "health"],
        "opened_on": "2019-07-01",
    }
    created = centers.create_center(data, COUNTY)

    assert created["name"] == "东阳镇新时代文明实践所"
    assert created["platforms"] == ["theory", "health"]
    assert created["managers"][1] == {"name": "赵专管", "phone": None}
    assert (created["status"], created["status_reason"], created["version"]) == ("active", None, 1)
    assert created["opened_on"] == "2019-07-01"
    assert created["created_at"].endswith("+00:00") and created["created_at"] == created["updated_at"]
    assert centers.get_center(created["id"]) == created
    events = outbox()
    assert [e["type"] for e in events] == ["center.created", "center.created"]
    assert events[1]["data"] == created


def test_level_rules_and_bad_input_change_nothing(centers, county, outbox):
    before, emitted = centers.snapshot(), len(outbox())

    error = raises(
        InvalidInput,
        "center.parent_level_invalid",
        centers.create_center,
        station_data("s-x", county["county"]),
        COUNTY,
    )
    assert list(error.fields) == ["parent_id"]
    raises(
        InvalidInput,
        "center.parent_required",
        centers.create_center,
        {"code": "i-x", "name": "无上级", "level": "institute"},
        COUNTY,
    )
    raises(
        InvalidInput,
        "center.parent_level_invalid",
        centers.create_center,
        {"code": "c-x", "name": "第二中心", "level": "center", "parent_id": county["county"]},
        COUNTY,
    )
    raises(InvalidInput, "center.parent_not_found", centers.create_center, station_data("s-y", 999999), COUNTY)

    error = raises(
        InvalidInput,
        "input.invalid",
        centers.create_center,
        station_data("s z!", county["A"], floor_area_m2=-1, colour="red", managers=[{"name": "甲", "phone": "abc"}]),
        COUNTY,
    )
    assert set(error.fields) == {"code", "floor_area_m2", "colour", "managers.0.phone"}
    error = raises(
        InvalidInput, "center.fields_invalid", centers.update_center, county["A1"], {"households_served": 5000}, COUNTY
    )
    assert list(error.fields) == ["residents_served"]
    error = raises(
        InvalidInput, "input.invalid", centers.update_center, county["A1"], {"level": "institute", "name": ""}, COUNTY
    )
    assert set(error.fields) == {"level", "name"}

    assert centers.snapshot() == before
    assert len(outbox()) == emitted


def test_codes_are_unique(centers, county, outbox):
    emitted = len(outbox())
    error = raises(Conflict, "center.code_taken", centers.create_center, station_data("A1-code", county["A"]), COUNTY)
    assert list(error.fields) == ["code"]
    raises(Conflict, "center.code_taken", centers.update_center, county["A2"], {"code": "A1-code"}, COUNTY)
    assert len(outbox()) == emitted


def test_unknown_ids(centers, county):
    raises(NotFound, "center.not_found", centers.get_center, 999999)
    raises(NotFound, "center.not_found", centers.update_center, 999999, {"name": "x"}, COUNTY)
    raises(NotFound, "venue.not_found", centers.get_venue, 999999)
    error = raises(InvalidInput, "input.invalid", centers.get_center, "A1")
    assert list(error.fields) == ["center_id"]


# --- updating ----------------------------------------------------------------------------


def test_update_bumps_version_once_and_emits(centers, county, outbox):
    emitted = len(outbox())
    updated = centers.update_center(
        county["A1"],
        {"name": "南天池村新时代文明实践站", "head": {"name": "张书记", "title": "村党支部书记"}},
        COUNTY,
        expected_version=1,
    )
    assert (updated["name"], updated["version"]) == ("南天池村新时代文明实践站", 2)
    assert updated["updated_at"] > updated["created_at"]

    # the same values again are no change: no new version, no event
    assert centers.update_center(county["A1"], {"name": "南天池村新时代文明实践站"}, COUNTY) == updated

    raises(
        Conflict,
        "center.version_conflict",
        centers.update_center,
        county["A1"],
        {"name": "旧版本"},
        COUNTY,
        expected_version=1,
    )
    error = raises(
        InvalidInput,
        "input.invalid",
        centers.update_center,
        county["A1"],
        {"name": "旧版本"},
        COUNTY,
        expected_version="2",
    )
    assert list(error.fields) == ["expected_version"]

    events = outbox()[emitted:]
    assert [e["type"] for e in events] == ["center.updated"]
    assert events[0]["data"] == updated == centers.get_center(county["A1"])


def test_concurrent_commands_cannot_both_win(centers, county, outbox):
    def attempt(call):
        with ServiceRpcClient("centers", timeout=15) as client:
            try:
                return call(client)
            except Conflict as error:
                return error.code

    emitted = len(outbox())
    pool = eventlet.GreenPool()
    creates = list(
        pool.imap(
            attempt, [lambda client: client.create_center(station_data("same-code", county["A"]), COUNTY)["code"]] * 4
        )
    )
    updates = list(
        pool.imap(
            attempt,
            [
                lambda client, n=n: client.update_center(
                    county["B1"], {"name": f"并发 {n}"}, COUNTY, expected_version=1
                )["version"]
                for n in range(4)
            ],
        )
    )
    assert sorted(creates) == ["center.code_taken"] * 3 + ["same-code"]
    assert sorted(updates, key=str) == [2] + ["center.version_conflict"] * 3
    assert [e["type"] for e in outbox()[emitted:]].count("center.updated") == 1


# --- moving ------------------------------------------------------------------------------


def test_move_carries_the_subtree(centers, county, outbox):
    emitted = len(outbox())
    moved = centers.move_center(county["A1"], {"parent_id": county["B"]}, COUNTY)
    assert (moved["parent_id"], moved["version"]) == (county["B"], 2)

    subtree = centers.get_subtree(county["B"])
    assert [(c["id"], c["depth"]) for c in subtree] == [
        (county["B"], 0),
        (county["A1"], 1),
        (county["P"], 2),
        (county["B1"], 1),
    ]
    assert [c["id"] for c in centers.get_ancestors(county["P"])] == [county["county"], county["B"], county["A1"]]
    assert [c["id"] for c in centers.list_centers({"within": county["A"]})["items"]] == [county["A"], county["A2"]]
    assert centers.get_center(county["P"])["version"] == 1  # descendants keep their data

    assert centers.move_center(county["A1"], {"parent_id": county["B"]}, COUNTY) == moved  # already there: no change
    events = outbox()[emitted:]
    assert [e["type"] for e in events] == ["center.moved"]
    assert events[0]["data"] == {**moved, "previous_parent_id": county["A"]}


def test_move_refuses_cycles_and_wrong_levels(centers, county, outbox):
    before, emitted = centers.snapshot(), len(outbox())
    raises(Conflict, "center.cycle", centers.move_center, county["A"], {"parent_id": county["A1"]}, COUNTY)
    raises(Conflict, "center.cycle", centers.move_center, county["A"], {"parent_id": county["A"]}, COUNTY)
    raises(
        InvalidInput,
        "center.parent_level_invalid",
        centers.move_center,
        county["A1"],
        {"parent_id": county["county"]},
        COUNTY,
    )
    error = raises(InvalidInput, "input.invalid", centers.move_center, county["A1"], {"parent_id": None}, COUNTY)
    assert list(error.fields) == ["parent_id"]
    assert centers.snapshot() == before
    assert len(outbox()) == emitted


# --- status ------------------------------------------------------------------------------


def test_status_changes(centers, county, outbox):
    emitted = len(outbox())
    error = raises(
        InvalidInput,
        "center.reason_required",
        centers.set_status,
        county["B"],
        {"status": "suspended", "reason": " "},
        COUNTY,
    )
    assert list(error.fields) == ["reason"]

    suspended = centers.set_status(county["B"], {"status": "suspended", "reason": "场所改造"}, COUNTY)
    assert (suspended["status"], suspended["status_reason"], suspended["version"]) == ("suspended", "场所改造", 2)
    assert (
        centers.set_status(county["B"], {"status": "suspended", "reason": "场所改造"}, COUNTY) == suspended
    )  # retry: no change
    closed = centers.set_status(county["B"], {"status": "closed", "reason": "撤并到东阳镇"}, COUNTY)

    raises(Conflict, "center.closed_parent", centers.create_center, station_data("B9", county["B"]), COUNTY)
    raises(Conflict, "center.closed_parent", centers.move_center, county["A1"], {"parent_id": county["B"]}, COUNTY)
    raises(
        Conflict, "center.closed", centers.add_venue, county["B"], {"name": "道德讲堂", "kind": "ethics_hall"}, COUNTY
    )

    reopened = centers.set_status(county["B"], {"status": "active", "reason": None}, COUNTY)
    assert (reopened["status"], reopened["status_reason"], reopened["version"]) == ("active", None, 4)

    events = outbox()[emitted:]
    assert [(e["type"], e["data"]["previous_status"]) for e in events] == [
        ("center.status_changed", "active"),
        ("center.status_changed", "suspended"),
        ("center.status_changed", "closed"),
    ]
    assert events[1]["data"]["version"] == closed["version"] == 3


# --- scope -------------------------------------------------------------------------------


def test_center_admin_acts_inside_its_subtree_only(centers, county, outbox):
    admin = center_admin(county["A"])
    assert centers.update_center(county["A1"], {"address": "南天池村"}, admin)["address"] == "南天池村"
    assert centers.create_center(station_data("A3", county["A"]), admin)["parent_id"] == county["A"]
    assert centers.move_center(county["P"], {"parent_id": county["A2"]}, admin)["parent_id"] == county["A2"]
    centers.add_venue(county["A2"], {"name": "文化服务室", "kind": "culture"}, admin)
    emitted = len(outbox())

    refused = [
        (centers.update_center, county["B1"], {"name": "越权"}, admin),
        (centers.update_center, county["county"], {"name": "越权"}, admin),
        (centers.set_status, county["B"], {"status": "suspended", "reason": "越权"}, admin),
        (centers.create_center, station_data("B2", county["B"]), admin),
        (centers.move_center, county["A1"], {"parent_id": county["B"]}, admin),  # to outside
        (centers.move_center, county["A"], {"parent_id": county["county"]}, admin),  # its own root
        (centers.add_venue, county["B1"], {"name": "越权", "kind": "other"}, admin),
    ]
    for call, *args in refused:
        raises(PermissionDenied, "scope.outside", call, *args)
    assert len(outbox()) == emitted


def test_other_roles_change_nothing(centers, county, outbox):
    emitted = len(outbox())
    venue = centers.add_venue(county["A1"], {"name": "理论宣讲室", "kind": "lecture"}, COUNTY)
    refused = [
        (centers.create_center, station_data("V1", county["A"]), VOLUNTEER),
        (centers.update_center, county["A1"], {"name": "志愿者改名"}, VOLUNTEER),
        (centers.move_center, county["A1"], {"parent_id": county["B"]}, VOLUNTEER),
        (centers.set_status, county["A1"], {"status": "closed", "reason": "志愿者关闭"}, VOLUNTEER),
        (centers.add_venue, county["A1"], {"name": "x", "kind": "other"}, VOLUNTEER),
        (centers.update_venue, venue["id"], {"name": "x"}, VOLUNTEER),
        (centers.remove_venue, venue["id"], VOLUNTEER),
    ]
    for call, *args in refused:
        raises(PermissionDenied, "scope.role", call, *args)
    raises(InvalidInput, "actor.invalid", centers.update_center, county["A1"], {"name": "x"}, {"role": 5})
    assert len(outbox()) == emitted + 1


# --- lists and figures -------------------------------------------------------------------


def test_list_filters_and_pagination(centers, county):
    def ids(filters=None, **paging):
        return [c["id"] for c in centers.list_centers(filters or {}, **paging)["items"]]

    everything = centers.list_centers({}, page=1, page_size=3)
    assert (everything["total"], everything["page"], everything["page_size"]) == (7, 1, 3)
    assert [c["id"] for c in everything["items"]] == [county[k] for k in ("county", "A", "B")]
    assert ids(page=3, page_size=3) == [county["P"]]
    assert ids(page=4, page_size=3) == []

    assert ids({"level": "station"}) == [county[k] for k in ("A1", "A2", "B1")]
    assert ids({"parent_id": county["A"]}) == [county["A1"], county["A2"]]
    assert ids({"platform": "culture"}) == [county["A1"], county["B1"]]
    assert ids({"code": "B1-code"}) == [county["B1"]]
    assert ids({"q": "a1 文明"}) == [county["A1"]]
    assert ids({"q": "%"}) == []
    assert ids({"within": county["A1"], "level": "point"}) == [county["P"]]
    centers.set_status(county["A2"], {"status": "suspended", "reason": "装修"}, COUNTY)
    assert ids({"status": "suspended"}) == [county["A2"]]

    error = raises(InvalidInput, "input.invalid", centers.list_centers, {"level": "village", "colour": 1}, 1, 500)
    assert set(error.fields) == {"level", "colour", "page_size"}


def test_snapshot_pages_through_every_center_by_id(centers, county):
    first = centers.snapshot(0, 3)
    assert [c["id"] for c in first["items"]] == [county[k] for k in ("county", "A", "B")]
    pages, after_id = [first], first["next_after_id"]
    while after_id is not None:
        pages.append(centers.snapshot(after_id, 3))
        after_id = pages[-1]["next_after_id"]
    assert [c["id"] for page in pages for c in page["items"]] == sorted(county.values())
    assert centers.snapshot()["next_after_id"] is None  # the default page holds a small county
    raises(InvalidInput, "input.invalid", centers.snapshot, -1)


def test_is_within_answers_scope_questions_from_the_tree(centers, county):
    assert centers.is_within(county["P"], county["A"]) is True
    assert centers.is_within(county["A"], county["A"]) is True
    assert centers.is_within(county["B1"], county["A"]) is False
    assert centers.is_within(county["A"], county["P"]) is False
    raises(NotFound, "center.not_found", centers.is_within, 999_999, county["A"])


def test_subtree_stats_roll_up_open_centers(centers, county):
    centers.add_venue(county["A1"], {"name": "法律援助室", "kind": "legal_aid", "capacity": 20, "area_m2": 30}, COUNTY)
    centers.add_venue(county["A2"], {"name": "道德讲堂", "kind": "ethics_hall"}, COUNTY)
    centers.add_venue(county["B1"], {"name": "科普宣传室", "kind": "science"}, COUNTY)

    assert centers.subtree_stats(county["county"]) == {
        "center_id": county["county"],
        "count_by_level": {"center": 1, "institute": 2, "station": 3, "point": 1},
        "households_served": 2450,
        "residents_served": 7500,
        "floor_area_m2": 926.63,
        "venue_count": 3,
    }
    centers.set_status(county["A2"], {"status": "closed", "reason": "撤并"}, COUNTY)
    assert centers.subtree_stats(county["A"]) == {
        "center_id": county["A"],
        "count_by_level": {"center": 0, "institute": 1, "station": 1, "point": 1},
        "households_served": 1300,
        "residents_served": 3900,
        "floor_area_m2": 155.0,
        "venue_count": 1,
    }


# --- venues ------------------------------------------------------------------------------


def test_venue_life_cycle(centers, county, outbox):
    emitted = len(outbox())
    added = centers.add_venue(county["A1"], {"name": "文化服务室", "kind": "culture", "capacity": 40}, COUNTY)
    assert added == {
        "id": added["id"],
        "center_id": county["A1"],
        "name": "文化服务室",
        "kind": "culture",
        "capacity": 40,
        "area_m2": None,
        "version": 1,
    }
    updated = centers.update_venue(added["id"], {"area_m2": 55.5, "capacity": 40}, COUNTY)
    assert (updated["area_m2"], updated["version"]) == (55.5, 2)
    assert centers.update_venue(added["id"], {"area_m2": 55.5}, COUNTY) == updated  # no change
    error = raises(InvalidInput, "input.invalid", centers.update_venue, added["id"], {"kind": "gym"}, COUNTY)
    assert list(error.fields) == ["kind"]
    assert centers.get_venue(added["id"]) == updated
    assert centers.list_venues(county["A1"]) == [updated]

    assert centers.remove_venue(added["id"], COUNTY) is None
    raises(NotFound, "venue.not_found", centers.get_venue, added["id"])
    assert centers.list_venues(county["A1"]) == []

    events = outbox()[emitted:]
    assert [e["type"] for e in events] == ["venue.added", "venue.updated", "venue.removed"]
    assert [e["data"] for e in events] == [added, updated, {**updated, "version": 3}]  # a removal is a change


def test_ids_are_never_given_out_twice(centers, county):
    first = centers.add_venue(county["A1"], {"name": "甲室", "kind": "other"}, COUNTY)
    centers.remove_venue(first["id"], COUNTY)
    second = centers.add_venue(county["A1"], {"name": "乙室", "kind": "other"}, COUNTY)
    assert second["id"] > first["id"]


def test_a_consumer_that_keeps_the_highest_version_ends_with_the_services_state(centers, county, outbox):
    """The rule docs/events.md gives consumers (apply an event only when its data.version is
    greater than the one held), replayed over a scripted history with removals and reuse."""
    emitted = len(outbox())
    a1 = county["A1"]
    first = centers.add_venue(a1, {"name": "文化服务室", "kind": "culture"}, COUNTY)
    centers.update_venue(first["id"], {"capacity": 30}, COUNTY)
    centers.remove_venue(first["id"], COUNTY)
    second = centers.add_venue(a1, {"name": "法律援助室", "kind": "legal_aid"}, COUNTY)
    centers.update_venue(second["id"], {"area_m2": 20.0}, COUNTY)
    centers.set_status(a1, {"status": "suspended", "reason": "装修"}, COUNTY)
    events = outbox()[emitted:]

    for order in (events, list(reversed(events)), events + events):  # any order, any duplicates
        held = {}  # (kind, id) -> (version, data or None when removed)
        for event in order:
            kind = event["type"].split(".")[0]
            data = event["data"]
            key = (kind, data["id"])
            if key not in held or data["version"] > held[key][0]:
                held[key] = (data["version"], None if event["type"] == "venue.removed" else data)
        venues = sorted((data for (kind, _), (_, data) in held.items() if kind == "venue" and data), key=str)
        assert venues == sorted(centers.list_venues(a1), key=str)
        center = centers.get_center(a1)
        assert {key: held[("center", a1)][1][key] for key in center} == center  # beyond: the event's extras


# --- the published events ----------------------------------------------------------------


def test_events_reach_a_plain_amqp_subscriber(centers, county, amqp_uri):
    exchange = Exchange("centers.events", type="topic", durable=True)
    with Connection(amqp_uri) as connection:
        queue = Queue(f"test-centers-{uuid.uuid4().hex[:8]}", exchange, routing_key="center.*", durable=True)
        subscriber = connection.SimpleQueue(queue)
        try:
            moved = centers.move_center(county["A1"], {"parent_id": county["B"]}, COUNTY)
            centers.add_venue(county["B1"], {"name": "道德讲堂", "kind": "ethics_hall"}, COUNTY)  # not center.*
            closed = centers.set_status(county["A2"], {"status": "closed", "reason": "撤并"}, COUNTY)

            received = []
            while len(received) < 2:
                message = subscriber.get(timeout=15)
                assert message.content_type == "application/cloudevents+json"
                event = json.loads(message.body)
                message.ack()
                # the fixture's creations may still be leaving the outbox after we bound
                if event["type"] != "center.created":
                    received.append(event)
        finally:
            subscriber.close()

    for event in received:
        assert_valid_event(event)
    assert [(e["type"], e["data"]["id"], e["data"]["version"]) for e in received] == [
        ("center.moved", moved["id"], moved["version"]),
        ("center.status_changed", closed["id"], closed["version"]),
    ]


# --- the schema --------------------------------------------------------------------------
