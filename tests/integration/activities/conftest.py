"""The activities service in-process on the real broker, on SQLite and PostgreSQL, with the
centers service (which owns the tree every scope check asks about) on SQLite. Volunteers and
team memberships reach it as the volunteers service publishes them: events on
`volunteers.events` (`enrol`, `join_team`)."""

import itertools
import json
from datetime import timedelta

import jsonschema
import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange, Producer
from nameko.standalone.rpc import ServiceRpcClient

from services.activities import migrate
from services.activities.contract import EVENT_SCHEMAS
from services.activities.roster.models import TeamMembershipCopy, VolunteerCopy
from services.activities.service import ActivitiesService
from services.chassis.actors import Actor
from services.chassis.clock import iso, utcnow
from services.chassis.events import SERIALIZER, make_event, validate_event
from services.volunteers.contract import SERVICE as VOLUNTEERS
from services.volunteers.contract.registration import VOLUNTEER_REGISTERED, VOLUNTEER_STATUS_CHANGED
from services.volunteers.contract.teams import TEAM_MEMBER_JOINED
from tests.support.actors import COUNTY
from tests.support.waiting import wait_for

from ..conftest import make_tree

_ids = itertools.count(1)


@pytest.fixture
def activities_db(database_url):
    migrate.upgrade(database_url)
    return database_url


