"""Baselines for bench/gateway_read.py: the same read through a plain nameko HTTP edge.

- `RpcEdge`: an `@http` route that makes one nameko RPC call to `Backend`, which returns a
  small dict: the cost of an HTTP → AMQP RPC → reply hop with nothing else.
- `BareEdge`: an `@http` route that answers a small JSON document itself: nameko's HTTP
  floor.
- `CentersEdge`: the gateway's RPC-backed routes (a center's subtree, adding a venue) on a
  plain nameko `@http` edge making the same call to the real centers service: the "plain
  nameko `@http` → RPC gateway" the gateway is measured against with the same backend.

Neither checks the Authorization header they are sent, nor does any of the gateway's work
(request ids, validation, metrics): they are floors, not competitors.
Run each as its own process: `nameko run bench.baselines:Backend --define AMQP_URI=...`.
The same floors on the asyncio edge's stack are in bench/asgi_baselines.py.
"""

import json

from nameko.rpc import ServiceRpc, rpc
from nameko.timer import timer
from nameko.web.handlers import http

from bench.documents import small_center

PATH = "/api/v1/centers/<int:center_id>"
JSON_HEADERS = {"Content-Type": "application/json"}
BENCH_ACTOR = {"account_id": "bench", "role": "county_admin", "scope_center_id": None}


class Backend:
    name = "bench_backend"

    @rpc
    def get_center(self, center_id):
        return small_center(center_id)


class RpcEdge:
    name = "bench_rpc_edge"

    backend = ServiceRpc("bench_backend")

    @http("GET", PATH)
    def get_center(self, request, center_id):
        return 200, JSON_HEADERS, json.dumps(self.backend.get_center(center_id), ensure_ascii=False)


class BareEdge:
    name = "bench_bare_edge"

    @timer(interval=1)
    def tick(self):
        """Nothing, once a second: `nameko run`'s SIGTERM handler only schedules the stop on
        eventlet's hub, which in a service with no AMQP connection (no heartbeats) sleeps
        until something wakes it: the benchmark's SIGTERM took ten seconds and a SIGKILL."""

    @http("GET", PATH)
    def get_center(self, request, center_id):
        return 200, JSON_HEADERS, json.dumps(small_center(center_id), ensure_ascii=False)


class CentersEdge:
    name = "bench_centers_edge"

    centers = ServiceRpc("centers")

    @http("GET", PATH + "/subtree")
    def subtree(self, request, center_id):
        return 200, JSON_HEADERS, json.dumps(self.centers.get_subtree(center_id), ensure_ascii=False)

    @http("POST", PATH + "/venues")
    def add_venue(self, request, center_id):
        venue = self.centers.add_venue(center_id, json.loads(request.get_data()), BENCH_ACTOR)
        return 201, JSON_HEADERS, json.dumps(venue, ensure_ascii=False)
