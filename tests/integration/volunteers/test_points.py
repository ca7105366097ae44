"""Points and love supermarkets in the volunteers service, on the real broker, on SQLite and
PostgreSQL: points earned from `attendance.confirmed` events (published to the activities
service's exchange as that service will), goods, redemptions under heavy concurrency,
cancellations, and who may read and do what."""

import itertools
import json
from collections import Counter

import jsonschema
import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange, Producer, Queue
from nameko.standalone.rpc import ServiceRpcClient

from services.chassis.actors import Actor
from services.chassis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.chassis.events import SERIALIZER, make_event, validate_event
from services.volunteers.contract import EVENT_SCHEMAS
from services.volunteers.contract.hours import ACTIVITIES, ATTENDANCE_CONFIRMED
from services.volunteers.contract.points import MAX_STOCK
from services.volunteers.models import Base
from services.volunteers.points.entrypoints import EARN_HANDLER, personal_export
from tests.support.actors import COUNTY, VOLUNTEER, center_admin
from tests.support.waiting import wait_for

EARN_QUEUE = f"evt-{ACTIVITIES}-{ATTENDANCE_CONFIRMED}--{EARN_HANDLER}"
_attendance_ids = itertools.count(1)
_account_ids = itertools.count(7001)


def raises(error_class, code, call, *args, **kwargs):
    with pytest.raises(error_class) as refused:
        call(*args, **kwargs)
    assert refused.value.code == code, refused.value
    return refused.value


def as_volunteer(account_id):
    return Actor(str(account_id), "volunteer").as_payload()


def attendance(volunteer_id, hours=2.0, kind="flat", rate=10, attendance_id=None, revision=1):
    """The data of an `attendance.confirmed` event, as the activities service will publish it."""
    return {
        "attendance_id": attendance_id or next(_attendance_ids),
        "revision": revision,
        "activity_id": 900,
        "activity_title": "文明交通劝导",
        "organizer_center_id": 1,
        "team_id": None,
        "volunteer_id": volunteer_id,
        "served_on": "2026-11-28",
        "hours": hours,
        "points_rule": {"kind": kind, "rate": rate},
        "confirmed_at": "2026-11-28T10:00:00.000000Z",
    }


@pytest.fixture
def publish(amqp_uri, volunteers_service):
    """`publish(data, event=None)`: an attendance.confirmed CloudEvent on `activities.events`."""
    exchange = Exchange(f"{ACTIVITIES}.events", type="topic", durable=True)
    with Connection(amqp_uri) as connection:
        producer = Producer(connection.default_channel, serializer=SERIALIZER)

        def send(data, event=None):
            event = event or make_event(ACTIVITIES, ATTENDANCE_CONFIRMED, str(data["attendance_id"]), data)
            producer.publish(
                event,
                exchange=exchange,
                routing_key=ATTENDANCE_CONFIRMED,
                declare=[exchange],
                message_id=event["id"],
                type=ATTENDANCE_CONFIRMED,
                delivery_mode=2,
            )
            return event

        yield send


@pytest.fixture
def handled(engine):
    """`handled(event)`: waits until the earning handler has applied (claimed) the event."""
    table = Base.metadata.tables["processed_events"]

    def wait(event):
        def claimed():
            with engine.connect() as connection:
                query = sa.select(table.c.event_id).where(
                    table.c.handler == EARN_HANDLER, table.c.event_id == event["id"]
                )
                return connection.execute(query).first() is not None

        wait_for(claimed, what=f"the earning handler to apply {event['id']}")

    return wait


@pytest.fixture
def balance(volunteers):
    def read(volunteer_id):
        return volunteers.get_volunteer_points(volunteer_id, COUNTY)["balance"]

    return read


@pytest.fixture
def earn(publish, handled):
    """`earn(volunteer_id, points)`: a flat-rate attendance worth `points`, applied."""

    def credit(volunteer_id, points):
        handled(publish(attendance(volunteer_id, rate=points)))

    return credit


@pytest.fixture
def outbox(engine):
    """`outbox(prefix)`: the events emitted so far whose type starts with `prefix`, each
    checked against the published contract."""
    table = Base.metadata.tables["outbox"]

    def read(prefix):
        with engine.connect() as connection:
            rows = connection.execute(sa.select(table.c.payload).order_by(table.c.id)).all()
        events = [json.loads(row.payload) for row in rows]
        events = [event for event in events if event["type"].startswith(prefix)]
        for event in events:
            assert validate_event(event) == []
            assert event["source"] == "/wenming/volunteers"
            jsonschema.validate(event["data"], EVENT_SCHEMAS[event["type"]], format_checker=jsonschema.FormatChecker())
        return events

    return read


