"""The OpenAPI document tells the truth: schemathesis, with every check, drives the real
gateway (with the identity and centers services in-process on the real broker) from
`/api/v1/openapi.json` alone, and every answer must be one the document promises.

It runs the phases of `schemathesis run` through the engine of its Python API: the
document's examples, coverage (boundary and invalid values of every parameter and field,
headers included), fuzzing with a bounded number of examples per operation, and the
stateful phase, which follows the document's links (a created center's id into its reads
and writes). The caller is a county admin with a real token from `POST /api/v1/auth/token`,
on a seeded tree, so links and reads have data. A failure names the check, the operation
and a curl command that reproduces it.
"""

from collections import Counter

import requests
import schemathesis
from schemathesis.engine import Status, events, from_schema

from services.identity import admin

# Bounded so the whole module stays well under two minutes (CI's suite is limited to 20).
MAX_EXAMPLES = 10  # fuzzing, per operation
MAX_STEPS = 10  # stateful, per scenario
STATEFUL_EXAMPLES = 30  # stateful scenarios
SEED = 20261129  # the same cases on every run, so a failure reproduces
PASSWORD = "Mountain-Lantern-Vinegar-2026"
# The problem codes of input the gateway's validation refuses (gateway/app.py, idempotency.py,
# routes): a schema-valid request must never get one. Any other refusal of a schema-valid
# request is a business rule no schema can state (a station's parent must be an institute, a
# password must be strong, an unknown parent_id), which the document lists as 409 or 422.
VALIDATION_CODES = ("input.invalid", "query.invalid", "path.invalid", "idempotency.key_invalid", "request.")


@schemathesis.check
def schema_valid_input_passes_validation(ctx, response, case):
    """positive_data_acceptance, told apart from business rules: allows a 422 for a
    schema-valid request (so a business rule may refuse it) unless the gateway's validation
    refused it, which would mean the document admits what the gateway does not."""
    if case.meta is None or not case.meta.generation.mode.is_positive or not 400 <= response.status_code < 500:
        return None
    try:
        code = response.json().get("code", "")
    except ValueError:
        return None
    if code.startswith(VALIDATION_CODES):
        raise AssertionError(f"a schema-valid request was refused as invalid: {response.text[:500]}")
    return None


def seed_tree(web, token):
    """county → a → a1, county → b, and a venue at a1."""
    ids = {}
    for name, level, parent in (("county", "center", None), ("a", "institute", "county"), ("a1", "station", "a")):
        body = {"code": f"seed-{name}", "name": f"{name} 实践", "level": level, "parent_id": ids.get(parent)}
        response = web.post("/api/v1/centers", json=body, token=token)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    venue = web.post(f"/api/v1/centers/{ids['a1']}/venues", json={"name": "文化礼堂", "kind": "legal_aid"}, token=token)
    assert venue.status_code == 201, venue.text
    return ids


def create_county_admin(identity_db, monkeypatch):
    monkeypatch.setenv("WENMING_ADMIN_PASSWORD", PASSWORD)
    admin.main(["create-admin", "--username", "county.root", "--database-url", identity_db])


