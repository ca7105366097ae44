"""Services started as processes of their own, logged to a file, stopped by pid: by tests
that must not load eventlet (the asyncio world of tests/edge), and by tests of the gateway,
which runs on asyncio."""

import os
import subprocess
import sys

from deploy.local.launcher import stop_process
from tests.support import ROOT


def start_nameko(entrypoint, config, env, log_path):
    """`python -m nameko run --config <config> <entrypoint>` with `env` added to ours."""
    return start_module(["nameko", "run", "--config", str(config), entrypoint], env, log_path)


def start_module(module_args, env, log_path):
    """`python -m <module_args>` with `env` added to ours, logging to `log_path`."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", *module_args],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process):
    stop_process(process.args[-1], process, say=lambda message: None)


def log_tail(log_path, lines=30):
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