@pytest.fixture
def volunteer(add_volunteer, tree):
    """`volunteer(station="a1", status="active")`: (volunteer id, their actor)."""

    def add(station="a1", status="active"):
        account_id = next(_account_ids)
        return add_volunteer(tree[station], account_id=account_id, status=status), as_volunteer(account_id)

    return add


@pytest.fixture
def shelf(volunteers, tree):
    """`shelf(name, price, stock, center="a1")`: goods added by the county admin; their id."""

    def add(name, price, stock, center="a1"):
        return volunteers.add_goods(tree[center], {"name": name, "price": price, "stock": stock}, COUNTY)["id"]

    return add


def ledger(engine, volunteer_id):
    """(balance, [(delta, balance_after, kind)]) of a volunteer's account, oldest entry first."""
    accounts, entries = Base.metadata.tables["point_accounts"], Base.metadata.tables["point_entries"]
    with engine.connect() as connection:
        account = connection.execute(
            sa.select(accounts).where(accounts.c.holder_kind == "volunteer", accounts.c.holder_id == volunteer_id)
        ).first()
        rows = connection.execute(
            sa.select(entries.c.delta, entries.c.balance_after, entries.c.kind)
            .where(entries.c.account_id == account.id)
            .order_by(entries.c.id)
        ).all()
    return account.balance, [tuple(row) for row in rows]


def assert_consistent(engine, volunteer_id):
    """The history adds up to the balance, entry by entry."""
    balance, entries = ledger(engine, volunteer_id)
    running = 0
    for delta, balance_after, _kind in entries:
        running += delta
        assert balance_after == running >= 0
    assert running == balance
    return balance


# --- earning ---------------------------------------------------------------------------------


def test_an_attendance_earns_its_points_once_whatever_the_revision(
    volunteers, volunteer, publish, handled, balance, outbox, engine
):
    volunteer_id, me = volunteer()
    data = attendance(volunteer_id, hours=2.3, kind="per_hour", rate=10)
    first = publish(data)
    handled(first)
    assert balance(volunteer_id) == 23  # 2.3 h × 10, exactly

    publish(data, event=first)  # a redelivery
    corrected = publish({**data, "revision": 2, "hours": 4})  # the organizer corrects the hours
    handled(corrected)
    assert balance(volunteer_id) == 23

    flat = publish(attendance(volunteer_id, hours=1, kind="flat", rate=15))
    nothing = publish(attendance(volunteer_id, hours=3, kind="none", rate=10))
    handled(flat)
    handled(nothing)
    mine = volunteers.get_my_points(me)
    assert mine["balance"] == 38 and mine["holder_kind"] == "volunteer" and mine["holder_id"] == volunteer_id
    assert [(e["delta"], e["balance_after"], e["kind"]) for e in mine["entries"]["items"]] == [
        (15, 38, "earned"),
        (23, 23, "earned"),
    ]
    newest = mine["entries"]["items"][0]
    assert newest["reference"] == f"attendance:{flat['data']['attendance_id']}"
    assert newest["note"] == "文明交通劝导"
    events = outbox("points.")
    assert [(e["type"], e["data"]["points"], e["data"]["balance"]) for e in events] == [
        ("points.earned", 23, 23),
        ("points.earned", 15, 38),
    ]
    assert events[0]["data"]["attendance_id"] == data["attendance_id"]
    assert events[0]["subject"] == str(events[0]["data"]["account_id"])
    assert_consistent(engine, volunteer_id)


def test_an_attendance_worth_nothing_opens_no_account(volunteers, volunteer, publish, handled, engine):
    volunteer_id, me = volunteer()
    handled(publish(attendance(volunteer_id, hours=0, kind="per_hour", rate=10)))
    assert volunteers.get_my_points(me) == {
        "holder_kind": "volunteer",
        "holder_id": volunteer_id,
        "balance": 0,
        "entries": {"items": [], "total": 0, "page": 1, "page_size": 20},
    }
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(Base.metadata.tables["point_accounts"])) == 0


