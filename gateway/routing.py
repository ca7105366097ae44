"""Route declarations, independent of the HTTP server that runs them.

A route module (gateway/routes/<backend>.py) keeps a `RouteTable` and declares each route
on a plain function:

    routes = RouteTable(tag="centers", calls=("centers",))

    @routes.route("GET", "/api/v1/centers/<int:center_id>", auth=READ, summary="One center",
                  response=CenterSchema())
    async def get_center(edge, call, center_id): ...

One declaration drives routing, the authorization rule, body and query validation,
idempotency and the OpenAPI document. The handler, a coroutine, gets an `Edge` (the
backends it declared in `calls`, and the gateway's own state) and a `Call` (the request as
the checks left it), and returns a JSON-able value or a `Reply`. gateway/app.py serves the
table (ASGI); gateway/openapi.py documents it.

What a route returns is shown to its caller through `shown_to_caller`: the fields its
response schema marks private (gateway/visibility.py) are withheld from, or masked for, a
caller who may not see them. Every route gets this from its declaration; no handler filters.
"""

import functools
from dataclasses import dataclass, field, replace

from . import problems, visibility
from .encoding import encode

JSON_TYPE = "application/json"
MAX_BODY_BYTES = 1024 * 1024  # a JSON body, unless its route declares `max_body_bytes`


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str  # a rule with typed variables: /api/v1/centers/<int:center_id>
    auth: object  # a rule from gateway.auth
    summary: str
    tag: str
    handler: object  # async handler(edge, call, **path_values)
    body: object = None  # marshmallow Schema instance for the JSON body
    query: object = None  # marshmallow Schema instance for the query string
    response: object = None  # marshmallow Schema instance (None: no body)
    many: bool = False
    status: int = 200
    errors: tuple = ()  # statuses beyond those implied by auth, body, query and calls
    calls: tuple = ()  # the services the handler may call; each can make it answer 503
    request_headers: tuple = ()  # headers the handler reads, by name (gateway.openapi.REQUEST_HEADERS)
    response_headers: tuple = ()  # headers of its success answer, by name (gateway.openapi.RESPONSE_HEADERS)
    max_body_bytes: int = MAX_BODY_BYTES  # more for the few routes that carry files (photos, imports)
    # the deadline of its RPC calls when not the gateway's RPC_TIMEOUT: longer for a route a
    # flash crowd queues on (a sign-up would rather wait its turn than fail)
    rpc_timeout: float | None = None

    @property
    def name(self):
        """The handler's name: the OpenAPI operationId, unique across the gateway."""
        return self.handler.__name__

    @property
    def idempotent(self):
        """Idempotency-Key applies to every POST by an authenticated caller (keys are per account)."""
        return self.method == "POST" and self.auth.requires_token


class RouteTable:
    """The routes of one module, with the tag and the backends they share by default."""

    def __init__(self, tag, calls=()):
        self.tag = tag
        self.calls = tuple(calls)
        self.specs = []

    def route(self, method, path, *, auth, summary, tag=None, calls=None, **options):
        def declare(handler):
            self.specs.append(
                RouteSpec(
                    method,
                    path,
                    auth,
                    summary,
                    tag or self.tag,
                    shown_to_caller(handler, options.get("response"), options.get("many", False)),
                    calls=self.calls if calls is None else tuple(calls),
                    **options,
                )
            )
            return handler

        return declare

    def __iter__(self):
        return iter(self.specs)


def collect(tables):
    """Every route of `tables`, in a stable order; refuses two routes with one method and
    path, or two handlers with one name."""
    specs = sorted((spec for table in tables for spec in table), key=lambda s: (s.path, s.method))
    for what, key in (("route", lambda s: (s.method, s.path)), ("handler name", lambda s: s.name)):
        seen = set()
        for spec in specs:
            if key(spec) in seen:
                raise ValueError(f"two routes share the {what} {key(spec)}")
            seen.add(key(spec))
    return specs


@dataclass
class Call:
    """What a handler receives about the request, after authentication and validation."""

    method: str
    path: str
    headers: object  # case-insensitive mapping
    client_address: str
    request_id: str
    principal: object = None  # the chassis Actor of a verified token
    data: dict = field(default_factory=dict)  # the body as loaded by the route's schema
    payload: dict = None  # the same, JSON-ready: what a route forwards to a service
    query: dict = field(default_factory=dict)


def paged(schema, call):
    """(filters, page, page_size) of a list's query (`schema`: the route's query schema),
    JSON-ready for the service (dates as text)."""
    filters = schema.dump(call.query)
    return filters, filters.pop("page"), filters.pop("page_size")


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


def shown_to_caller(handler, response, many=False):
    """`handler`, its output filtered for the caller by the private fields of `response`
    (gateway/visibility.py); `handler` itself when that schema has none."""
    if not visibility.has_private_fields(response):
        return handler

    @functools.wraps(handler)
    async def shown(edge, call, **path_values):
        result = await handler(edge, call, **path_values)
        if visibility.sees_everything(call.principal):
            return result
        viewer = visibility.Viewer.of(call.principal, edge.read_model if call.principal else None)
        if isinstance(result, Reply):
            if isinstance(result.body, bytes):
                return replace(result, body=visibility.redact_encoded(response, result.body, viewer, many))
            return replace(result, body=visibility.redact(response, result.body, viewer, many))
        return visibility.redact(response, result, viewer, many)

    return shown


def as_reply(result):
    return result if isinstance(result, Reply) else Reply(body=result)


def problem_reply(problem, request_id, instance=None):
    return Reply(
        problem.status,
        problems.render(problem, request_id, instance),
        dict(problem.headers),
        problems.CONTENT_TYPE,
    )


class Edge:
    """What a handler may use besides the request: the services its route declared in
    `calls` (each an RPC proxy with a deadline, carrying the request's context), and the
    gateway's own state."""

    def __init__(self, spec, proxies, shared):
        self._spec = spec
        self._proxies = proxies
        self.shared = shared  # token verifier, read models (gateway.state)

    @property
    def read_model(self):
        return self.shared.read_model

    def rpc(self, service):
        # A route that calls a service must say so, or its OpenAPI would hide the 503.
        if service not in self._spec.calls:
            raise LookupError(f"route {self._spec.name} calls {service!r} without declaring it in `calls`")
        return self._proxies(service)
