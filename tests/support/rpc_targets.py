"""A plain nameko service for the asyncio RPC client's tests (tests/edge) to call: it
answers, raises each chassis error or anything else, sleeps past deadlines and shows the
context it received. Run as its own process:

    AMQP_URI=... python -m nameko run --config tests/support/rpc_targets.yml tests.support.rpc_targets:RpcTargets
"""

import logging
import time

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from services.chassis import errors
from services.chassis.observability import Observability

log = logging.getLogger(__name__)


class ContextData(DependencyProvider):
    """The context data the worker received with its call (nameko's `nameko.<key>` headers)."""

    def get_dependency(self, worker_ctx):
        return worker_ctx.context_data


class RpcTargets:
    name = "rpc_targets"

    context_data = ContextData()
    observability = Observability()  # puts the caller's request id on every log line

    @rpc
    def echo(self, *args, **kwargs):
        return {"args": list(args), "kwargs": kwargs}

    @rpc
    def fail(self, error, code, message, fields=None):
        raise getattr(errors, error)(code, message, fields)

    @rpc
    def crash(self, message):
        raise ValueError(message)

    @rpc
    def sleep(self, seconds):
        time.sleep(seconds)  # green: `nameko run` monkey-patches
        return seconds

    @rpc
    def context(self):
        log.info("context received")
        return self.context_data
