"""What the integration tests of several services share: the centers service, which owns
the tree every scope check asks about, in-process on SQLite, and its RPC client."""

import pytest
from nameko.standalone.rpc import ServiceRpcClient

from services.centers import migrate as centers_migrate
from services.centers.service import CentersService


@pytest.fixture
def centers_service(start_service, tmp_path):
    url = f"sqlite:///{tmp_path / 'centers.db'}"
    centers_migrate.upgrade(url)
    return start_service(CentersService, url)


@pytest.fixture
def centers(centers_service):
    with ServiceRpcClient("centers", timeout=15) as client:
        yield client


def make_tree(create_center, prefix, nodes):
    """{name: id} of the centers `nodes` ((name, level, parent name) in creation order), each
    made by `create_center(body)` (which returns the new id), with codes `<prefix>-<name>`."""
    ids = {}
    for name, level, parent in nodes:
        body = {"code": f"{prefix}-{name}", "name": f"{name} 实践", "level": level, "parent_id": ids.get(parent)}
        ids[name] = create_center(body)
    return ids
