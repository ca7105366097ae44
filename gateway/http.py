"""The route table (gateway.routing) served by nameko's `@http` server.

A request goes: request id → size limit → token and auth rule → JSON body and query
validation (all before a worker is spawned, so a refused request costs no worker) → the
handler in a nameko worker, with the request id in its context data (nameko copies it into
every RPC it makes) → JSON or problem+json, X-Request-Id, metrics.

Everything nameko- and werkzeug-specific about HTTP lives here, so that another server can
run the same declarations.
"""

import json
import re
import uuid
from functools import partial
from time import perf_counter

from eventlet.event import Event
from marshmallow import fields as ma_fields
from nameko.exceptions import ContainerBeingKilled
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from services.chassis.context import REQUEST_ID
from services.chassis.errors import WenmingError
from services.chassis.rpc import TimedServiceRpc
from services.chassis.schemas import load

from . import idempotency, metrics, problems
from .dependencies import GatewayShared
from .problems import Problem, bad_request, to_problem
from .routing import JSON_TYPE, MAX_BODY_BYTES, Call, Edge, as_reply, problem_reply

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
UNMATCHED = "<unmatched>"


def bind_routes(service_cls, specs):
    """Give `service_cls` one `@http` entrypoint per route, and an RPC dependency (with a
    deadline) for every service the routes call, named after that service."""
    for backend in sorted({service for spec in specs for service in spec.calls}):
        if not hasattr(service_cls, backend):
            setattr(service_cls, backend, TimedServiceRpc(backend))
    for spec in specs:
        if hasattr(service_cls, spec.name):
            raise ValueError(f"route handler {spec.name!r} clashes with {service_cls.__name__}.{spec.name}")
        setattr(service_cls, spec.name, ApiRoute.decorator(spec)(_worker_method(spec)))


def _worker_method(spec):
    def run(self, call, **path_values):
        return spec.handler(Edge(spec, partial(getattr, self), self.gateway), call, **path_values)

    run.__name__ = spec.name
    return run


def to_response(reply, request_id):
    headers = dict(reply.headers, **{"X-Request-Id": request_id})
    body = reply.encoded()
    if body is None:
        return Response(status=reply.status if reply.status != 200 else 204, headers=headers)
    return Response(body, status=reply.status, headers=headers, content_type=reply.content_type)


class ApiWsgiApp(WsgiApp):
    """nameko's WSGI app, except that an unknown path or method is a problem+json too."""

    def __call__(self, environ, start_response):
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
        except HTTPException as exc:
            response = self.unmatched(environ, exc)
        else:
            request = Request(environ, shallow=True)  # as nameko: the handler unsets shallow
            request.path_values = values
            response = provider.handle_request(request)
        return response(environ, start_response)

    def unmatched(self, environ, exc):
        if isinstance(exc, MethodNotAllowed):
            problem = Problem(
                405,
                "http.method_not_allowed",
                "该资源不支持此 HTTP 方法",
                headers={"Allow": ", ".join(exc.valid_methods or ())},
            )
        elif isinstance(exc, NotFound):
            problem = Problem(404, "http.not_found", "没有这个接口")
        else:
            return exc  # redirects (a missing trailing slash) stay as werkzeug made them
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        metrics.observe(UNMATCHED, environ.get("REQUEST_METHOD", ""), problem.status, 0.0)
        return to_response(problem_reply(problem, request_id, environ.get("PATH_INFO")), request_id)


class ApiWebServer(WebServer):
    def get_wsgi_app(self):
        return ApiWsgiApp(self)


def request_id_from(header):
    return header if header and REQUEST_ID_PATTERN.match(header) else uuid.uuid4().hex


class ApiRoute(HttpRequestHandler):
    server = ApiWebServer()
    shared = GatewayShared()

    def __init__(self, spec):
        self.spec = spec
        super().__init__(spec.method, spec.path, expected_exceptions=(Problem, WenmingError))

    def check_signature(self, args, kwargs):
        pass  # the rule's path variables are the handler's keywords by construction

    def handle_request(self, request):
        started = perf_counter()
        request.shallow = False
        request_id = request_id_from(request.headers.get("X-Request-Id"))
        try:
            call = self.prepare(request, request_id)
            event = Event()
            self.container.spawn_worker(
                self,
                (call,),
                request.path_values,
                # nameko passes the worker's context data on with every RPC it makes
                context_data={REQUEST_ID: request_id, **idempotency.context(call, self.spec)},
                handle_result=partial(self.handle_result, event),
            )
            reply = as_reply(event.wait())
        except ContainerBeingKilled:
            reply = problem_reply(Problem(503, "service.stopping", "网关正在停止，请重试"), request_id)
        except Exception as exc:
            reply = problem_reply(to_problem(exc), request_id, request.path)
        metrics.observe(self.spec.path, self.spec.method, reply.status, perf_counter() - started)
        return to_response(reply, request_id)

    def prepare(self, request, request_id):
        spec = self.spec
        call = Call(
            request.method,
            request.path,
            request.headers,
            request.remote_addr,
            request_id,
            principal=self.authenticate(request),
        )
        spec.auth.check(call.principal)
        if spec.body is not None:
            call.data = load(spec.body, read_json(request), code="input.invalid")
            call.payload = spec.body.dump(call.data)
        if spec.query is not None:
            call.query = load(spec.query, query_values(spec.query, request.args), code="query.invalid")
        return call

    def authenticate(self, request):
        if not self.spec.auth.requires_token:
            return None
        header = request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise problems.unauthorized("auth.token_invalid", "Authorization 头须为 Bearer 令牌")
        return self.shared.tokens.verify(token.strip())


def read_json(request):
    """The JSON body, refusing oversize bodies before reading them."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _too_large()
    mimetype = request.mimetype
    if mimetype != JSON_TYPE and not mimetype.endswith("+json"):
        raise bad_request("request.content_type", "请求体须为 JSON（Content-Type: application/json）")
    request.max_content_length = MAX_BODY_BYTES  # also bounds chunked bodies with no length
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise _too_large() from None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("request.malformed_json", "请求体不是合法的 JSON") from None


def _too_large():
    return Problem(413, "request.too_large", f"请求体不能超过 {MAX_BODY_BYTES} 字节")


def query_values(schema, args):
    """Query-string values for `schema`: digits become integers for integer fields (the
    contracts use strict integers, as JSON bodies should), the rest stay strings."""
    values = {}
    for name, value in args.items():
        if isinstance(schema.fields.get(name), ma_fields.Integer) and re.fullmatch(r"-?\d{1,18}", value):
            value = int(value)
        values[name] = value
    return values
