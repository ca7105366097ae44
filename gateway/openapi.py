"""The OpenAPI 3.0 document, built from the route declarations (gateway.routing) and the
marshmallow schemas they name: nothing about a route is written twice."""

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from . import visibility
from .auth import Roles
from .problems import TITLES
from .routing import MAX_BODY_BYTES
from .schemas import ProblemSchema

RULE_VARIABLE = re.compile(r"<(?:(\w+):)?(\w+)>")
SUCCESS = {200: "OK", 201: "Created", 204: "No Content"}
CONVERTER_TYPES = {"int": "integer", None: "string", "string": "string"}


def schema_name(schema):
    """Components are named after the schema class; a partial schema is its own class."""
    return type(schema).__name__.removesuffix("Schema") or type(schema).__name__


def build(routes, title="Wenming API", version="1.0.0"):
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    spec = APISpec(
        title=title,
        version=version,
        openapi_version="3.0.3",
        plugins=[plugin],
        info={
            "description": "新时代文明实践云 — the county practice network's public API. "
            "Every error is application/problem+json (RFC 9457)."
        },
    )
    plugin.converter.add_attribute_function(visibility_attributes)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Problem", schema=ProblemSchema)
    for route in routes:
        spec.path(path=openapi_path(route.path), operations={route.method.lower(): operation(route)})
    return spec.to_dict()


def visibility_attributes(converter, field, ret, **kwargs):
    """A private field (gateway/visibility.py) says so: `x-visibility` (who sees it in full),
    `x-visibility-mask` (who sees it masked, and how) and a sentence in its description."""
    rule = visibility.rule_of(field)
    if rule is None:
        return {}
    description = (ret.get("description", "") + " " + rule.describe()).strip()
    out = {"x-visibility": rule.level, "description": description}
    if rule.mask is not None:
        out["x-visibility-mask"] = {"shown_to": rule.masked_level, "keep_start": rule.mask[0], "keep_end": rule.mask[1]}
    return out


def openapi_path(rule):
    return RULE_VARIABLE.sub(r"{\2}", rule)


def operation(route):
    parameters = [
        {"in": "path", "name": name, "required": True, "schema": {"type": CONVERTER_TYPES.get(converter, "string")}}
        for converter, name in RULE_VARIABLE.findall(route.path)
    ]
    parameters.append(
        {
            "in": "header",
            "name": "X-Request-Id",
            "required": False,
            "description": "Echoed back; generated when absent or not ≤64 of [A-Za-z0-9_-].",
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        }
    )
    if route.idempotent:
        parameters.append(
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "description": "Replays the stored response for 24 h when the same request is repeated.",
                "schema": {"type": "string", "maxLength": 255},
            }
        )
    if route.query is not None:
        parameters.append({"in": "query", "schema": route.query})
    op = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": parameters,
        "responses": responses(route),
        "security": [{"bearer": []}] if route.auth.requires_token else [],
    }
    descriptions = []
    if isinstance(route.auth, Roles):
        descriptions.append("Roles: " + ", ".join(route.auth.roles) + ".")
    if visibility.has_private_fields(route.response):
        descriptions.append(
            "Fields marked `x-visibility` are shown in full only to callers whose role and scope "
            "allow it; others get them masked or not at all (docs/authorization.md)."
        )
    if descriptions:
        op["description"] = " ".join(descriptions)
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "description": f"JSON, at most {MAX_BODY_BYTES} bytes.",
            "content": {"application/json": {"schema": route.body}},
        }
    return op


def error_statuses(route):
    statuses = set(route.errors)
    if route.body is not None:
        statuses |= {400, 413, 422}
    if route.query is not None:
        statuses.add(422)
    if route.auth.requires_token:
        statuses.add(401)
    if isinstance(route.auth, Roles):
        statuses.add(403)
    if RULE_VARIABLE.search(route.path):
        statuses.add(404)
    if route.idempotent:
        statuses |= {409, 422}
    if route.calls:
        statuses.add(503)  # a service it calls did not answer in time
    return sorted(statuses)


def responses(route):
    success = {"description": SUCCESS[route.status]}
    if route.response is not None:
        schema = route.response
        content_schema = {"type": "array", "items": schema} if route.many else schema
        success["content"] = {"application/json": {"schema": content_schema}}
    out = {str(route.status): success}
    for status in error_statuses(route):
        out[str(status)] = {
            "description": TITLES.get(status, "Error"),
            "content": {"application/problem+json": {"schema": "Problem"}},
        }
    return out