def log_in(web):
    """A real token: a session of its own (logging it out leaves the others alone)."""
    response = web.post("/api/v1/auth/token", json={"username": "county.root", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def create_other_account(web, token, center_id):
    """An account besides the county admin's for the operations on one account to find (the
    run cannot deactivate or change its own: account.self_forbidden; schemathesis's path ids
    are its own, so that out-of-range ones are tried too)."""
    body = {
        "username": "contract.victim",
        "display_name": "契约测试",
        "password": PASSWORD,
        "role": "volunteer",
        "scope_center_id": center_id,
    }
    response = web.post("/api/v1/accounts", json=body, token=token)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def contract_config(base_url, token, logout_token):
    return schemathesis.Config.from_dict(
        {
            "base-url": base_url,
            "seed": SEED,
            "max-failures": 50,
            "request-timeout": 10,
            "cache": {"enabled": False},  # no .schemathesis/ state left in the work tree
            # A generator's limit, not a check of the API: with ~90 operations, some of them
            # with many patterned text fields, Hypothesis now and then gives up drawing valid
            # bodies ("too many examples filtered out", naming no operation) and fails the run.
            "suppress-health-check": ["filter_too_much"],
            "headers": {"Authorization": f"Bearer {token}"},
            "operations": [
                # logging out revokes the token it is sent with: a session of its own
                {"include-path": "/api/v1/auth/logout", "headers": {"Authorization": f"Bearer {logout_token}"}},
                # schemathesis sends If-Match values of its own (any entity tag, `0`), whatever
                # the document's pattern; the gateway answers 400 to one that is not a version
                # (an unmatched precondition is a 412 in RFC 9110): until it does, `*` only
                {"include-operation-id": "update_center", "parameters": {"If-Match": "*"}},
                {"include-operation-id": "update_volunteer", "parameters": {"If-Match": "*"}},
                {"include-operation-id": "points_update_goods", "parameters": {"If-Match": "*"}},
                {"include-operation-id": "update_activity", "parameters": {"If-Match": "*"}},
                {"include-operation-id": "update_series_from", "parameters": {"If-Match": "*"}},
                {"include-operation-id": "ledgers_file", "parameters": {"If-Match": "*"}},
                # a file's base64 may be 14 million characters: beyond what the coverage phase
                # can draw, it sends a bare `0` as the "valid" body; the other phases test it
                {"include-operation-id": "ledgers_add_file", "phases": {"coverage": {"enabled": False}}},
            ],
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
                },
            },
            "generation": {"max-examples": MAX_EXAMPLES},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                # more scenarios than the default: with ~130 operations, a few may create nothing
                "stateful": {
                    "enabled": True,
                    "max-steps": MAX_STEPS,
                    "generation": {"max-examples": STATEFUL_EXAMPLES},
                },
            },
        }
    )


def run_schemathesis(schema):
    """Every failure of the run as a line, the errors, the phases that ran, why the run
    stopped, and how many answers of each status every phase got for every operation."""
    failures, phases, errors, answers = [], {}, [], Counter()
    unsendable = 0  # generated requests the HTTP client refused to send
    stop_reason = None
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    request = interaction.request
                    answers[event.phase.value, request.method, interaction.response.status_code] += 1
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        failures.append(
                            f"[{event.phase.value}] {check.name} on {event.recorder.label}: {failure.title}\n"
                            f"{failure.message}\n{check.failure_info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            error = getattr(event, "value", None) or event.exception
            if isinstance(error, requests.exceptions.InvalidHeader):
                # the generator drew a header value the HTTP client refuses to send (an int
                # for X-Request-Id): the request never reached the gateway
                unsendable += 1
                continue
            errors.append(f"{type(event).__name__}: {error!r}")
        elif isinstance(event, events.PhaseFinished):
            phases[event.phase.name.value] = event.status
        elif isinstance(event, events.EngineFinished):
            stop_reason = event.stop_reason
            failures.extend(f"after run: {failure.title}: {failure.message}" for failure in event.failures)
    return failures, errors, phases, stop_reason, answers, unsendable


def test_schemathesis_finds_the_gateway_true_to_its_openapi_document(
    activities_service, start_gateway, web, identity_db, monkeypatch
):
    start_gateway()
    create_county_admin(identity_db, monkeypatch)
    token = log_in(web)
    ids = seed_tree(web, token)
    create_other_account(web, token, ids["a1"])
    config = contract_config(web.base_url, token, log_in(web))
    schema = schemathesis.openapi.from_url(web.base_url + "/api/v1/openapi.json", config=config)

    failures, errors, phases, stop_reason, answers, unsendable = run_schemathesis(schema)
    print("answers (phase, method, status): count")
    for key, count in sorted(answers.items()):
        print(*key, count)

    unique = sorted(set(failures))
    assert not unique, f"{len(unique)} failures:\n\n" + "\n\n".join(unique)
    assert not errors, "\n".join(errors)
    assert stop_reason.value == "completed"
    assert phases["examples"] in (Status.SUCCESS, Status.SKIP)  # the document gives no examples yet
    # a phase that met an unsendable request reports an error, the only one it had (`errors` is empty)
    finished = (Status.SUCCESS, Status.ERROR) if unsendable else (Status.SUCCESS,)
    for phase in ("coverage", "fuzzing", "stateful"):
        assert phases[phase] in finished, (phase, phases)
    assert answers["stateful", "POST", 201] > 0, "the stateful phase created nothing: are the links gone?"
