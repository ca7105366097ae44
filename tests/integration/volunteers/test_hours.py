"""The service-hour ledger in-process on the real broker, on SQLite and PostgreSQL: the
attendance handler (duplicates, revisions out of order, concurrent credits, dead letters),
back-fills, disputes, revocations, totals and their scope."""

import base64
import json
from datetime import date

import eventlet
import jsonschema
import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange, Queue
from nameko.amqp.publish import Publisher

from services.chassis.actors import Actor
from services.chassis.consumer import ERROR_HEADER
from services.chassis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.chassis.events import SERIALIZER, make_event
from services.volunteers.contract import EVENT_SCHEMAS
from services.volunteers.hours.entrypoints import ATTENDANCE_HANDLER
from services.volunteers.hours.models import BackfillPhoto, BackfillRequest, HourEntry
from services.volunteers.hours.repository import confirmed_entries
from services.volunteers.models import Base
from tests.support.actors import COUNTY, center_admin
from tests.support.waiting import wait_for

ATTENDANCE_QUEUE = "evt-activities-attendance.confirmed--volunteers.hours_on_attendance_confirmed"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
_ids = iter(range(10_000, 10**9))


def as_volunteer(account_id):
    return Actor(str(account_id), "volunteer").as_payload()


def attendance(volunteer_id, center_id, attendance_id=None, revision=1, hours=2.5, **extra):
    return {
        "attendance_id": attendance_id or next(_ids),
        "revision": revision,
        "activity_id": 77,
        "activity_title": "文明旅游引导",
        "organizer_center_id": center_id,
        "team_id": None,
        "volunteer_id": volunteer_id,
        "served_on": "2026-11-20",
        "hours": hours,
        "points_rule": {"kind": "per_hour", "rate": 1},
        "confirmed_at": "2026-11-20T10:00:00Z",
        **extra,
    }


def publish(amqp_uri, data, event=None):
    """Publishes `attendance.confirmed` as the activities service will (a CloudEvent on its
    exchange); returns the event."""
    event = event or make_event("activities", "attendance.confirmed", str(data["attendance_id"]), data)
    Publisher(amqp_uri, serializer=SERIALIZER).publish(
        event,
        exchange=Exchange("activities.events", type="topic", durable=True),
        routing_key="attendance.confirmed",
    )
    return event


def handled(engine, event):
    """Whether the ledger's handler has applied (or skipped as stale) `event` (the points
    part's handler claims the same event under its own name)."""
    processed = Base.metadata.tables["processed_events"]
    claimed = sa.select(processed).where(processed.c.handler == ATTENDANCE_HANDLER, processed.c.event_id == event["id"])
    with engine.connect() as connection:
        return connection.execute(claimed).first()


def rows(engine, model, **where):
    with engine.connect() as connection:
        return connection.execute(sa.select(model.__table__).filter_by(**where)).all()


@pytest.fixture
def outbox(engine):
    """The ledger's events so far, oldest first, each checked against the published schema."""
    table = Base.metadata.tables["outbox"]

    def read(*types):
        with engine.connect() as connection:
            payloads = connection.execute(sa.select(table.c.payload).order_by(table.c.id)).scalars().all()
        events = [json.loads(payload) for payload in payloads]
        for event in events:
            jsonschema.validate(event["data"], EVENT_SCHEMAS[event["type"]], format_checker=jsonschema.FormatChecker())
        return [event for event in events if not types or event["type"] in types]

    return read


def total(volunteers, volunteer_id):
    return volunteers.get_volunteer_hours(volunteer_id, COUNTY)["total_hours"]


# --- the attendance handler ------------------------------------------------------------------


def test_an_event_delivered_twice_is_credited_once(volunteers, tree, add_volunteer, amqp_uri, engine, outbox):
    volunteer_id = add_volunteer(tree["a1"], account_id=7001)
    event = publish(amqp_uri, attendance(volunteer_id, tree["a1"], hours=2.5))
    publish(amqp_uri, event["data"], event)
    wait_for(lambda: total(volunteers, volunteer_id) == 2.5)
    eventlet.sleep(0.5)  # a second credit would have landed by now
    hours = volunteers.get_volunteer_hours(volunteer_id, COUNTY)
    assert (hours["total_hours"], hours["star_level"], hours["entries"]["total"]) == (2.5, 0, 1)
    [credited] = outbox("hours.credited")
    assert credited["data"]["change"] == 2.5 and credited["data"]["cause"] == "attendance"
    assert credited["data"]["account_id"] == 7001


