"""Helpers of the asyncio world (tests/edge): coroutines run on uvloop, as in the gateway,
each bounded in time; waiting for a service process to answer RPC."""

import asyncio
import time

import uvloop

from gateway.rpc_client import RpcClient
from services.chassis.errors import ServiceUnavailable
from tests.support.processes import log_tail

RUN_TIMEOUT = 90  # seconds any one test's coroutine may take
READY_TIMEOUT = 30  # seconds a service process gets to start answering


def run(coroutine, timeout=RUN_TIMEOUT):
    """The coroutine's result, on a fresh uvloop loop; TimeoutError after `timeout` seconds."""

    async def bounded():
        return await asyncio.wait_for(coroutine, timeout)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(bounded())


async def wait_until_answering(amqp_uri, service, method, args, process, log_path):
    """Call `service.method(*args)` until it returns; fails with the service's log when the
    process exits or stays unavailable."""
    deadline = time.monotonic() + READY_TIMEOUT
    async with RpcClient(amqp_uri, timeout=2) as client:
        while True:
            if process.poll() is not None:
                raise AssertionError(f"{service} exited with {process.returncode}:\n{log_tail(log_path)}")
            try:
                await client.call(service, method, *args)
                return
            except ServiceUnavailable as exc:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{service} not answering after {READY_TIMEOUT} s:\n{log_tail(log_path)}"
                    ) from exc
                await asyncio.sleep(0.2)
