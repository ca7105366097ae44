"""The reverse proxy's configuration parses and holds the limits the gateway holds itself."""

from pathlib import Path

import crossplane

from gateway.protocol import MAX_HEADER_BYTES
from gateway.routes import ROUTES

CONF = Path(__file__).resolve().parents[3] / "deploy" / "nginx" / "wenming.conf"


def directives(block, found=None):
    """Every directive of the file, nested ones included: name -> [args, ...]."""
    found = {} if found is None else found
    for directive in block:
        found.setdefault(directive["directive"], []).append(directive["args"])
        directives(directive.get("block", []), found)
    return found


def parsed():
    # the file is included in nginx's http block, so its directives' context is not checked
    payload = crossplane.parse(str(CONF), single=True, check_ctx=False, check_args=True)
    assert payload["status"] == "ok", payload["errors"]
    return directives(payload["config"][0]["parsed"])


def seconds(text):
    return int(text.removesuffix("s"))


def test_slow_and_idle_clients_are_timed_out_and_capped():
    found = parsed()
    assert seconds(found["client_header_timeout"][0][0]) <= 10
    assert seconds(found["client_body_timeout"][0][0]) <= 10
    assert seconds(found["keepalive_timeout"][0][0]) <= 5
    assert found["limit_conn"] and found["limit_req"]
    assert found["server_tokens"] == [["off"], ["off"]]


def test_the_proxy_lets_through_no_more_than_the_gateway_accepts():
    found = parsed()
    largest = max(route.max_body_bytes for route in ROUTES)
    assert found["client_max_body_size"] == [[f"{largest // (1024 * 1024)}m"]]
    [[_, size]] = found["large_client_header_buffers"]
    assert int(size.removesuffix("k")) * 1024 <= MAX_HEADER_BYTES
    # the client's address reaches the gateway's login limits (TRUSTED_PROXIES there)
    assert ["X-Forwarded-For", "$proxy_add_x_forwarded_for"] in found["proxy_set_header"]
