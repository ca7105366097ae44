"""Fixtures of the identity service's tests."""

import pytest
from nameko.standalone.rpc import ServiceRpcClient

from services.centers import migrate as centers_migrate
from services.centers.service import CentersService
from services.chassis.db import Store
from services.identity import migrate
from services.identity.admin import create_admin
from services.identity.keys import new_private_pem
from services.identity.models import Base
from services.identity.service import IdentityService
from tests.support.actors import COUNTY

PASSWORD = "a-long-password"


@pytest.fixture
def identity_db(database_url):
    """The identity schema, migrated, in the test's database (SQLite or PostgreSQL)."""
    migrate.upgrade(database_url)
    return database_url


@pytest.fixture
def network(start_service, nameko_config, identity_db, tmp_path):
    """identity (with a signing key and `root`, a county admin with PASSWORD) and centers
    holding county → institute a → station a1 and county → institute b; the centers' ids."""
    centers_db = f"sqlite:///{tmp_path / 'centers.db'}"
    centers_migrate.upgrade(centers_db)
    start_service(CentersService, centers_db)
    nameko_config["IDENTITY_SIGNING_KEY"] = new_private_pem()
    start_service(IdentityService, identity_db)
    with ServiceRpcClient("centers", timeout=15) as centers:
        county = centers.create_center({"code": "county", "name": "县中心", "level": "center"}, COUNTY)["id"]
        a = centers.create_center({"code": "inst-a", "name": "甲所", "level": "institute", "parent_id": county}, COUNTY)
        a1 = centers.create_center(
            {"code": "st-a1", "name": "甲一站", "level": "station", "parent_id": a["id"]}, COUNTY
        )
        b = centers.create_center({"code": "inst-b", "name": "乙所", "level": "institute", "parent_id": county}, COUNTY)
    store = Store(identity_db, Base.metadata, source="identity")
    create_admin(store, "root", PASSWORD)
    store.dispose()
    return {"county": county, "a": a["id"], "a1": a1["id"], "b": b["id"]}