def test_unusable_attendance_events_go_to_the_dead_letter_queue(
    volunteers, volunteer, publish, earn, balance, amqp_uri
):
    volunteer_id, _ = volunteer()
    bad = [
        publish({**attendance(volunteer_id), "hours": 99}),
        publish(attendance(volunteer_id, kind="flat", rate=10**9)),
        publish(attendance(987_654)),  # no such volunteer
    ]
    wanted = {event["id"] for event in bad}
    with Connection(amqp_uri) as connection:
        dead = Queue(f"{EARN_QUEUE}.dead", channel=connection.default_channel)

        def all_dead():
            while True:
                message = dead.get(no_ack=True)
                if message is None:
                    return not wanted
                wanted.discard(json.loads(message.body)["id"])

        wait_for(all_dead, what="the unusable events in the dead-letter queue")
    earn(volunteer_id, 5)  # the handler goes on with the next one
    assert balance(volunteer_id) == 5


# --- goods -----------------------------------------------------------------------------------


def test_admins_of_the_scope_keep_the_catalogue(volunteers, centers, tree, outbox):
    admin_a = center_admin(tree["a"])
    rice = volunteers.add_goods(tree["a1"], {"name": " 大米 5kg ", "price": 30, "stock": 20}, admin_a)
    assert {key: rice[key] for key in ("center_id", "name", "description", "price", "stock", "active", "version")} == {
        "center_id": tree["a1"],
        "name": "大米 5kg",
        "description": None,
        "price": 30,
        "stock": 20,
        "active": True,
        "version": 1,
    }
    oil = volunteers.add_goods(tree["a1"], {"name": "食用油", "price": 50, "description": "1.8L"}, COUNTY)
    assert oil["stock"] == 0

    raises(PermissionDenied, "scope.outside", volunteers.add_goods, tree["b1"], {"name": "毛巾", "price": 5}, admin_a)
    raises(PermissionDenied, "scope.role", volunteers.add_goods, tree["a1"], {"name": "毛巾", "price": 5}, VOLUNTEER)
    raises(NotFound, "center.not_found", volunteers.add_goods, 999_999, {"name": "毛巾", "price": 5}, COUNTY)
    raises(Conflict, "goods.name_taken", volunteers.add_goods, tree["a1"], {"name": "大米 5kg", "price": 9}, COUNTY)
    bad = raises(
        InvalidInput, "input.invalid", volunteers.add_goods, tree["a1"], {"name": "", "price": 0, "stock": -1}, COUNTY
    )
    assert set(bad.fields) == {"name", "price", "stock"}
    centers.set_status(tree["a2"], {"status": "suspended", "reason": "装修"}, COUNTY)
    raises(Conflict, "center.inactive", volunteers.add_goods, tree["a2"], {"name": "毛巾", "price": 5}, COUNTY)

    cheaper = volunteers.update_goods(rice["id"], {"price": 25}, admin_a, expected_version=1)
    assert (cheaper["price"], cheaper["version"]) == (25, 2)
    assert volunteers.update_goods(rice["id"], {"price": 25}, admin_a) == cheaper  # nothing to change
    raises(Conflict, "goods.version_conflict", volunteers.update_goods, rice["id"], {"price": 20}, admin_a, 1)
    raises(
        PermissionDenied, "scope.outside", volunteers.update_goods, rice["id"], {"price": 1}, center_admin(tree["b"])
    )
    raises(Conflict, "goods.name_taken", volunteers.update_goods, rice["id"], {"name": "食用油"}, admin_a)
    raises(NotFound, "goods.not_found", volunteers.update_goods, 999_999, {"price": 1}, admin_a)

    restocked = volunteers.change_stock(rice["id"], {"delta": 15}, admin_a)
    assert (restocked["stock"], restocked["version"]) == (35, 3)
    raises(Conflict, "goods.stock_too_large", volunteers.change_stock, rice["id"], {"delta": MAX_STOCK}, admin_a)
    assert volunteers.change_stock(rice["id"], {"delta": -35}, admin_a)["stock"] == 0
    refused = raises(Conflict, "goods.stock_negative", volunteers.change_stock, rice["id"], {"delta": -1}, admin_a)
    assert refused.fields == {"delta": ["最多减少 0 件。"]}
    raises(InvalidInput, "input.invalid", volunteers.change_stock, rice["id"], {"delta": 0}, admin_a)
    raises(
        PermissionDenied, "scope.outside", volunteers.change_stock, rice["id"], {"delta": 1}, center_admin(tree["b"])
    )
    withdrawn = volunteers.update_goods(oil["id"], {"active": False}, COUNTY)
    assert withdrawn["active"] is False

    catalogue = volunteers.list_goods(tree["a1"])
    assert [item["id"] for item in catalogue["items"]] == [rice["id"], oil["id"]] and catalogue["total"] == 2
    assert [item["id"] for item in volunteers.list_goods(tree["a1"], {"active": True})["items"]] == [rice["id"]]
    assert volunteers.list_goods(tree["a1"], {"active": False, "page_size": 1})["items"] == [withdrawn]
    assert volunteers.list_goods(tree["b1"])["total"] == 0
    raises(NotFound, "center.not_found", volunteers.list_goods, 999_999)
    assert volunteers.get_goods(oil["id"]) == withdrawn

    events = outbox("goods.")
    assert [(e["type"], e["data"]["id"], e["data"]["version"]) for e in events] == [
        ("goods.added", rice["id"], 1),
        ("goods.added", oil["id"], 1),
        ("goods.changed", rice["id"], 2),
        ("goods.changed", rice["id"], 3),
        ("goods.changed", rice["id"], 4),
        ("goods.changed", oil["id"], 2),
    ]
    assert events[-1]["data"]["active"] is False


