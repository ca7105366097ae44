"""ASGI baselines for bench/gateway_read.py: the read of bench/baselines.py on the stack of
the asyncio edge, Starlette on uvicorn with uvloop and httptools.

- `rpc_edge`: a route that makes one RPC call with gateway/rpc_client.py to
  `bench.baselines:Backend`, as `RpcEdge` does with nameko's client: the cost of an
  HTTP → AMQP RPC → reply hop on asyncio.
- `bare_edge`: a route that answers the same small JSON document itself: the ASGI floor.

Floors, like the nameko ones: no auth, request ids, validation or metrics. Run each as its
own process:

    AMQP_URI=... python -m uvicorn bench.asgi_baselines:rpc_edge --loop uvloop --http httptools
"""

import contextlib
import json
import os

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from bench.documents import small_center
from gateway.rpc_client import RpcClient

PATH = "/api/v1/centers/{center_id:int}"


def json_response(document):
    # encoded as bench/baselines.py encodes it, so that every target sends the same bytes
    return Response(json.dumps(document, ensure_ascii=False), media_type="application/json")


async def get_center_by_rpc(request):
    backend = request.app.state.rpc.proxy("bench_backend")
    return json_response(await backend.get_center(request.path_params["center_id"]))


async def get_center_itself(request):
    return json_response(small_center(request.path_params["center_id"]))


@contextlib.asynccontextmanager
async def rpc_client(app):
    async with RpcClient(os.environ["AMQP_URI"], name="bench_asgi_rpc_edge") as client:
        app.state.rpc = client
        yield


rpc_edge = Starlette(routes=[Route(PATH, get_center_by_rpc)], lifespan=rpc_client)
bare_edge = Starlette(routes=[Route(PATH, get_center_itself)])
