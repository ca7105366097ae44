"""The volunteers service in-process on the real broker, on SQLite and PostgreSQL, with the
centers service (which owns the tree every scope check asks about) on SQLite."""

import itertools

import pytest
import sqlalchemy as sa
from nameko.standalone.rpc import ServiceRpcClient

from services.chassis.clock import utcnow
from services.chassis.db import Store
from services.volunteers import migrate
from services.volunteers.models import Volunteer
from services.volunteers.service import VolunteersService
from tests.support.actors import COUNTY
from tests.support.volunteer_keys import KEYS

from ..conftest import make_tree


@pytest.fixture
def volunteer_keys(nameko_config):
    nameko_config.update(KEYS)


@pytest.fixture
def volunteers_db(database_url):
    migrate.upgrade(database_url)
    return database_url


@pytest.fixture
def volunteers_store(volunteers_db):
    store = Store(volunteers_db, VolunteersService.db.metadata, source="volunteers")
    yield store
    store.dispose()


@pytest.fixture
def engine(volunteers_db):
    engine = sa.create_engine(volunteers_db, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def volunteers_service(start_service, volunteers_db, volunteer_keys, centers_service):
    return start_service(VolunteersService, volunteers_db)


@pytest.fixture
def volunteers(volunteers_service):
    with ServiceRpcClient("volunteers", timeout=15) as client:
        yield client


@pytest.fixture
def tree(centers):
    """county → institutes a, b → stations a1, a2 (under a), b1 (under b); {name: id}."""
    nodes = (
        ("county", "center", None),
        ("a", "institute", "county"),
        ("b", "institute", "county"),
        ("a1", "station", "a"),
        ("a2", "station", "a"),
        ("b1", "station", "b"),
    )
    return make_tree(lambda body: centers.create_center(body, COUNTY)["id"], "t", nodes)


_serials = itertools.count(1)


@pytest.fixture
def add_volunteer(volunteers_store):
    """`add_volunteer(station_id, account_id=None, status="active")`: a volunteer row written
    straight into the database (no event, no private data): for tests of the other parts."""

    def add(station_id, account_id=None, status="active", name="测试志愿者"):
        serial = next(_serials)
        now = utcnow()
        with volunteers_store.unit_of_work() as uow:
            volunteer = Volunteer(
                volunteer_number=f"TEST-2026-{serial:06d}",
                account_id=account_id,
                name=name,
                skills=[],
                service_categories=[],
                available_times=[],
                home_station_id=station_id,
                status=status,
                channel="staff",
                registered_by="test",
                version=1,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(volunteer)
            uow.flush()
            return volunteer.id

    return add