# --- redeeming -------------------------------------------------------------------------------


def test_a_volunteer_redeems_for_themself(volunteers, volunteer, shelf, earn, engine, outbox, volunteers_store):
    volunteer_id, me = volunteer()
    earn(volunteer_id, 100)
    rice = shelf("大米", price=30, stock=5)

    redemption = volunteers.redeem(rice, {"quantity": 2}, me)
    assert {
        key: redemption[key] for key in ("holder_id", "goods_id", "goods_name", "quantity", "points", "status")
    } == {
        "holder_id": volunteer_id,
        "goods_id": rice,
        "goods_name": "大米",
        "quantity": 2,
        "points": 60,
        "status": "completed",
    }
    assert redemption["actor_account_id"] == me["account_id"]
    assert volunteers.get_goods(rice)["stock"] == 3
    mine = volunteers.get_my_points(me)
    assert mine["balance"] == 40
    assert mine["entries"]["items"][0] | {"id": 0, "at": None} == {
        "id": 0,
        "at": None,
        "delta": -60,
        "balance_after": 40,
        "kind": "redeemed",
        "reference": f"redemption:{redemption['id']}",
        "note": "兑换 大米 ×2",
    }

    poor = raises(Conflict, "points.insufficient_balance", volunteers.redeem, rice, {"quantity": 2}, me)
    assert poor.message == "积分不足：需要 60 积分，当前余额 40 积分。"
    raises(Conflict, "goods.out_of_stock", volunteers.redeem, rice, {"quantity": 4}, me)
    raises(InvalidInput, "input.invalid", volunteers.redeem, rice, {"quantity": 11}, me)
    raises(InvalidInput, "input.invalid", volunteers.redeem, rice, {"quantity": 0}, me)
    raises(NotFound, "goods.not_found", volunteers.redeem, 999_999, {}, me)
    assert (volunteers.get_goods(rice)["stock"], volunteers.get_my_points(me)["balance"]) == (3, 40)

    volunteers.update_goods(rice, {"active": False}, COUNTY)
    raises(Conflict, "goods.withdrawn", volunteers.redeem, rice, {}, me)

    newcomer_id, newcomer = volunteer()
    soap = shelf("肥皂", price=5, stock=5)
    broke = raises(Conflict, "points.insufficient_balance", volunteers.redeem, soap, {}, newcomer)
    assert broke.message == "积分不足：需要 5 积分，当前余额 0 积分。"
    raises(PermissionDenied, "volunteer.no_profile", volunteers.redeem, soap, {}, as_volunteer(999_999))

    [event] = outbox("points.redeemed")
    assert event["data"] | {"at": None} == {
        "account_id": event["data"]["account_id"],
        "holder_kind": "volunteer",
        "holder_id": volunteer_id,
        "balance": 40,
        "at": None,
        "redemption_id": redemption["id"],
        "goods_id": rice,
        "goods_name": "大米",
        "center_id": redemption["center_id"],
        "quantity": 2,
        "points": 60,
        "stock": 3,
    }
    assert assert_consistent(engine, volunteer_id) == 40
    with volunteers_store.read() as session:
        exported = personal_export(session, volunteer_id)
        assert exported["balance"] == 40 and len(exported["entries"]) == 2
        assert [r["id"] for r in exported["redemptions"]] == [redemption["id"]]
        assert personal_export(session, newcomer_id) == {"balance": 0, "entries": [], "redemptions": []}


