"""The local RabbitMQ, managed with rabbitmqctl: private vhosts, so that a test run (or a
benchmark) shares no queue, and no message left in one, with anything else on the broker."""

import os
import subprocess
import uuid
from contextlib import contextmanager
from urllib.parse import quote

BROKER_HOST = os.environ.get("TEST_BROKER_HOST", "127.0.0.1")
COMMAND_TIMEOUT = 120


def rabbitmqctl(*args, timeout=COMMAND_TIMEOUT):
    result = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(
            f"rabbitmqctl {' '.join(args)} failed (exit {result.returncode}):"
            f" {(result.stderr or result.stdout).strip()}"
        )
    return result.stdout


@contextmanager
def private_vhost(prefix):
    """A new vhost for the guest user, deleted on exit; yields its AMQP URI."""
    vhost = f"{prefix}-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@{BROKER_HOST}:5672/{quote(vhost, safe='')}"
    finally:
        rabbitmqctl("delete_vhost", vhost)
