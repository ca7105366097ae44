"""The example subscriber (examples/activity_subscriber.py), run as a process of its own with
plain pika, against activity events published as the activities service publishes them: it
prints every event once in effect, though some are delivered twice and it stops and starts
again in the middle, and a subscriber started after the scenario replays it from the stream."""

import contextlib
import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import eventlet
import pika
import pytest
import sqlalchemy as sa
from nameko.standalone.rpc import ServiceRpcClient

from services.activities.models import Base
from services.activities.service import ActivitiesService
from services.chassis.clock import iso
from services.chassis.db import Store
from services.chassis.events import make_event
from services.chassis.streams import declare_event_stream, stream_name
from tests.support import ROOT
from tests.support.actors import COUNTY
from tests.support.waiting import wait_for

from .conftest import activity_data, published

EXAMPLE = ROOT / "examples" / "activity_subscriber.py"
SERVICE = "activities"
STREAM = stream_name(SERVICE)
PRINTED = ("type", "id", "subject", "time", "data")

# one activity's life through the real service, cut where the service restarts
BEFORE_RESTART = (
    "activity.published",
    "signup.confirmed",
    "signup.waitlisted",
    "signup.cancelled",
    "signup.promoted",
    "activity.updated",
)
AFTER_RESTART = (
    "activity.rescheduled",
    "activity.updated",
    "signup.confirmed",
    "activity.started",
    "attendance.checked_in",
    "attendance.checked_out",
    "activity.completed",
    "attendance.confirmed",
    "attendance.no_show",
)
PUBLISHED_TWICE = 2  # the last events before the restart: published, but not recorded as sent


@pytest.fixture
def database_url(sqlite_url):
    """The scenario runs on SQLite (the service's behaviour on both is tested elsewhere)."""
    return sqlite_url


def scripted_scenario(activities_service, start_service, activities_db, tree, enrol_many):
    """One activity's life through the activities service's RPC, the service stopped in the
    middle: it had published the last events before stopping but not recorded it (as when it
    is killed between the broker's confirm and its own commit), so it publishes them again
    once restarted. Returns the events, each once, in the order committed."""
    (first, first_actor), (second, second_actor), (third, third_actor) = enrol_many(tree["a1"], 3)
    store = Store(activities_db, Base.metadata, source=SERVICE)
    with ServiceRpcClient(SERVICE, timeout=15) as activities:
        activity = activities.create_activity(activity_data(tree["a1"], capacity=1), COUNTY)["id"]
        activities.publish_activity(activity, COUNTY)
        activities.sign_up(activity, first_actor)
        activities.sign_up(activity, second_actor)  # waitlisted
        activities.cancel_my_signup(activity, {"reason": "临时有事"}, first_actor)  # the second promoted
        activities.update_activity(activity, {"title": "周末公益课堂"}, COUNTY)
    wait_for(lambda: store.outbox_backlog() == 0, what="the events before the restart published")
    activities_service.stop()
    outbox = store.outbox
    with store.unit_of_work() as uow:  # published, then stopped before recording it
        last = sa.select(outbox.c.id).order_by(outbox.c.id.desc()).limit(PUBLISHED_TWICE).scalar_subquery()
        uow.session.execute(sa.update(outbox).where(outbox.c.id.in_(last)).values(sent_at=None))

    start_service(ActivitiesService, activities_db)
    with ServiceRpcClient(SERVICE, timeout=15) as activities:
        moved = activities.get_activity(activity, COUNTY)
        later = {
            key: iso(datetime.fromisoformat(moved[key]) + timedelta(minutes=10)) for key in ("starts_at", "ends_at")
        }
        activities.update_activity(activity, later, COUNTY)
        activities.update_activity(activity, {"capacity": 2}, COUNTY)
        activities.sign_up(activity, third_actor)
        activities.start_activity(activity, COUNTY)
        activities.check_in(activity, {}, second_actor)
        activities.check_out(activity, second_actor)
        activities.complete_activity(activity, COUNTY)
        attendances = [
            {"volunteer_id": second, "attendance": "attended"},
            {"volunteer_id": third, "attendance": "no_show"},
        ]
        activities.confirm_attendance(activity, {"attendances": attendances}, COUNTY)
    wait_for(lambda: store.outbox_backlog() == 0, what="the events after the restart published")
    store.dispose()
    engine = sa.create_engine(activities_db, poolclass=sa.pool.NullPool)
    events = published(engine)  # each checked against the contract
    engine.dispose()
    assert [event["type"] for event in events] == [*BEFORE_RESTART, *AFTER_RESTART]
    return events


