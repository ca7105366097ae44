"""The route table (gateway.routing) as an ASGI application (Starlette), on asyncio.

A request goes: request id → size limit (Content-Length, then while streaming) → token and
auth rule → JSON body (depth, then text and schema) and query validation → the handler, whose
RPC calls carry the request id, the deadline and the idempotency key in their context → JSON
or problem+json, X-Request-Id, X-Content-Type-Options, metrics, one access-log line (query
values redacted unless the route declares them). Unknown paths and methods are problem+json
too. The bounds are in docs/gateway.md, "Input limits".
"""

import functools
import json
import random
import re
from time import perf_counter
from urllib.parse import parse_qsl, quote

from marshmallow import fields as ma_fields
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.routing import Route, Router

from services.chassis.context import REQUEST_ID
from services.chassis.schemas import MAX_ID, load

from . import idempotency, metrics, problems
from .access_log import AccessLog
from .problems import SECURITY_HEADERS, Problem, bad_request, to_problem
from .routing import JSON_TYPE, MAX_BODY_BYTES, Call, Edge, as_reply, problem_reply

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RULE_VARIABLE = re.compile(r"<(?:(\w+):)?(\w+)>")
UNMATCHED = "<unmatched>"
QUERY_CACHE_SIZE = 1024  # per route: distinct query strings whose validation is remembered
MAX_JSON_DEPTH = 32  # nested arrays and objects in a body; the contracts need 3
_RAW_SECURITY_HEADERS = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
_TOKEN_LIKE = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?")  # a JWT (or its first parts)
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9/_.~-]*$")
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
REDACTED = "***"


def build_app(routes, state, access_log=None):
    """An ASGI app serving `routes` with the gateway's `state` (gateway.state.GatewayState),
    writing a line per request to `access_log` (gateway.access_log.AccessLog; none if None)."""
    access_log = access_log or AccessLog.off()
    endpoints = {}  # path -> method -> endpoint: one Starlette route per path, so 405 lists every method
    for spec in routes:
        endpoints.setdefault(spec.path, {})[spec.method] = _endpoint(spec, state, access_log)
    app = Starlette(exception_handlers={HTTPException: _unmatched(access_log)})
    app.router = ResourceRouter(
        [
            Route(starlette_path(path), _by_method(by_method), methods=list(by_method), name=_name(by_method))
            for path, by_method in endpoints.items()
        ]
    )
    return SecurityHeaders(app)


class ResourceRouter(Router):
    """Starlette's router, which tries every route's pattern in turn, with the routes put
    in groups by their path's resource (`/api/v1/centers`, `/api/v1/accounts`):
    a request is matched against its group only, so the cost of routing grows with a
    resource's routes, not with every service's. A path of no group gets the whole list
    (a 404, or a route whose variable comes before its third segment)."""

    def __init__(self, routes):
        super().__init__(routes=routes)
        grouped = {}
        for route in routes:
            grouped.setdefault(resource_of(route.path), []).append(route)
        self.groups = {key: Router(routes=members) for key, members in grouped.items() if key is not None}

    async def app(self, scope, receive, send):
        group = self.groups.get(resource_of(scope["path"])) if scope["type"] == "http" else None
        await (group.app if group is not None else super().app)(scope, receive, send)


def resource_of(path):
    """The first three segments of `path` (`/api/v1/centers` for /api/v1/centers/5/venues),
    or None for a route whose variable comes sooner."""
    end = path.find("/", path.find("/", path.find("/", 1) + 1) + 1)
    key = path if end < 0 else path[:end]
    return None if "{" in key else key


class SecurityHeaders:
    """`app` (ASGI) with gateway.problems.SECURITY_HEADERS on every response it sends,
    whoever writes the response (a route, Starlette, an error handler). Anything else,
    such as `routes`, is the wrapped app's."""

    def __init__(self, app):
        self.app = app

    def __getattr__(self, name):
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_secured(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *_RAW_SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_secured)


def _by_method(endpoints):
    async def endpoint(request):
        return await endpoints["GET" if request.method == "HEAD" else request.method](request)

    return endpoint


def _name(endpoints):
    return "|".join(endpoint.__name__ for endpoint in endpoints.values())


