"""The gateway's input limits without a broker: every number a route takes is bounded (and
OpenAPI says so), JSON depth, token claims of the wrong type, the access log's redaction,
the refusals written before a route runs, and the request id on an unhandled error's log."""

import base64
import json
import logging
import math
import time

import jwt
import pytest
from marshmallow import fields

from gateway import openapi, problems
from gateway.app import MAX_JSON_DEPTH, json_depth, redacted_query
from gateway.protocol import REFUSALS, refusal
from gateway.routes import ROUTES
from gateway.tokens import TokenVerifier
from services.chassis.schemas import MAX_ID, MAX_INT
from services.identity.keys import SigningKeys, new_private_pem
from tests.support.clock import Clock

# -- every number a route accepts fits its column ------------------------------------------


def input_fields(schema, prefix=""):
    """(dotted name, field) of every field `schema` loads, nested ones included."""
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        yield prefix + name, field
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            yield from input_fields(inner.schema, f"{prefix}{name}.")


def bounds(field):
    low = [v.min for v in field.validators if getattr(v, "min", None) is not None and not hasattr(v, "equal")]
    high = [v.max for v in field.validators if getattr(v, "max", None) is not None and not hasattr(v, "equal")]
    return (max(low) if low else None), (min(high) if high else None)


def route_schemas():
    for route in ROUTES:
        for schema in (route.body, route.query):
            if schema is not None:
                yield route, schema


def test_every_number_and_date_a_route_accepts_has_a_range_that_fits_its_column():
    checked = 0
    for route, schema in route_schemas():
        for name, field in input_fields(schema):
            if not isinstance(field, fields.Number | fields.Date):
                continue
            low, high = bounds(field)
            where = f"{route.method} {route.path}: {name}"
            assert low is not None and high is not None, f"{where} has no range"
            if isinstance(field, fields.Integer):
                # an id may fill a BIGINT column; any other whole number an INTEGER column
                assert low >= -MAX_INT - 1 and high <= (MAX_ID if high == MAX_ID else MAX_INT), where
            elif isinstance(field, fields.Number):
                assert math.isfinite(low) and math.isfinite(high), where
            checked += 1
    assert checked >= 15


def test_the_ranges_are_in_the_openapi_document():
    document = openapi.build(ROUTES)
    schemas = document["components"]["schemas"]
    center = schemas["CenterCreate"]["properties"]
    assert (center["households_served"]["minimum"], center["households_served"]["maximum"]) == (0, 10_000_000)
    assert center["residents_served"]["maximum"] == 100_000_000
    assert center["floor_area_m2"]["maximum"] == 1_000_000
    assert center["parent_id"]["maximum"] == MAX_ID
    assert schemas["VenueCreate"]["properties"]["capacity"]["maximum"] == 100_000
    listing = document["paths"]["/api/v1/centers"]["get"]["parameters"]
    by_name = {p["name"]: p["schema"] for p in listing if p["in"] == "query"}
    assert (by_name["page"]["minimum"], by_name["page"]["maximum"]) == (1, 100_000)
    assert (by_name["page_size"]["minimum"], by_name["page_size"]["maximum"]) == (1, 200)
    assert by_name["within"]["maximum"] == MAX_ID


# -- JSON depth ------------------------------------------------------------------------------


def test_json_depth_counts_nested_arrays_and_objects_without_recursion():
    assert json_depth(None) == json_depth("x") == json_depth(3) == 0
    assert json_depth({}) == json_depth([]) == 1
    assert json_depth({"a": [1, {"b": [[]]}], "c": {}}) == 5
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert json_depth(deep) == 100_001
    assert MAX_JSON_DEPTH >= 8  # the contracts nest 3 deep


# -- tokens ----------------------------------------------------------------------------------

KEYS = SigningKeys(new_private_pem())


def signed(headers=None, **claims):
    base = {"iss": "wenming", "aud": "wenming-api", "exp": int(time.time()) + 60, "sub": "1", "role": "county_admin"}
    return jwt.encode(
        {**base, **claims}, KEYS.private_key, algorithm="EdDSA", headers={"kid": KEYS.kid, **(headers or {})}
    )


def forged_header(header):
    """A token whose header PyJWT would refuse to write."""
    token = signed()
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return encoded + token[token.index(".") :]


@pytest.mark.parametrize(
    "make_token",  # made when the test runs: one made at collection could expire before it
    [
        lambda: signed(
            exp=str(int(time.time()) + 60)
        ),  # PyJWT reads a numeric string; the cache compared it with a float
        lambda: signed(scope=True),
        lambda: signed(scope=2**70),
        lambda: signed(scope=0),
        lambda: signed(role=["county_admin"]),
        lambda: signed(sub=""),
        lambda: forged_header({"alg": "EdDSA", "kid": ["x"]}),
        lambda: forged_header({"alg": "EdDSA", "kid": {"a": 1}}),
    ],
)
def test_claims_of_the_wrong_type_are_refused_every_time(make_token):
    token = make_token()
    tokens = TokenVerifier(clock=Clock(time.time()))
    tokens.use_keys(KEYS.jwks())
    for _ in range(3):  # the second use used to come from the cache, and raise a TypeError
        with pytest.raises(problems.Problem) as refused:
            tokens.verify(token)
        assert refused.value.status == 401 and refused.value.code == "auth.token_invalid"


def test_well_typed_claims_still_verify():
    tokens = TokenVerifier(clock=Clock(time.time()))
    tokens.use_keys(KEYS.jwks())
    assert tokens.verify(signed(exp=time.time() + 60.5, scope=7)).scope_center_id == 7
    assert tokens.verify(signed(scope=None)).scope_center_id is None


# -- the access log --------------------------------------------------------------------------


def test_the_access_log_keeps_declared_query_values_and_nothing_that_looks_like_a_token():
    declared = frozenset({"q", "page", "level"})
    jwt_like = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    assert redacted_query("q=%E4%B8%9C&page=2", declared) == "q=%E4%B8%9C&page=2"
    assert redacted_query(f"access_token={jwt_like}&level=center", declared) == "access_token=***&level=center"
    assert redacted_query(f"q={jwt_like}", declared) == "q=***"
    assert redacted_query(f"{jwt_like}=1&a%0Ab=x", declared) == "***=***&***=***"
    assert "secret" not in redacted_query("password=secret", declared)


# -- refusals before a route, and the unhandled error's log line ----------------------------


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_refusals_before_a_route_are_problems_without_a_server_banner(code):
    status, detail = REFUSALS[code]
    head, _, body = refusal(code).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    assert lines[0].startswith(f"HTTP/1.1 {status} ")
    assert headers["content-type"] == "application/problem+json" and headers["connection"] == "close"
    assert headers["x-content-type-options"] == "nosniff" and "server" not in headers
    assert int(headers["content-length"]) == len(body)
    problem = json.loads(body)
    assert problem["code"] == code and problem["status"] == status and problem["detail"] == detail
    assert problem["request_id"] == headers["x-request-id"]


def test_an_unhandled_error_is_logged_with_the_request_id(caplog):
    with caplog.at_level(logging.ERROR, logger="gateway.problems"):
        problem = problems.to_problem(RuntimeError("boom"), "req-42")
    assert problem.status == 500
    [record] = [r for r in caplog.records if r.name == "gateway.problems"]
    assert "req-42" in record.getMessage() and record.exc_info is not None
