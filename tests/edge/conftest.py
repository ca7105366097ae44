"""Fixtures of the asyncio world: real nameko services, each a `nameko run` process of its
own on the session's private vhost, stopped by pid when their tests are done. Tests run
their coroutines with `tests.support.aio.run` (uvloop, bounded)."""

import contextlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import ROOT
from tests.support.aio import run, wait_until_answering
from tests.support.broker import private_vhost
from tests.support.processes import start_nameko, stop

RPC_TARGETS = "tests.support.rpc_targets:RpcTargets"
RPC_TARGETS_CONFIG = ROOT / "tests" / "support" / "rpc_targets.yml"
SERVICE_CONFIG = ROOT / "deploy" / "config" / "service.yml"
MIGRATE_TIMEOUT = 120


@dataclass
class RunningService:
    amqp_uri: str
    process: subprocess.Popen
    log_path: Path


@contextlib.contextmanager
def serving(amqp_uri, entrypoint, config, log_path, ready_call, env=None):
    """A started service, answering `ready_call` (service, method, args) once yielded."""
    process = start_nameko(entrypoint, config, {"AMQP_URI": amqp_uri, **(env or {})}, log_path)
    try:
        run(wait_until_answering(amqp_uri, *ready_call, process, log_path))
        yield RunningService(amqp_uri, process, log_path)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def rpc_targets(amqp_uri, tmp_path_factory):
    """tests/support/rpc_targets.py, shared by the session."""
    log_path = tmp_path_factory.mktemp("rpc_targets") / "rpc_targets.log"
    with serving(amqp_uri, RPC_TARGETS, RPC_TARGETS_CONFIG, log_path, ("rpc_targets", "echo", ())) as service:
        yield service


@pytest.fixture
def lone_rpc_targets(tmp_path):
    """tests/support/rpc_targets.py on a vhost of its own: for a test that restarts the broker."""
    with (
        private_vhost("wenming-edge") as amqp_uri,
        serving(
            amqp_uri, RPC_TARGETS, RPC_TARGETS_CONFIG, tmp_path / "rpc_targets.log", ("rpc_targets", "echo", ())
        ) as service,
    ):
        yield service


@pytest.fixture(scope="module")
def centers(amqp_uri, tmp_path_factory):
    """The real centers service on a fresh SQLite database."""
    data_dir = tmp_path_factory.mktemp("centers")
    database_url = f"sqlite:///{data_dir / 'centers.db'}"
    subprocess.run(
        [sys.executable, "-m", "services.centers.migrate", database_url],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=MIGRATE_TIMEOUT,
    )
    env = {"SERVICE_NAME": "centers", "DATABASE_URL": database_url, "METRICS_PORT": "0"}
    ready_call = ("centers", "list_centers", ())
    with serving(
        amqp_uri, "services.centers.service:CentersService", SERVICE_CONFIG, data_dir / "centers.log", ready_call, env
    ) as service:
        yield service
