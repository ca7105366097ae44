"""The OpenAPI 3.0 document, built from the route declarations (gateway.routing) and the
marshmallow schemas they name: nothing about a route is written twice.

The document promises only what the gateway does, and everything it does: every status an
operation can answer with, every header it reads or writes, the range of every path id and
the characters a text field refuses. schemathesis checks the running gateway against it
(tests/integration/gateway/test_openapi_contract.py) and Redocly's `recommended` rules lint
it (tests/unit/gateway/test_openapi_lint.py); docs/gateway.md, "Contract checks"."""

import importlib
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields as ma_fields
from marshmallow import validate

from services.chassis.schemas import MAX_ID, Text
from services.identity.contract import USERNAME, Username

from . import visibility
from .auth import Roles
from .problems import TITLES
from .schemas import ProblemSchema

RULE_VARIABLE = re.compile(r"<(?:(\w+):)?(\w+)>")
SUCCESS = {200: "OK", 201: "Created", 204: "No Content"}
CONVERTER_TYPES = {"int": "integer", None: "string", "string": "string"}
API_PREFIX = "/api/v1"

# What a tag groups, for tags whose route module does not say it better in its docstring.
TAG_DESCRIPTIONS = {
    "auth": "Tokens and accounts, kept by the identity service.",
    "centers": "The practice network's tree: the county center, town institutes, village stations and points.",
    "venues": "The venues (场所) of a center.",
    "meta": "The API's description of itself.",
}

# Characters as the chassis' `Text` refuses them (services/chassis/schemas.py), written as
# ECMA-262 / Python regular expression classes. `Text` trims whitespace (Python's
# str.strip) before it checks, so surrounding whitespace may hold what the inside may not.
_CONTROL = r"\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL_MULTILINE = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069"
_STRIPPED = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

# Request headers the gateway reads, by name: a route lists the ones it reads besides
# X-Request-Id (every route) and Idempotency-Key (every idempotent route) in `request_headers`.
REQUEST_HEADERS = {
    "If-Match": {
        "description": 'The version the change expects, as the ETag gave it (`"3"`, `W/"3"`); `*` or absent: '
        "any version. Another version is a 409 `center.version_conflict`; a malformed value is a 400.",
        "schema": {"type": "string", "pattern": r'^(\*|(W/)?"[1-9][0-9]{0,17}")$'},
    },
}

# Response headers, by name: a route lists those of its success answer in `response_headers`.
RESPONSE_HEADERS = {
    "ETag": {
        "description": 'The version of the record, `"<version>"`: send it back in If-Match.',
        "schema": {"type": "string", "pattern": r'^"[0-9]+"$'},
    },
    "Location": {
        "description": "The path of the record created.",
        "schema": {"type": "string", "pattern": "^" + API_PREFIX + "/"},
    },
    "Cache-Control": {"description": "`no-store`: no cache may keep the answer.", "schema": {"type": "string"}},
    "Pragma": {"description": "`no-cache`, for HTTP/1.0 caches.", "schema": {"type": "string"}},
}
X_REQUEST_ID = {
    "description": "The request's id: the one sent if it was ≤64 of [A-Za-z0-9_-], else one generated.",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
}
RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer", "minimum": 0}}
WWW_AUTHENTICATE = {"description": "The Bearer challenge (RFC 6750).", "schema": {"type": "string"}}
ERROR_HEADERS = {401: {"WWW-Authenticate": WWW_AUTHENTICATE}, 429: {"Retry-After": RETRY_AFTER}}
ERROR_HEADERS[503] = {"Retry-After": RETRY_AFTER}


def schema_name(schema):
    """Components are named after the schema class; a partial schema is its own class."""
    return type(schema).__name__.removesuffix("Schema") or type(schema).__name__


def build(routes, title="Wenming API", version="1.0.0"):
    routes = list(routes)
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    spec = APISpec(
        title=title,
        version=version,
        openapi_version="3.0.3",
        plugins=[plugin],
        info={
            "description": "新时代文明实践云 — the county practice network's public API. "
            "Every error is application/problem+json (RFC 9457), and every response carries X-Request-Id."
        },
        servers=[{"url": "/", "description": "The gateway that serves this document; every path starts /api/v1."}],
        tags=[{"name": tag, "description": tag_description(tag, routes)} for tag in tags_of(routes)],
    )
    for attributes in (
        visibility_attributes,
        text_attributes,
        date_attributes,
        nullable_object_attributes,
        excluded_values,
    ):
        plugin.converter.add_attribute_function(attributes)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Problem", schema=ProblemSchema)
    for route in routes:
        spec.path(path=openapi_path(route.path), operations={route.method.lower(): operation(route)})
    return spec.to_dict()