def test_at_the_counter_an_admin_of_the_goods_center_redeems_for_a_volunteer(
    volunteers, volunteer, shelf, earn, tree, balance
):
    volunteer_id, me = volunteer(station="b1")  # points are county-wide: any station's volunteer
    other_id, other = volunteer()
    earn(volunteer_id, 50)
    towel = shelf("毛巾", price=10, stock=10, center="a2")

    at_counter = volunteers.redeem(towel, {"quantity": 3, "volunteer_id": volunteer_id}, center_admin(tree["a"]))
    assert (at_counter["holder_id"], at_counter["actor_account_id"]) == (volunteer_id, f"admin-{tree['a']}")
    assert balance(volunteer_id) == 20

    for outsider, code in ((center_admin(tree["b"]), "scope.outside"), (other, "scope.role")):
        raises(PermissionDenied, code, volunteers.redeem, towel, {"volunteer_id": volunteer_id}, outsider)
    assert volunteers.redeem(towel, {"volunteer_id": volunteer_id}, me)["holder_id"] == volunteer_id  # themself
    raises(NotFound, "volunteer.not_found", volunteers.redeem, towel, {"volunteer_id": 999_999}, COUNTY)

    suspended_id, suspended = volunteer(status="suspended")
    earn(suspended_id, 50)
    raises(Conflict, "volunteer.not_active", volunteers.redeem, towel, {}, suspended)
    assert (balance(volunteer_id), balance(suspended_id), volunteers.get_goods(towel)["stock"]) == (10, 50, 6)


def test_a_cancelled_redemption_gives_back_points_and_stock(
    volunteers, volunteer, shelf, earn, tree, balance, outbox, engine
):
    volunteer_id, me = volunteer()
    earn(volunteer_id, 40)
    rice = shelf("大米", price=15, stock=2)
    redemption = volunteers.redeem(rice, {"quantity": 2}, me)
    volunteers.update_goods(rice, {"active": False}, COUNTY)  # withdrawn meanwhile: the items still go back

    for outsider, code in ((center_admin(tree["b"]), "scope.outside"), (me, "scope.role")):
        raises(PermissionDenied, code, volunteers.cancel_redemption, redemption["id"], {"reason": "误操作"}, outsider)
    raises(InvalidInput, "input.invalid", volunteers.cancel_redemption, redemption["id"], {}, COUNTY)
    cancelled = volunteers.cancel_redemption(redemption["id"], {"reason": "误操作"}, center_admin(tree["a1"]))
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "误操作")
    assert cancelled["cancelled_at"] is not None
    assert (balance(volunteer_id), volunteers.get_goods(rice)["stock"]) == (40, 2)
    raises(Conflict, "redemption.cancelled", volunteers.cancel_redemption, redemption["id"], {"reason": "再次"}, COUNTY)
    raises(NotFound, "redemption.not_found", volunteers.cancel_redemption, 999_999, {"reason": "误操作"}, COUNTY)

    assert [(e["delta"], e["kind"]) for e in volunteers.get_my_points(me)["entries"]["items"]] == [
        (30, "refunded"),
        (-30, "redeemed"),
        (40, "earned"),
    ]
    [event] = outbox("points.refunded")
    assert (event["data"]["balance"], event["data"]["stock"], event["data"]["reason"]) == (40, 2, "误操作")
    assert_consistent(engine, volunteer_id)


# --- reading ---------------------------------------------------------------------------------