def starlette_path(rule):
    """A declared rule (`/centers/<int:center_id>`) as a Starlette path (`/centers/{center_id:int}`)."""

    def variable(match):
        converter, name = match.groups()
        return "{" + name + (":int" if converter == "int" else "") + "}"

    return RULE_VARIABLE.sub(variable, rule)


def request_id_from(header):
    """The caller's X-Request-Id if it is a plain one, else a new random one. Ids must be
    unique, not secret: `random` (reseeded in every forked child) costs no system call."""
    return header if header and REQUEST_ID_PATTERN.match(header) else f"{random.getrandbits(128):032x}"


class ReplyResponse:
    """A Reply as the ASGI messages starlette.responses.Response would send for it, its
    headers encoded in one pass: that class's general header handling cost a tenth of a
    read-model request's own work. No body: 204 where the status was 200."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, reply, request_id):
        self.body = reply.encoded()
        self.status = reply.status
        self.headers = [(b"x-request-id", request_id.encode())]
        for name, value in reply.headers.items():
            self.headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        if self.body is None:
            self.body, self.status = b"", 204 if reply.status == 200 else reply.status
        else:
            content_type = reply.content_type
            if content_type.startswith("text/") and "charset=" not in content_type:
                content_type += "; charset=utf-8"
            self.headers += [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(self.body))]

    async def __call__(self, scope, receive, send):
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


def _endpoint(spec, state, access_log):
    # the names a client sends (a field may be declared under another: `from`, `to`)
    declared = (
        frozenset(f.data_key or n for n, f in spec.query.fields.items()) if spec.query is not None else frozenset()
    )
    load_query = query_loader(spec.query) if spec.query is not None else None
    ids = tuple(name for converter, name in RULE_VARIABLE.findall(spec.path) if converter == "int")

    async def endpoint(request):
        started = perf_counter()
        request_id = request_id_from(header_value(request.scope, b"x-request-id"))
        try:
            check_ids(request.path_params, ids)
            call = await prepare(spec, request, request_id, state.tokens, load_query)
            context = {REQUEST_ID: request_id, **idempotency.context(call, spec)}
            edge = Edge(spec, lambda service: state.rpc.proxy(service, context, spec.rpc_timeout), state)
            reply = as_reply(await spec.handler(edge, call, **request.path_params))
        except Exception as exc:
            reply = problem_reply(to_problem(exc, request_id), request_id, request.url.path)
        elapsed = perf_counter() - started
        metrics.observe(spec.path, spec.method, reply.status, elapsed)
        log_access(access_log, request, reply.status, elapsed, request_id, declared)
        return ReplyResponse(reply, request_id)

    endpoint.__name__ = spec.name
    return endpoint


def check_ids(path_params, ids):
    """A path id is 1 … MAX_ID (a BIGINT), as OpenAPI says: outside it, a 422 naming it,
    before any token check or RPC (the route's digits matched, so it is a number)."""
    bad = {name: [f"必须是 1 到 {MAX_ID} 之间的整数。"] for name in ids if not 1 <= path_params[name] <= MAX_ID}
    if bad:
        raise Problem(422, "path.invalid", "路径中的编号有误", fields=bad)


async def prepare(spec, request, request_id, tokens, load_query=None):
    call = Call(
        request.method,
        request.scope["path"],  # what request.url.path gives, without building a URL per request
        request.headers,
        client_host(request.scope) or "",
        request_id,
        principal=authenticate(spec, request, tokens),
    )
    spec.auth.check(call.principal)
    if spec.body is not None:
        call.data = load(spec.body, await read_json(request, spec.max_body_bytes), code="input.invalid")
        call.payload = spec.body.dump(call.data)
    if load_query is not None:
        call.query = dict(load_query(request.scope.get("query_string", b"")))
    return call


def query_loader(schema):
    """query string (bytes) -> the query validated by `schema`, the last QUERY_CACHE_SIZE
    distinct strings remembered: the same list pages are asked for again and again, and
    validating one with marshmallow cost more than serving it. An invalid query raises
    every time (lru_cache keeps no exceptions)."""

    @functools.lru_cache(maxsize=QUERY_CACHE_SIZE)
    def load_query(query_string):
        return load(schema, query_values(schema, QueryParams(query_string)), code="query.invalid")

    return load_query


def header_value(scope, name):
    """The first `name` header (lower-case bytes, as the server gives them) as text, or None.
    Starlette's Headers.get raises and catches a KeyError for every header not sent, and
    most requests send no X-Request-Id."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def client_host(scope):
    """What request.client.host gives, without building its named tuple."""
    client = scope.get("client")
    return client[0] if client else None


def authenticate(spec, request, tokens):
    if not spec.auth.requires_token:
        return None
    header = header_value(request.scope, b"authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise problems.unauthorized("auth.token_invalid", "Authorization 头须为 Bearer 令牌")
    return tokens.verify(token.strip())


async def read_json(request, limit=MAX_BODY_BYTES):
    """The JSON body, refusing an oversize body before reading it, or as soon as it grows past
    the limit while streaming (a chunked body has no length to check first), and a body
    nested deeper than MAX_JSON_DEPTH. Strict JSON: NaN and Infinity are malformed."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON_TYPE and not content_type.endswith("+json"):
        raise bad_request("request.content_type", "请求体须为 JSON（Content-Type: application/json）")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks), parse_constant=_not_json)
    except RecursionError:  # deeper than the interpreter's stack allows
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError):
        raise bad_request("request.malformed_json", "请求体不是合法的 JSON") from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise _too_deep()
    return data


