"""Routes: one decorator declares a route's method, path, auth rule, payload schemas and
responses; the same declaration drives werkzeug routing, the central checks below and the
OpenAPI document (gateway.openapi).

A request goes: request id → size limit → token and auth rule → JSON body and query
validation (all before a worker is spawned, so a refused request costs no worker) → the
service method in a nameko worker, with the request id in its context data (nameko copies
it into every RPC it makes) → JSON or problem+json, X-Request-Id, metrics.
"""
import json
import re
import uuid
from dataclasses import dataclass, field
from functools import partial, wraps
from time import perf_counter

from eventlet.event import Event
from marshmallow import fields as ma_fields
from nameko.exceptions import ContainerBeingKilled
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from services.chassis.schemas import load
from services.chassis.errors import WenmingError

from . import idempotency, metrics, problems
from .dependencies import GatewayShared
from .encoding import encode
from .problems import Problem, bad_request, to_problem

MAX_BODY_BYTES = 1024 * 1024
JSON_TYPE = "application/json"
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
UNMATCHED = "<unmatched>"


@dataclass
class RouteSpec:
    method: str
    path: str  # a werkzeug rule: /api/v1/centers/<int:center_id>
    auth: object  # a rule from gateway.auth
    summary: str
    tag: str
    body: object = None  # marshmallow Schema instance for the JSON body
    query: object = None  # marshmallow Schema instance for the query string
    response: object = None  # marshmallow Schema instance (None: no body)
    many: bool = False
    status: int = 200
    errors: tuple = ()  # statuses beyond those implied by auth, body and query
    name: str = ""  # the service method (OpenAPI operationId)

    @property
    def idempotent(self):
        """Idempotency-Key applies to every POST by an authenticated caller (keys are per account)."""
        return self.method == "POST" and self.auth.requires_token


@dataclass
class Call:
    """What a route method receives: the request as the checks above left it."""

    request: object
    request_id: str
    principal: object = None
    body: object = None  # the JSON body as sent (for forwarding to a service)
    data: dict = field(default_factory=dict)  # the body as loaded by the route's schema
    query: dict = field(default_factory=dict)


@dataclass
class Reply:
    status: int = 200
    body: object = None  # JSON-able value, or bytes already encoded
    headers: dict = field(default_factory=dict)
    content_type: str = JSON_TYPE

    def encoded(self):
        if self.body is None or isinstance(self.body, bytes):
            return self.body
        return encode(self.body)


def problem_reply(problem, request_id, instance=None):
    return Reply(
        problem.status, problems.render(problem, request_id, instance),
        dict(problem.headers), problems.CONTENT_TYPE,
    )


def to_response(reply, request_id):
    headers = dict(reply.headers, **{"X-Request-Id": request_id})
    body = reply.encoded()
    if body is None:
        return Response(status=reply.status if reply.status != 200 else 204, headers=headers)
    return Response(body, status=reply.status, headers=headers, content_type=reply.content_type)


def route(method, path, *, auth, summary, tag, **options):
    """Declare a route on a service method: `@route("GET", "/api/v1/me", auth=Authenticated(), ...)`."""

    def decorate(fn):
        spec = RouteSpec(method, path, auth, summary, tag, name=fn.__name__, **options)
        target = _with_idempotency(fn) if spec.idempotent else fn
        target.route_spec = spec
        return ApiRoute.decorator(spec)(target)

    return decorate


def route_specs(service_cls):
    """Every route declared on `service_cls`, in a stable order."""
    specs = [getattr(member, "route_spec", None) for member in vars(service_cls).values()]
    return sorted((s for s in specs if s is not None), key=lambda s: (s.path, s.method))


def _with_idempotency(fn):
    """Runs in the worker: the service's `db` dependency holds the keys (gateway DB)."""

    @wraps(fn)
    def run(self, call, **path_values):
        key = call.request.headers.get("Idempotency-Key")
        if key is None:
            return fn(self, call, **path_values)
        account_id = call.principal.account_id
        idempotency.check_key(key)
        request_fingerprint = idempotency.fingerprint(call.request.method, call.request.path, call.body)
        stored = idempotency.begin(self.db, account_id, key, request_fingerprint)
        if stored is not None:
            return Reply(
                stored.status, stored.body.encode(), {"Idempotent-Replayed": "true"}, stored.content_type
            )
        try:
            reply = _as_reply(fn(self, call, **path_values))
        except Exception as exc:
            failed = problem_reply(to_problem(exc), call.request_id, call.request.path)
            idempotency.finish(
                self.db, account_id, key, failed.status, failed.content_type, failed.encoded().decode()
            )
            raise
        body = reply.encoded()
        idempotency.finish(
            self.db, account_id, key, reply.status, reply.content_type, body.decode() if body else ""
        )
        return reply

    return run


def _as_reply(result):
    return result if isinstance(result, Reply) else Reply(body=result)


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
                405, "http.method_not_allowed", "该资源不支持此 HTTP 方法",
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
    return header if header and REQUEST_ID.match(header) else uuid.uuid4().hex


class ApiRoute(HttpRequestHandler):
    server = ApiWebServer()
    shared = GatewayShared()

    def __init__(self, spec):
        self.spec = spec
        super().__init__(spec.method, spec.path, expected_exceptions=(Problem, WenmingError))

    def check_signature(self, args, kwargs):
        pass  # the rule's path variables are the method's keywords by construction

    def handle_request(self, request):
        started = perf_counter()
        request.shallow = False
        request_id = request_id_from(request.headers.get("X-Request-Id"))
        try:
            call = self.prepare(request, request_id)
            event = Event()
            self.container.spawn_worker(
                self, (call,), request.path_values, context_data={"request_id": request_id},
                handle_result=partial(self.handle_result, event),
            )
            reply = _as_reply(event.wait())
        except ContainerBeingKilled:
            reply = problem_reply(Problem(503, "service.stopping", "网关正在停止，请重试"), request_id)
        except Exception as exc:
            reply = problem_reply(to_problem(exc), request_id, request.path)
        metrics.observe(self.spec.path, self.spec.method, reply.status, perf_counter() - started)
        return to_response(reply, request_id)

    def prepare(self, request, request_id):
        spec = self.spec
        call = Call(request, request_id, principal=self.authenticate(request))
        spec.auth.check(call.principal)
        if spec.body is not None:
            call.body = read_json(request)
            call.data = load(spec.body, call.body, code="input.invalid")
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
    centers schemas use strict integers, as JSON bodies should), the rest stay strings."""
    values = {}
    for name, value in args.items():
        if isinstance(schema.fields.get(name), ma_fields.Integer) and re.fullmatch(r"-?\d{1,18}", value):
            value = int(value)
        values[name] = value
    return values