@pytest.fixture
def engine(activities_db):
    engine = sa.create_engine(activities_db, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def activities_service(start_service, activities_db, centers_service, nameko_config, tmp_path):
    nameko_config["ACTIVITY_FILES_DIR"] = str(tmp_path / "activity-files")
    return start_service(ActivitiesService, activities_db)


@pytest.fixture
def activities(activities_service):
    with ServiceRpcClient("activities", timeout=15) as client:
        yield client


@pytest.fixture
def tree(centers):
    """county → institutes a, b → stations a1 (under a), b1 (under b); {name: id}."""
    nodes = (
        ("county", "center", None),
        ("a", "institute", "county"),
        ("b", "institute", "county"),
        ("a1", "station", "a"),
        ("b1", "station", "b"),
    )
    return make_tree(lambda body: centers.create_center(body, COUNTY)["id"], "t", nodes)


@pytest.fixture
def publish_volunteers_event(amqp_uri):
    """`publish(event_type, subject, data)`: an event as the volunteers service publishes it."""
    exchange = Exchange(f"{VOLUNTEERS}.events", type="topic", durable=True)

    def publish(event_type, subject, data):
        event = make_event(VOLUNTEERS, event_type, str(subject), data)
        with Connection(amqp_uri) as connection:
            producer = Producer(connection.default_channel, serializer=SERIALIZER)
            producer.publish(
                event, exchange=exchange, routing_key=event_type, declare=[exchange], message_id=event["id"]
            )
        return event

    return publish


def volunteer_data(volunteer_id, account_id, station_id, status="active", version=1):
    return {
        "id": volunteer_id,
        "volunteer_number": f"TEST-2026-{volunteer_id:06d}",
        "account_id": account_id,
        "home_station_id": station_id,
        "status": status,
        "skills": [],
        "service_categories": [],
        "available_times": [],
        "version": version,
        "updated_at": iso(utcnow()),
        "channel": "self",
    }


@pytest.fixture
def enrol_many(activities_service, publish_volunteers_event, engine):
    """`enrol_many(station_id, count)` → [(volunteer_id, actor payload)]: volunteers registered
    in the volunteers service (as its events tell), once this service holds their copies."""

    def enrol_many(station_id, count, status="active"):
        enrolled = []
        for _ in range(count):
            volunteer_id = next(_ids) + 1000
            account_id = volunteer_id + 50_000
            data = volunteer_data(volunteer_id, account_id, station_id, status)
            publish_volunteers_event(VOLUNTEER_REGISTERED, volunteer_id, data)
            enrolled.append((volunteer_id, Actor(str(account_id), "volunteer").as_payload()))
        ids = [volunteer_id for volunteer_id, _ in enrolled]
        wait_for(lambda: _copies(engine, ids) == len(ids), what=f"{count} volunteers copied")
        return enrolled

    return enrol_many


@pytest.fixture
def enrol(enrol_many):
    """`enrol(station_id)` → (volunteer_id, actor payload): one volunteer, as `enrol_many`."""

    def enrol(station_id, status="active"):
        return enrol_many(station_id, 1, status)[0]

    return enrol


@pytest.fixture
def change_status(publish_volunteers_event, engine):
    """`change_status(volunteer_id, station_id, status, version)`: a volunteer.status_changed
    event, once this service has applied it (or, when older than its copy, skipped it)."""

    def change(volunteer_id, station_id, status, version):
        account_id = volunteer_id + 50_000
        data = {
            **volunteer_data(volunteer_id, account_id, station_id, status, version),
            "previous_status": "active",
            "reason": "测试",
        }
        data.pop("channel")
        event = publish_volunteers_event(VOLUNTEER_STATUS_CHANGED, volunteer_id, data)
        wait_for(lambda: _handled(engine, event["id"]), what=f"volunteer {volunteer_id}'s change handled")

    return change


@pytest.fixture
def join_team(publish_volunteers_event, engine):
    def join(team_id, center_id, volunteer_id, role="member"):
        data = {
            "team_id": team_id,
            "center_id": center_id,
            "volunteer_id": volunteer_id,
            "volunteer_number": f"TEST-2026-{volunteer_id:06d}",
            "account_id": volunteer_id + 50_000,
            "role": role,
            "member_count": 2,
            "at": iso(utcnow()),
            "via": "added",
        }
        publish_volunteers_event(TEAM_MEMBER_JOINED, team_id, data)
        wait_for(lambda: _membership(engine, team_id, volunteer_id) == role, what="membership copied")

    return join


def published(engine):
    """Every event the service has written to its outbox, in order, each checked: a valid
    CloudEvent whose data matches its type's published JSON Schema (the contract)."""
    outbox = sa.table("outbox", sa.column("id"), sa.column("payload"))
    with engine.connect() as connection:
        events = [
            json.loads(payload) for payload in connection.scalars(sa.select(outbox.c.payload).order_by(outbox.c.id))
        ]
    for event in events:
        validate_event(event)
        jsonschema.validate(event["data"], EVENT_SCHEMAS[event["type"]], format_checker=jsonschema.FormatChecker())
    return events


def _handled(engine, event_id):
    processed = sa.table("processed_events", sa.column("event_id"))
    with engine.connect() as connection:
        return connection.scalar(
            sa.select(sa.func.count()).select_from(processed).where(processed.c.event_id == event_id)
        )


def _copy_version(engine, volunteer_id):
    with engine.connect() as connection:
        return connection.scalar(sa.select(VolunteerCopy.version).where(VolunteerCopy.volunteer_id == volunteer_id))


def _copies(engine, volunteer_ids):
    with engine.connect() as connection:
        return connection.scalar(
            sa.select(sa.func.count()).select_from(VolunteerCopy).where(VolunteerCopy.volunteer_id.in_(volunteer_ids))
        )


def _membership(engine, team_id, volunteer_id):
    with engine.connect() as connection:
        return connection.scalar(
            sa.select(TeamMembershipCopy.role).where(
                TeamMembershipCopy.team_id == team_id, TeamMembershipCopy.volunteer_id == volunteer_id
            )
        )


def activity_data(center_id, **overrides):
    """A valid new activity starting in 30 minutes (check-in is open, sign-up too once published)."""
    starts = utcnow() + timedelta(minutes=30)
    data = {
        "title": "文明实践志愿服务",
        "platform": "culture",
        "organizer_center_id": center_id,
        "place": "县新时代文明实践中心",
        "starts_at": iso(starts),
        "ends_at": iso(starts + timedelta(hours=2)),
        "capacity": 3,
    }
    return {**data, **overrides}