def test_revisions_applied_in_reverse_order_leave_the_newest(volunteers, tree, add_volunteer, amqp_uri, engine, outbox):
    volunteer_id = add_volunteer(tree["a1"])
    attendance_id = next(_ids)
    newer = publish(amqp_uri, attendance(volunteer_id, tree["a1"], attendance_id, revision=2, hours=3))
    wait_for(lambda: handled(engine, newer))
    older = publish(amqp_uri, attendance(volunteer_id, tree["a1"], attendance_id, revision=1, hours=5))
    wait_for(lambda: handled(engine, older))
    [entry] = rows(engine, HourEntry, attendance_id=attendance_id)
    assert (entry.revision, float(entry.hours)) == (2, 3.0)
    assert total(volunteers, volunteer_id) == 3.0

    newest = publish(amqp_uri, attendance(volunteer_id, tree["a1"], attendance_id, revision=3, hours=1.25))
    wait_for(lambda: handled(engine, newest))
    assert total(volunteers, volunteer_id) == 1.25
    assert [event["data"]["change"] for event in outbox("hours.credited")] == [3.0, -1.75]


def test_concurrent_credits_for_one_volunteer_lose_no_hours_and_announce_a_star_once(
    volunteers, tree, add_volunteer, amqp_uri, engine, outbox
):
    volunteer_id = add_volunteer(tree["a1"], account_id=7002)
    events = [publish(amqp_uri, attendance(volunteer_id, tree["a1"], hours=8.25)) for _ in range(16)]
    wait_for(lambda: all(handled(engine, event) for event in events), timeout=30)
    hours = volunteers.get_volunteer_hours(volunteer_id, COUNTY, page_size=50)
    assert (hours["total_hours"], hours["star_level"], hours["entries"]["total"]) == (132.0, 1, 16)
    assert hours["hours_to_next_star"] == 168.0
    [star] = outbox("volunteer.star_level_reached")
    data = star["data"]
    assert (data["volunteer_id"], data["account_id"], data["star_level"]) == (volunteer_id, 7002, 1)
    assert 100 <= data["total_hours"] < 108.25  # the credit that crossed 100 h announced it


def test_unusable_attendances_are_dead_lettered_and_change_nothing(volunteers, tree, add_volunteer, amqp_uri, engine):
    with Connection(amqp_uri) as connection:
        Queue(f"{ATTENDANCE_QUEUE}.dead", channel=connection.default_channel).purge()
    volunteer_id = add_volunteer(tree["a1"])
    attendance_id = next(_ids)
    first = publish(amqp_uri, attendance(volunteer_id, tree["a1"], attendance_id))
    wait_for(lambda: handled(engine, first))
    publish(amqp_uri, attendance(999_999, tree["a1"]))  # a volunteer this service never had
    publish(amqp_uri, attendance(volunteer_id, tree["a1"], hours=30))  # beyond 24 h
    publish(amqp_uri, attendance(volunteer_id, tree["a1"], served_on="2026-02-30"))
    other = add_volunteer(tree["a1"])
    publish(amqp_uri, attendance(other, tree["a1"], attendance_id, revision=2))  # the attendance changes hands
    with Connection(amqp_uri) as connection:
        dead = Queue(f"{ATTENDANCE_QUEUE}.dead", channel=connection.default_channel)
        messages = [wait_for(lambda: dead.get(no_ack=True), timeout=20) for _ in range(4)]
    assert all(message.headers[ERROR_HEADER].startswith("PoisonEvent") for message in messages)
    assert len(rows(engine, HourEntry)) == 1
    assert total(volunteers, volunteer_id) == 2.5


def test_a_deregistered_volunteers_hours_are_still_recorded(volunteers, tree, add_volunteer, amqp_uri, engine):
    volunteer_id = add_volunteer(tree["a1"], status="deregistered")
    event = publish(amqp_uri, attendance(volunteer_id, tree["a1"], hours=4))
    wait_for(lambda: handled(engine, event))
    assert total(volunteers, volunteer_id) == 4.0


# --- back-fills ------------------------------------------------------------------------------


def backfill(center_id, **changes):
    return {
        "activity_title": "社区清扫",
        "center_id": center_id,
        "served_on": "2026-11-01",
        "hours": 3.5,
        "explanation": "组织者漏记，站长可证明。",
        "photos": [{"content_type": "image/png", "data": base64.b64encode(PNG).decode()}],
        **changes,
    }