def json_depth(value):
    """How deeply arrays and objects nest in `value` (0 for a scalar), without recursion."""
    if not isinstance(value, dict | list):
        return 0
    deepest, stack = 1, [(value, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        for item in value.values() if isinstance(value, dict) else value:
            if isinstance(item, dict | list):
                stack.append((item, depth + 1))
    return deepest


def _not_json(constant):
    raise ValueError(f"{constant} is not JSON")


def _too_large(limit):
    return Problem(413, "request.too_large", f"请求体不能超过 {limit} 字节")


def _too_deep():
    return bad_request("request.too_deep", f"请求体的 JSON 嵌套不能超过 {MAX_JSON_DEPTH} 层")


def query_values(schema, args):
    """Query-string values for `schema`: digits become integers for integer fields (the
    contracts use strict integers, as JSON bodies should), the rest stay strings."""
    values = {}
    for name, value in args.items():
        if isinstance(schema.fields.get(name), ma_fields.Integer) and re.fullmatch(r"-?\d{1,18}", value):
            value = int(value)
        values[name] = value
    return values


def _unmatched(access_log):
    async def handler(request, exc):
        if exc.status_code == 405:
            allowed = exc.headers.get("Allow", "")
            problem = Problem(405, "http.method_not_allowed", "该资源不支持此 HTTP 方法", headers={"Allow": allowed})
        elif exc.status_code == 404:
            problem = Problem(404, "http.not_found", "没有这个接口")
        else:
            problem = Problem(exc.status_code, "http.error", str(exc.detail))
        request_id = request_id_from(header_value(request.scope, b"x-request-id"))
        metrics.observe(UNMATCHED, request.method, problem.status, 0.0)
        log_access(access_log, request, problem.status, 0.0, request_id)
        return ReplyResponse(problem_reply(problem, request_id, request.url.path), request_id)

    return handler


def log_access(access_log, request, status, elapsed, request_id, declared=frozenset()):
    """One line per request: method, path, query, status, duration, request id, client.
    A query value is written only for a parameter the route declares, and never when it
    looks like a token; anything else that looks like a token is cut out too."""
    if not access_log.enabled:
        return
    target = request.scope["path"]
    if not _PLAIN_PATH.match(target):  # quote() is the slow part of a line: most paths need none
        target = quote(target, safe="/:@!$&'()*+,;=-._~")
    query = request.scope.get("query_string", b"")
    if query:
        target += "?" + redacted_query(query.decode("latin-1"), declared)
    if "eyJ" in target:
        target = _TOKEN_LIKE.sub(REDACTED, target)
    access_log.write(client_host(request.scope) or "-", request.method, target, status, elapsed, request_id)


@functools.lru_cache(maxsize=QUERY_CACHE_SIZE)
def redacted_query(query, declared):
    """`query` with every value replaced by REDACTED unless its parameter is `declared`
    (a field of the route's query schema) and the value does not look like a token."""
    parts = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in declared and not _TOKEN_LIKE.search(value):
            parts.append(f"{name}={quote(value, safe='')}")
        else:
            parts.append(f"{name if _PLAIN_NAME.match(name) else REDACTED}={REDACTED}")
    return "&".join(parts)