def test_who_reads_accounts_and_redemptions(volunteers, volunteer, shelf, earn, tree):
    volunteer_id, me = volunteer(station="a1")
    other_id, other = volunteer(station="b1")
    for points in (10, 20, 30):
        earn(volunteer_id, points)

    second_page = volunteers.get_my_points(me, {"page": 2, "page_size": 2})
    assert [e["delta"] for e in second_page["entries"]["items"]] == [10]
    assert second_page["entries"] | {"items": None} == {"items": None, "total": 3, "page": 2, "page_size": 2}
    raises(InvalidInput, "query.invalid", volunteers.get_my_points, me, {"page_size": 201})

    assert volunteers.get_volunteer_points(volunteer_id, me)["balance"] == 60
    for reader in (COUNTY, center_admin(tree["a"]), center_admin(tree["a1"])):
        assert volunteers.get_volunteer_points(volunteer_id, reader)["balance"] == 60
    raises(PermissionDenied, "scope.outside", volunteers.get_volunteer_points, volunteer_id, center_admin(tree["b"]))
    raises(PermissionDenied, "scope.role", volunteers.get_volunteer_points, volunteer_id, other)
    raises(NotFound, "volunteer.not_found", volunteers.get_volunteer_points, 999_999, COUNTY)
    raises(PermissionDenied, "volunteer.no_profile", volunteers.get_my_points, COUNTY)

    soap, towel = shelf("肥皂", price=5, stock=10), shelf("毛巾", price=10, stock=10, center="b1")
    earn(other_id, 30)
    first = volunteers.redeem(soap, {}, me)
    second = volunteers.redeem(soap, {"quantity": 2}, other)
    volunteers.redeem(towel, {}, other)
    volunteers.cancel_redemption(first["id"], {"reason": "误操作"}, COUNTY)

    admin_a = center_admin(tree["a"])
    page = volunteers.list_redemptions(tree["a1"], admin_a)
    assert [r["id"] for r in page["items"]] == [second["id"], first["id"]] and page["total"] == 2
    mine = volunteers.list_redemptions(tree["a1"], admin_a, {"volunteer_id": volunteer_id})
    assert [r["id"] for r in mine["items"]] == [first["id"]]
    done = volunteers.list_redemptions(tree["a1"], COUNTY, {"status": "completed"})
    assert [r["id"] for r in done["items"]] == [second["id"]]
    raises(PermissionDenied, "scope.outside", volunteers.list_redemptions, tree["b1"], admin_a)
    raises(PermissionDenied, "scope.role", volunteers.list_redemptions, tree["a1"], me)
    raises(NotFound, "center.not_found", volunteers.list_redemptions, 999_999, COUNTY)
    raises(InvalidInput, "query.invalid", volunteers.list_redemptions, tree["a1"], COUNTY, {"status": "lost"})


# --- under concurrency -----------------------------------------------------------------------


def redeem_all_at_once(attempts):
    """Every (goods_id, data, actor) of `attempts` sent before any reply is awaited; the
    outcome of each: "completed" or the code of its refusal."""
    with ServiceRpcClient("volunteers", timeout=120) as client:
        replies = [client.redeem.call_async(goods_id, data, actor) for goods_id, data, actor in attempts]
        outcomes = []
        for reply in replies:
            try:
                outcomes.append(reply.result()["status"])
            except Conflict as refused:
                outcomes.append(refused.code)
        return outcomes


def completed_redemptions(engine, goods_id):
    table = Base.metadata.tables["redemptions"]
    with engine.connect() as connection:
        return connection.execute(
            sa.select(table.c.holder_id, sa.func.count())
            .where(table.c.goods_id == goods_id, table.c.status == "completed")
            .group_by(table.c.holder_id)
        ).all()


def test_200_concurrent_redemptions_against_a_stock_of_50(volunteers, volunteer, shelf, earn, engine, outbox):
    crowd = [volunteer() for _ in range(20)]
    for volunteer_id, _ in crowd:
        earn(volunteer_id, 30)  # three items each: 60 wanted in all, more than the shelf holds
    rice = shelf("大米", price=10, stock=50)

    outcomes = redeem_all_at_once([(rice, {}, actor) for _ in range(10) for _, actor in crowd])

    counted = Counter(outcomes)
    assert counted["completed"] == 50, counted
    assert set(counted) <= {"completed", "goods.out_of_stock", "points.insufficient_balance"}, counted
    assert counted["goods.out_of_stock"] > 0
    assert volunteers.get_goods(rice)["stock"] == 0
    per_holder = dict(completed_redemptions(engine, rice))
    assert sum(per_holder.values()) == 50
    for volunteer_id, _ in crowd:
        assert assert_consistent(engine, volunteer_id) == 30 - 10 * per_holder.get(volunteer_id, 0) >= 0
    assert len(outbox("points.redeemed")) == 50


def test_balance_runs_out_before_the_stock_does(volunteers, volunteer, shelf, earn, engine):
    volunteer_id, me = volunteer()
    earn(volunteer_id, 70)
    soap = shelf("肥皂", price=10, stock=50)

    outcomes = redeem_all_at_once([(soap, {}, me)] * 30)

    assert Counter(outcomes) == {"completed": 7, "points.insufficient_balance": 23}
    assert assert_consistent(engine, volunteer_id) == 0
    assert volunteers.get_goods(soap)["stock"] == 43