def test_a_backfill_approved_by_its_center_is_credited(volunteers, tree, add_volunteer, engine, outbox):
    volunteer_id = add_volunteer(tree["a1"], account_id=7101)
    add_volunteer(tree["a1"], account_id=7102)
    request = volunteers.submit_backfill(backfill(tree["a2"]), as_volunteer(7101))
    assert request["status"] == "pending"
    assert request["photos"] == [{"position": 1, "content_type": "image/png", "size": len(PNG)}]

    photo = volunteers.get_backfill_photo(request["id"], 1, center_admin(tree["a"]))
    assert base64.b64decode(photo["data"]) == PNG and photo["content_type"] == "image/png"
    for stranger in (as_volunteer(7102), center_admin(tree["b"])):
        with pytest.raises(PermissionDenied):
            volunteers.get_backfill_photo(request["id"], 1, stranger)
    assert [item["id"] for item in volunteers.list_backfills(center_admin(tree["a"]))["items"]] == [request["id"]]
    assert volunteers.list_backfills(center_admin(tree["b"]))["items"] == []
    assert volunteers.list_backfills(as_volunteer(7102))["items"] == []

    with pytest.raises(PermissionDenied):
        volunteers.approve_backfill(request["id"], center_admin(tree["b"]))
    with pytest.raises(PermissionDenied):
        volunteers.approve_backfill(request["id"], as_volunteer(7101))
    approved = volunteers.approve_backfill(request["id"], center_admin(tree["a2"]))
    assert approved["status"] == "approved" and approved["entry_id"]
    with pytest.raises(Conflict) as again:
        volunteers.reject_backfill(request["id"], {"reason": "重复"}, COUNTY)
    assert again.value.code == "backfill.already_decided"

    hours = volunteers.get_volunteer_hours(volunteer_id, as_volunteer(7101))
    assert hours["total_hours"] == 3.5
    [entry] = hours["entries"]["items"]
    assert (entry["source"], entry["backfill_id"], entry["center_id"]) == ("backfill", request["id"], tree["a2"])
    assert [event["data"]["decision"] for event in outbox("hours.backfill_decided")] == ["approved"]
    assert [event["data"]["cause"] for event in outbox("hours.credited")] == ["backfill"]


def test_a_rejected_backfill_needs_a_reason_and_credits_nothing(volunteers, tree, add_volunteer, outbox):
    volunteer_id = add_volunteer(tree["b1"], account_id=7201)
    request = volunteers.submit_backfill(backfill(tree["b1"], photos=[]), as_volunteer(7201))
    with pytest.raises(InvalidInput) as no_reason:
        volunteers.reject_backfill(request["id"], {}, center_admin(tree["b"]))
    assert "reason" in no_reason.value.fields
    rejected = volunteers.reject_backfill(request["id"], {"reason": "无法核实"}, center_admin(tree["b"]))
    assert (rejected["status"], rejected["decision_reason"]) == ("rejected", "无法核实")
    assert total(volunteers, volunteer_id) == 0
    [decided] = outbox("hours.backfill_decided")
    assert decided["data"]["reason"] == "无法核实" and decided["data"]["account_id"] == 7201


def _photo(content_type, data):
    return [{"content_type": content_type, "data": base64.b64encode(data).decode()}]


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"served_on": "2099-01-01"}, "backfill.served_in_future", "served_on"),
        ({"hours": 0}, "input.invalid", "hours"),
        ({"hours": 24.5}, "input.invalid", "hours"),
        ({"explanation": "长" * 501}, "input.invalid", "explanation"),
        ({"photos": _photo("image/png", PNG) * 4}, "input.invalid", "photos"),
        ({"photos": _photo("image/jpeg", PNG)}, "photo.content_mismatch", "photos.0.data"),
        ({"photos": _photo("image/png", PNG + b"\x00" * 300 * 1024)}, "input.invalid", "photos.0.data"),
        ({"photos": [{"content_type": "image/png", "data": "not base64!"}]}, "photo.not_base64", "photos.0.data"),
        ({"photos": _photo("image/gif", b"GIF89a")}, "input.invalid", "photos.0.content_type"),
        ({"center_id": 999_999}, "center.not_found", "center_id"),
    ],
)
def test_a_bad_backfill_is_refused_and_records_nothing(volunteers, tree, add_volunteer, engine, changes, code, field):
    add_volunteer(tree["a1"], account_id=7301)
    with pytest.raises(InvalidInput) as refused:
        volunteers.submit_backfill(backfill(tree["a1"]) | changes, as_volunteer(7301))
    assert refused.value.code == code
    assert field in refused.value.fields
    assert rows(engine, BackfillRequest) == [] and rows(engine, BackfillPhoto) == []