class Example:
    """examples/activity_subscriber.py as a process, in isolated mode (-I): it cannot import
    this project, only pika."""

    def __init__(self, folder, amqp_uri, *args):
        folder.mkdir()
        self.out, self.err = folder / "stdout", folder / "stderr"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-I", str(EXAMPLE), "--url", amqp_uri, *map(str, args)],
                cwd=folder,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    def log(self):
        return self.err.read_text(encoding="utf-8")

    def wait_listening(self):
        wait_for(lambda: "listening on" in self.log() or self.process.poll() is not None, what="the subscriber")
        assert self.process.poll() is None, self.log()

    def finish(self, timeout=60):
        assert self.process.wait(timeout=timeout) == 0, self.log()
        return [json.loads(line) for line in self.out.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def example(tmp_path, amqp_uri):
    """`example(*args)`: a running subscriber; any still running at the end is stopped."""
    started = []

    def start(*args):
        started.append(Example(tmp_path / f"run{len(started)}", amqp_uri, *args))
        return started[-1]

    yield start
    for run in started:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


@pytest.fixture
def queue(amqp_uri):
    """The subscriber's own queue; it and the stream are deleted before and after the test."""
    name = f"example-subscriber-{uuid.uuid4().hex[:8]}"
    delete_queues(amqp_uri, STREAM)
    yield name
    delete_queues(amqp_uri, name, STREAM)


def delete_queues(amqp_uri, *names):
    with contextlib.closing(pika.BlockingConnection(pika.URLParameters(amqp_uri))) as connection:
        channel = connection.channel()
        for name in names:
            channel.queue_delete(name)


def documented_examples():
    """The example `data` of each activity event in docs/events.md (valid: tests/unit/activities)."""
    doc = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    found = re.findall(r"<!-- activities-example: ([a-z_.]+) -->\n```json\n(.*?)\n```", doc, re.S)
    return {event_type: json.loads(text) for event_type, text in found}


def publish_earlier_event(amqp_uri):
    """An event from before the scenario, in the stream only (no subscriber's queue is bound yet)."""
    declare_event_stream(amqp_uri, SERVICE)
    data = documented_examples()["activity.published"]
    event = make_event(SERVICE, "activity.published", str(data["id"]), data)
    with contextlib.closing(pika.BlockingConnection(pika.URLParameters(amqp_uri))) as connection:
        connection.channel().basic_publish(f"{SERVICE}.events", event["type"], json.dumps(event).encode())
    eventlet.sleep(1.1)  # a stream's time offsets are whole seconds
    return event


def as_printed(events):
    return [{key: event[key] for key in PRINTED} for event in events]


def test_the_example_prints_every_event_once_and_a_late_one_replays_them_from_the_stream(
    activities_service, start_service, activities_db, tree, enrol_many, amqp_uri, example, queue, tmp_path
):
    earlier = publish_earlier_event(amqp_uri)
    seen = tmp_path / "seen-ids"
    first = example("--queue", queue, "--seen", seen, "--count", len(BEFORE_RESTART))
    first.wait_listening()  # its queue is bound
    since = datetime.now(UTC)

    events = scripted_scenario(activities_service, start_service, activities_db, tree, enrol_many)

    # the first run printed the events before the restart, and stopped; the second goes on
    # from its queue, skipping the events the service published again
    printed = first.finish()
    again = example("--queue", queue, "--seen", seen, "--idle-seconds", 3)
    printed += again.finish()
    assert printed == as_printed(events)
    assert again.log().count("already printed") == PUBLISHED_TWICE
    assert seen.read_text().split() == [event["id"] for event in events]

    # subscribers that start now replay the scenario from the stream, from a time or the start
    for start, history in ((["--since", since.isoformat()], events), (["--offset", "first"], [earlier, *events])):
        late = example("--stream", *start, "--idle-seconds", 3)
        assert late.finish() == as_printed(history), start
        assert late.log().count("already printed") == PUBLISHED_TWICE


def test_the_example_refuses_to_read_a_stream_from_nowhere(example, queue):
    for args in (["--stream"], ["--stream", "--since", "2026-11-28T08:00:00"], ["--queue", queue, "--offset", "first"]):
        run = example(*args)
        assert run.process.wait(timeout=30) == 2, args
        assert "error:" in run.log()