def tags_of(routes):
    return sorted({route.tag for route in routes})


def tag_description(tag, routes):
    """TAG_DESCRIPTIONS, else the first sentence of the docstring of the module declaring it."""
    if tag in TAG_DESCRIPTIONS:
        return TAG_DESCRIPTIONS[tag]
    for route in routes:
        if route.tag == tag:
            doc = (importlib.import_module(route.handler.__module__).__doc__ or "").strip()
            if doc:
                return " ".join(doc.split(".")[0].split()) + "."
    return f"The {tag} routes."


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


def excluded_values(converter, field, ret, **kwargs):
    """Values a field's `NoneOf` validator refuses (e.g. a stock change of 0), as `not`."""
    refused = [
        value
        for validator in field.validators
        if isinstance(validator, validate.NoneOf)
        for value in validator.iterable
    ]
    return {"not": {"enum": refused}} if refused else {}


def text_attributes(converter, field, ret, **kwargs):
    """The characters a string refuses, as a `pattern`: a chassis `Text` refuses control
    characters (inside the whitespace it trims; a required-length one also whitespace alone),
    any string refuses NUL (services/chassis/schemas.py, `load`), and a username (on login
    too) is what an account's username can be once normalized."""
    if not isinstance(field, ma_fields.String) or "pattern" in ret or "enum" in ret:
        return {}
    if isinstance(field, Username):  # normalized, then refused with any control or unassigned character
        return {"pattern": USERNAME.regex.pattern}
    if not isinstance(field, Text):
        return {"pattern": "^[^\\u0000]*$"}
    control = _CONTROL_MULTILINE if field.multiline else _CONTROL
    low, high = ret.pop("minLength", 0), ret.pop("maxLength", None)
    return {"pattern": text_pattern(control, low, high)}


def text_pattern(control, low, high):
    """What `Text` accepts: whitespace it trims around a text of `low`…`high` characters
    (no limit for None) that holds no `control` character and, trimmed, neither starts nor
    ends with whitespace. The lengths are of the trimmed text, hence in the pattern."""
    edge, inside = f"[^{control}{_STRIPPED}]", f"[^{control}]"
    middle = "*" if high is None else "{" + f"{max(low - 2, 0)},{max(high - 2, 0)}" + "}"
    text = edge if high == 1 else f"{edge}(?:{inside}{middle}{edge})" + ("" if low >= 2 else "?")
    if low == 0:
        text = f"(?:{text})?"
    return f"^[{_STRIPPED}]*{text}[{_STRIPPED}]*$"