def test_only_a_volunteer_submits_a_backfill_for_themself(volunteers, tree, add_volunteer):
    with pytest.raises(PermissionDenied):
        volunteers.submit_backfill(backfill(tree["a1"]), COUNTY)
    with pytest.raises(PermissionDenied):  # an account without a volunteer record
        volunteers.submit_backfill(backfill(tree["a1"]), as_volunteer(7399))
    add_volunteer(tree["a1"], account_id=7302, status="suspended")
    with pytest.raises(Conflict):
        volunteers.submit_backfill(backfill(tree["a1"]), as_volunteer(7302))


# --- disputes and revocations ----------------------------------------------------------------


def credited(amqp_uri, engine, volunteer_id, center_id, hours):
    event = publish(amqp_uri, attendance(volunteer_id, center_id, hours=hours))
    wait_for(lambda: handled(engine, event))
    return rows(engine, HourEntry, attendance_id=event["data"]["attendance_id"])[0].id


def test_a_disputed_entry_stops_counting_until_resolved(volunteers, tree, add_volunteer, amqp_uri, engine, outbox):
    volunteer_id = add_volunteer(tree["a1"], account_id=7401)
    add_volunteer(tree["a1"], account_id=7402)
    for _ in range(4):
        credited(amqp_uri, engine, volunteer_id, tree["a1"], 24)
    other_id = credited(amqp_uri, engine, volunteer_id, tree["a1"], 4)
    assert total(volunteers, volunteer_id) == 100.0
    assert len(outbox("volunteer.star_level_reached")) == 1
    with pytest.raises(PermissionDenied):
        volunteers.dispute_hour_entry(other_id, {"reason": "不是我的"}, as_volunteer(7402))

    disputed = volunteers.dispute_hour_entry(other_id, {"reason": "实际服务了6小时"}, as_volunteer(7401))
    assert (disputed["status"], disputed["entry"]["status"]) == ("open", "disputed")
    hours = volunteers.get_volunteer_hours(volunteer_id, as_volunteer(7401))
    assert (hours["total_hours"], hours["star_level"]) == (96.0, 0)
    with pytest.raises(Conflict):
        volunteers.dispute_hour_entry(other_id, {"reason": "再次"}, as_volunteer(7401))
    with pytest.raises(Conflict):
        volunteers.revoke_hour_entry(other_id, {"reason": "核查"}, COUNTY)
    assert [item["id"] for item in volunteers.list_hour_disputes(center_admin(tree["a"]))["items"]] == [disputed["id"]]
    assert volunteers.list_hour_disputes(center_admin(tree["b"]))["items"] == []

    upheld = {"outcome": "upheld", "corrected_hours": 6, "note": "属实"}
    with pytest.raises(PermissionDenied):
        volunteers.resolve_hour_dispute(other_id, upheld, center_admin(tree["b"]))
    with pytest.raises(InvalidInput):
        volunteers.resolve_hour_dispute(other_id, {"outcome": "upheld", "note": "属实"}, center_admin(tree["a"]))
    resolved = volunteers.resolve_hour_dispute(other_id, upheld, center_admin(tree["a"]))
    assert (resolved["status"], resolved["entry"]["status"], resolved["entry"]["hours"]) == ("upheld", "confirmed", 6.0)
    hours = volunteers.get_volunteer_hours(volunteer_id, as_volunteer(7401))
    assert (hours["total_hours"], hours["star_level"]) == (102.0, 1)
    # the star was announced before the dispute took the hours away: it is not announced again
    assert len(outbox("volunteer.star_level_reached")) == 1
    assert [event["type"] for event in outbox("hours.dispute_raised", "hours.dispute_resolved")] == [
        "hours.dispute_raised",
        "hours.dispute_resolved",
    ]
    with pytest.raises(Conflict):
        volunteers.resolve_hour_dispute(other_id, {"outcome": "rejected", "note": "重复"}, COUNTY)


