"""The launcher as an operator runs it (`make run`): a clear, quick refusal without a broker,
and supervision of the processes it starts."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from services.registry import SERVICES
from tests.support import ROOT
from tests.support.net import free_port

LAUNCHER = ROOT / "deploy" / "local" / "launcher.py"


def launcher_env(tmp_path, amqp_uri, **extra):
    return {
        **os.environ,
        "AMQP_URI": amqp_uri,
        "WENMING_DATA_DIR": str(tmp_path / "data"),
        "WENMING_BROKER_AUTOSTART": "0",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        **{service.metrics_port_env: str(free_port()) for service in SERVICES},
        **extra,
    }


def test_it_exits_quickly_and_says_what_to_do_when_the_broker_is_unreachable(tmp_path):
    closed = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(LAUNCHER)], env=launcher_env(tmp_path, closed), capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert time.monotonic() - started < 15
    assert "RabbitMQ is not reachable" in result.stderr
    assert "apt-get install rabbitmq-server" in result.stderr


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class RunningLauncher:
    """`python deploy/local/launcher.py` in the background, its output in a file."""

    def __init__(self, tmp_path, amqp_uri, sigint_ignored=False):
        self.output = tmp_path / "launcher.out"
        command = [sys.executable, str(LAUNCHER)]
        if sigint_ignored:  # as `make run &` from a script: the shell starts it with SIGINT ignored
            command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=launcher_env(tmp_path, amqp_uri),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def text(self):
        return self.output.read_text()

    def wait_until_running(self, timeout=120):
        deadline = time.monotonic() + timeout
        while "Wenming is running" not in self.text():
            assert self.process.poll() is None, self.text()
            assert time.monotonic() < deadline, self.text()
            time.sleep(0.5)
        return {name: int(pid) for name, pid in re.findall(r"Started (\w+) \(pid (\d+)", self.text())}

    def stop(self):
        """SIGTERM, as an operator would; SIGKILL (and then each service by pid) as a last resort."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        started = re.findall(r"Started \w+ \(pid (\d+)", self.text())
        for pid in map(int, started):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def launcher(tmp_path, vhost_uri):
    running = RunningLauncher(tmp_path, vhost_uri)
    yield running
    running.stop()


def test_sigterm_stops_every_process_it_started(launcher):
    pids = launcher.wait_until_running()
    assert set(pids) == {service.name for service in SERVICES}
    launcher.process.send_signal(signal.SIGTERM)
    assert launcher.process.wait(timeout=30) == 0
    assert not any(alive(pid) for pid in pids.values())


def test_a_service_that_dies_is_started_again_while_the_others_go_on(launcher):
    pids = launcher.wait_until_running()
    os.kill(pids["centers"], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while len(re.findall(r"Started centers \(pid (\d+)", launcher.text())) < 2:
        assert time.monotonic() < deadline, launcher.text()
        assert launcher.process.poll() is None, launcher.text()
        time.sleep(0.5)
    assert "centers exited" in launcher.text()
    assert alive(pids["gateway"]) and alive(pids["identity"])  # never stopped
    restarted = int(re.findall(r"Started centers \(pid (\d+)", launcher.text())[-1])
    assert restarted != pids["centers"] and alive(restarted)


def test_sigint_stops_everything_even_when_started_in_the_background(tmp_path, vhost_uri):
    launcher = RunningLauncher(tmp_path, vhost_uri, sigint_ignored=True)
    try:
        pids = launcher.wait_until_running()
        launcher.process.send_signal(signal.SIGINT)
        assert launcher.process.wait(timeout=30) == 0
        assert not any(alive(pid) for pid in pids.values())
    finally:
        launcher.stop()