def date_attributes(converter, field, ret, **kwargs):
    """A date's range (`date_field`: whole years, such as 1900-01-01 … 2099-12-31) as a
    pattern on its year, which OpenAPI 3.0 can state, with the range in words."""
    if not isinstance(field, ma_fields.Date):
        return {}
    for validator in field.validators:
        low, high = getattr(validator, "min", None), getattr(validator, "max", None)
        if low is None or high is None or (low.month, low.day, high.month, high.day) != (1, 1, 12, 31):
            continue
        if low.year % 100 == 0 and high.year % 100 == 99:
            centuries = "|".join(str(century) for century in range(low.year // 100, high.year // 100 + 1))
            out = {"pattern": f"^(?:{centuries})[0-9]{{2}}-"}
            if low.isoformat() not in ret.get("description", ""):
                out["description"] = (ret.get("description", "") + f" From {low} to {high}.").strip()
            return out
    return {}


def nullable_object_attributes(converter, field, ret, **kwargs):
    """apispec writes a nullable nested schema as `anyOf: [<schema>, {type: object,
    nullable: true}]`, whose second branch admits any object, `{}` included; only null is meant."""
    if "anyOf" not in ret:
        return {}
    branches = [
        {"type": "object", "nullable": True, "enum": [None]}
        if branch == {"type": "object", "nullable": True}
        else branch
        for branch in ret["anyOf"]
    ]
    return {"anyOf": branches}


def openapi_path(rule):
    return RULE_VARIABLE.sub(r"{\2}", rule)


def path_parameter(converter, name):
    if converter == "int":
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        description = f"An id, 1 to {MAX_ID}; outside that range a 422."
    else:
        schema = {"type": "string"}
        description = name.replace("_", " ").capitalize() + "."
    return {"in": "path", "name": name, "required": True, "description": description, "schema": schema}


def operation(route):
    parameters = [path_parameter(converter, name) for converter, name in RULE_VARIABLE.findall(route.path)]
    parameters.append(
        {
            "in": "header",
            "name": "X-Request-Id",
            "required": False,
            "description": "Taken as the request's id when it is ≤64 of [A-Za-z0-9_-]; any other value is "
            "replaced by a generated id, not refused. Returned on the response and logged.",
            "schema": {"type": "string"},
        }
    )
    if route.idempotent:
        parameters.append(
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "description": "1–255 visible ASCII characters (else a 400 `idempotency.key_invalid`). The same "
                "key and request within 24 h replays the first response; the same key with another request "
                "is a 422 `idempotency.key_reused`; two at once, a 409 `idempotency.in_flight`.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]{1,255}$"},
            }
        )
    for name in route.request_headers:
        parameters.append({"in": "header", "name": name, "required": False, **REQUEST_HEADERS[name]})
    if route.query is not None:
        parameters.append({"in": "query", "schema": route.query})
    op = {
        "operationId": route.name,
        "summary": route.summary,
        "description": description(route),
        "tags": [route.tag],
        "parameters": parameters,
        "responses": responses(route),
        "security": [{"bearer": []}] if route.auth.requires_token else [],
    }
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "description": f"JSON (`application/json`), at most {route.max_body_bytes} bytes.",
            "content": {"application/json": {"schema": route.body}},
        }
    return op


def description(route):
    sentences = [route.summary.rstrip(".") + "."]
    if isinstance(route.auth, Roles):
        sentences.append("Roles: " + ", ".join(route.auth.roles) + ".")
    elif route.auth.requires_token:
        sentences.append("Any signed-in account.")
    else:
        sentences.append("Public: no token needed.")
    if visibility.has_private_fields(route.response):
        sentences.append(
            "Fields marked `x-visibility` are shown in full only to callers whose role and scope "
            "allow it; others get them masked or not at all (docs/authorization.md)."
        )
    return " ".join(sentences)


def error_statuses(route):
    statuses = set(route.errors) | {431}  # request line and headers over 16 KiB or 100 lines (gateway/protocol.py)
    if route.body is not None:
        statuses |= {400, 413, 422}  # malformed, too deep or not JSON; too large; invalid
    if route.query is not None:
        statuses.add(422)
    if route.auth.requires_token:
        statuses.add(401)
    if isinstance(route.auth, Roles):
        statuses.add(403)
    if RULE_VARIABLE.search(route.path):
        statuses |= {404, 422}  # unknown id; an id out of range
    if route.idempotent:
        statuses |= {400, 409, 422}  # malformed key; in flight; reused
    if route.request_headers:
        statuses.add(400)  # a malformed header
    if route.calls:
        statuses.add(503)  # a service it calls did not answer in time
    return sorted(statuses)


def responses(route):
    success = {"description": SUCCESS[route.status], "headers": success_headers(route)}
    if route.response is not None:
        schema = route.response
        content_schema = {"type": "array", "items": schema} if route.many else schema
        success["content"] = {"application/json": {"schema": content_schema}}
    out = {str(route.status): success}
    for status in error_statuses(route):
        out[str(status)] = {
            "description": TITLES.get(status, "Error"),
            "headers": {"X-Request-Id": X_REQUEST_ID, **ERROR_HEADERS.get(status, {})},
            "content": {"application/problem+json": {"schema": "Problem"}},
        }
    return out


def success_headers(route):
    headers = {"X-Request-Id": X_REQUEST_ID}
    for name in route.response_headers:
        headers[name] = {**RESPONSE_HEADERS[name], "required": True}
    return headers