def test_an_admin_of_the_organizing_center_revokes_an_entry(volunteers, tree, add_volunteer, amqp_uri, engine, outbox):
    volunteer_id = add_volunteer(tree["b1"], account_id=7501)
    entry_id = credited(amqp_uri, engine, volunteer_id, tree["a1"], 6)
    with pytest.raises(PermissionDenied):  # the volunteer's home admin, not the organizer's
        volunteers.revoke_hour_entry(entry_id, {"reason": "虚报"}, center_admin(tree["b"]))
    with pytest.raises(InvalidInput):
        volunteers.revoke_hour_entry(entry_id, {"reason": " "}, center_admin(tree["a"]))
    revoked = volunteers.revoke_hour_entry(entry_id, {"reason": "虚报"}, center_admin(tree["a"]))
    assert (revoked["status"], revoked["revoke_reason"]) == ("revoked", "虚报")
    assert total(volunteers, volunteer_id) == 0
    with pytest.raises(Conflict):
        volunteers.revoke_hour_entry(entry_id, {"reason": "虚报"}, COUNTY)
    with pytest.raises(NotFound):
        volunteers.revoke_hour_entry(999_999, {"reason": "虚报"}, COUNTY)
    [event] = outbox("hours.revoked")
    assert (event["data"]["hours"], event["data"]["total_hours"], event["data"]["reason"]) == (6.0, 0.0, "虚报")


# --- totals and scope ------------------------------------------------------------------------


def test_totals_per_team_and_center_subtree_count_confirmed_entries(
    volunteers, tree, add_volunteer, amqp_uri, engine, volunteers_store
):
    first, second = add_volunteer(tree["a1"]), add_volunteer(tree["b1"])
    team_id = volunteers.create_team(
        {"center_id": tree["a"], "name": "宣讲队", "kind": "lecture", "leader_volunteer_id": first}, COUNTY
    )["id"]
    events = [
        publish(amqp_uri, attendance(first, tree["a1"], hours=2, team_id=team_id, served_on="2026-10-01")),
        publish(amqp_uri, attendance(second, tree["a2"], hours=3, team_id=team_id, served_on="2026-11-01")),
        publish(amqp_uri, attendance(second, tree["b1"], hours=5, served_on="2026-11-02")),
    ]
    wait_for(lambda: all(handled(engine, event) for event in events))
    team = volunteers.get_team_hours(team_id)
    assert (team["total_hours"], team["entry_count"], team["volunteer_count"]) == (5.0, 2, 2)
    assert volunteers.get_team_hours(team_id, {"start": "2026-11-01"})["total_hours"] == 3.0
    with pytest.raises(NotFound):
        volunteers.get_team_hours(team_id + 1)
    assert volunteers.get_center_hours(tree["a"])["total_hours"] == 5.0
    assert volunteers.get_center_hours(tree["county"])["total_hours"] == 10.0
    october = volunteers.get_center_hours(tree["county"], {"start": "2026-10-01", "end": "2026-10-31"})
    assert (october["total_hours"], october["start"], october["end"]) == (2.0, "2026-10-01", "2026-10-31")
    with pytest.raises(InvalidInput) as reversed_period:
        volunteers.get_center_hours(tree["county"], {"start": "2026-11-01", "end": "2026-10-01"})
    assert reversed_period.value.code == "hours.period_reversed"
    with pytest.raises(NotFound):
        volunteers.get_center_hours(999_999)

    with volunteers_store.read() as session:  # what the certificates part reads
        entries = confirmed_entries(session, second, date(2026, 11, 1), date(2026, 11, 2))
    assert [(entry.center_id, entry.hours) for entry in entries] == [(tree["a2"], 3), (tree["b1"], 5)]


def test_a_volunteers_hours_are_theirs_and_their_home_scopes(volunteers, tree, add_volunteer):
    volunteer_id = add_volunteer(tree["a1"], account_id=7601)
    add_volunteer(tree["a1"], account_id=7602)
    assert volunteers.get_my_hours(as_volunteer(7601))["volunteer_id"] == volunteer_id
    assert volunteers.get_volunteer_hours(volunteer_id, center_admin(tree["a"]))["total_hours"] == 0
    for stranger in (as_volunteer(7602), center_admin(tree["b"]), Actor("9", "resident").as_payload()):
        with pytest.raises(PermissionDenied):
            volunteers.get_volunteer_hours(volunteer_id, stranger)
    with pytest.raises(PermissionDenied):
        volunteers.get_my_hours(COUNTY)
    with pytest.raises(NotFound):
        volunteers.get_volunteer_hours(999_999, COUNTY)
