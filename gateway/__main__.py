"""Run one gateway process: `python -m gateway`.

The API listens on WEB_SERVER_ADDRESS with SO_REUSEPORT, so several gateway processes (or
replicas on one machine) can serve one address, the kernel spreading connections among
them; each serves its own metrics, /healthz and /readyz on METRICS_PORT.

Environment: AMQP_URI, WEB_SERVER_ADDRESS (127.0.0.1:8000), METRICS_HOST (0.0.0.0),
METRICS_PORT (9100; 0: none), RPC_TIMEOUT (5 s), HEADERS_TIMEOUT_SECONDS (10: a client
must finish its request headers within this long), MAX_CONNECTIONS (2048: beyond, 503),
LOG_LEVEL (INFO), SERVICE_NAME, ACCESS_LOG (1: a line per request on stderr, as if from a
`gateway.access` logger (gateway/access_log.py), query values redacted unless the route
declares them; 0: none), TRUSTED_PROXIES
(empty: the client address is the socket peer; else the comma-separated addresses of reverse
proxies whose X-Forwarded-For is believed). uvicorn's own access log stays off: it would
write every query string as sent, tokens included.
"""

import asyncio
import logging
import os
import socket
import sys

import uvicorn
import uvloop
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from services.chassis.config import DEFAULT_AMQP_URI

from .access_log import AccessLog
from .app import SecurityHeaders, build_app
from .protocol import guarded_protocol
from .routes import ROUTES
from .state import GatewayState

log = logging.getLogger("gateway")

KEEP_ALIVE_SECONDS = 5  # an idle connection is closed after this long
GRACEFUL_SHUTDOWN_SECONDS = 10  # in-flight requests get this long after SIGTERM


def listening_socket(address):
    host, _, port = address.rpartition(":")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # replicas share the address
    sock.bind((host or "0.0.0.0", int(port)))
    sock.listen(2048)
    return sock


def health_app(state):
    async def metrics(request):
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    async def healthz(request):
        return PlainTextResponse("ok\n")

    async def readyz(request):
        problems = state.readiness()
        if problems:
            return PlainTextResponse("".join(f"{k}: {v}\n" for k, v in problems.items()), status_code=503)
        degraded = "".join(f"{name}: not answering (calls refused for now)\n" for name in state.unanswering_services())
        return PlainTextResponse("ready\n" + degraded)

    return SecurityHeaders(
        Starlette(routes=[Route("/metrics", metrics), Route("/healthz", healthz), Route("/readyz", readyz)])
    )


def by_port(api, health, health_port):
    """One ASGI app for both listening sockets: the health app on the metrics port."""

    async def app(scope, receive, send):
        server = scope.get("server")
        target = health if server is not None and server[1] == health_port else api
        await target(scope, receive, send)

    return app


async def serve():
    state = GatewayState(os.environ.get("AMQP_URI", DEFAULT_AMQP_URI), float(os.environ.get("RPC_TIMEOUT", 5)))
    await state.start()
    access_log = AccessLog(
        os.environ.get("SERVICE_NAME", "gateway"),
        enabled=os.environ.get("ACCESS_LOG", "1").strip().lower() not in ("0", "false", "no", "off"),
    )
    api = build_app(ROUTES, state, access_log)
    sockets = [listening_socket(os.environ.get("WEB_SERVER_ADDRESS", "127.0.0.1:8000"))]
    metrics_port = int(os.environ.get("METRICS_PORT", 9100))
    if metrics_port:
        sockets.append(listening_socket(f"{os.environ.get('METRICS_HOST', '0.0.0.0')}:{metrics_port}"))
        api = by_port(api, health_app(state), metrics_port)
    trusted_proxies = os.environ.get("TRUSTED_PROXIES", "").strip()
    config = uvicorn.Config(
        api,
        loop="none",  # the loop asyncio.run made (uvloop, installed in main)
        http=guarded_protocol(float(os.environ.get("HEADERS_TIMEOUT_SECONDS", 10))),
        limit_concurrency=int(os.environ.get("MAX_CONNECTIONS", 2048)),
        lifespan="off",
        access_log=False,  # gateway.app writes its own, without secrets (ACCESS_LOG)
        server_header=False,
        # the client address (login limits, logs) is the socket peer unless the peer is a
        # proxy named in TRUSTED_PROXIES: any local process could send X-Forwarded-For
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or None,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    try:
        await uvicorn.Server(config).serve(sockets=sockets)  # until SIGINT or SIGTERM
    finally:
        access_log.flush()
        await state.stop()


def main():
    level = os.environ.get("LOG_LEVEL", "INFO")
    name = os.environ.get("SERVICE_NAME", "gateway")
    logging.basicConfig(level=level, format=f"%(asctime)s %(levelname)s [{name}] %(name)s: %(message)s")
    uvloop.install()
    asyncio.run(serve())


if __name__ == "__main__":
    sys.exit(main())
