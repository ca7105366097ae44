"""Is a service's event contract still compatible with the one it released?

Seen from a consumer written against the released schemas: a change breaks it when an event
type it waits for is gone, when a field it reads may be absent, null, of another type, out
of the released bounds, or no longer sends a value it handles, or when an object it reads
is closed to the fields the policy lets producers add. New event types, new fields, new
enum values and stricter bounds are additive (docs/events.md, "Compatibility").

Released contracts are JSON files, `docs/events/released/<service>.json` ({type: schema});
`python -m services.chassis.event_compat release <service>` writes one from
`services.<service>.contract.EVENT_SCHEMAS`, and refuses to if the change breaks consumers.
"""

import argparse
import importlib
import json
import sys
from pathlib import Path

RELEASED = Path(__file__).resolve().parents[2] / "docs" / "events" / "released"

# bounds a consumer relies on: lowering a lower one or raising an upper one lets new values through
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems")
EXACT = ("format", "pattern", "const", "multipleOf")  # another one is another set of values


def breaking_changes(released, current):
    """Why `current` ({type: JSON Schema of data}) breaks consumers of `released`; [] if it does not."""
    reasons = []
    for event_type in sorted(released):
        if event_type not in current:
            reasons.append(f"{event_type}: the event type is no longer published")
        else:
            reasons.extend(
                f"{event_type}: {reason}" for reason in _value(released[event_type], current[event_type], "data")
            )
    return reasons


def _value(released, current, path):
    released_branches, current_branches = _branches(released), _branches(current)
    reasons = []
    if _admits_null(current_branches) and not _admits_null(released_branches):
        reasons.append(f"{path} may now be null")
    for branch in current_branches:
        types = _types(branch)
        if types == {"null"}:
            continue
        matching = [old for old in released_branches if _covers(_types(old), types)]
        if not matching:
            reasons.append(f"{path} may now be of type {'/'.join(sorted(types)) if types else 'any'}")
        else:
            reasons.extend(_same_kind(matching[0], branch, path))
    return reasons


def _same_kind(released, current, path):
    reasons = []
    if "enum" in released:
        if "enum" not in current:
            reasons.append(f"{path} is no longer one of {released['enum']}")
        else:
            gone = [value for value in released["enum"] if value not in current["enum"]]
            if gone:
                reasons.append(f"{path} is no longer sent as {gone}")
    for keyword in LOWER_BOUNDS + UPPER_BOUNDS + EXACT:
        if keyword in released and _loosened(keyword, released[keyword], current.get(keyword)):
            now = f"became {current[keyword]!r}" if keyword in current else "was dropped"
            reasons.append(f"{path}: {keyword} {released[keyword]!r} {now}")
    if released.get("uniqueItems") and not current.get("uniqueItems"):
        reasons.append(f"{path} may now repeat items")
    if "items" in released:
        reasons.extend(_value(released["items"], current.get("items", {}), f"{path}[]"))
    return reasons + _object(released, current, path)


def _loosened(keyword, released, current):
    if current is None:
        return True
    if keyword in LOWER_BOUNDS:
        return current < released
    if keyword in UPPER_BOUNDS:
        return current > released
    return current != released


def _object(released, current, path):
    old, new = released.get("properties", {}), current.get("properties", {})
    reasons = []
    for name in old:
        where = f"{path}.{name}"
        if name not in new:
            reasons.append(f"{where} was removed")
            continue
        if name in released.get("required", ()) and name not in current.get("required", ()):
            reasons.append(f"{where} may now be absent")
        reasons.extend(_value(old[name], new[name], where))
    closed_before, closed_now = (
        released.get("additionalProperties") is False,
        current.get("additionalProperties") is False,
    )
    if closed_now and not closed_before and ("properties" in released or "properties" in current):
        reasons.append(f"{path} is closed to new fields (additionalProperties false)")
    if closed_before and (not closed_now or set(new) - set(old)):
        reasons.append(f"{path} may now carry fields the released schema refused")
    return reasons


def _branches(schema):
    """The alternatives of a schema, nested anyOf flattened (a nullable field has two)."""
    if "anyOf" not in schema:
        return [schema]
    return [branch for alternative in schema["anyOf"] for branch in _branches(alternative)]


def _admits_null(branches):
    return any("null" in _types(branch) for branch in branches)


def _types(schema):
    """The JSON types a (non-anyOf) schema admits; the empty set stands for any."""
    declared = schema.get("type")
    if declared is not None:
        return set(declared) if isinstance(declared, list) else {declared}
    if "enum" in schema:
        return {_json_type(value) for value in schema["enum"]}
    return set()


def _json_type(value):
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def _covers(released_types, current_types):
    if not released_types:
        return True
    if not current_types:
        return False
    widened = released_types | ({"integer"} if "number" in released_types else set())
    return current_types - {"null"} <= widened


# --- the released snapshots -----------------------------------------------------------------


def released_path(service):
    return RELEASED / f"{service}.json"


def load_released(service):
    return json.loads(released_path(service).read_text(encoding="utf-8"))


def current_schemas(service):
    """The event schemas a service publishes now: its contract's EVENT_SCHEMAS (by name, so that
    the chassis imports no service)."""
    return importlib.import_module(f"services.{service}.contract").EVENT_SCHEMAS


def release(service, force=False):
    """Write the service's current schemas as its released contract; refuse a breaking change
    unless `force` (only for a contract no consumer has seen yet). Returns the reasons found."""
    current = current_schemas(service)
    path = released_path(service)
    reasons = breaking_changes(load_released(service), current) if path.exists() else []
    if reasons and not force:
        return reasons
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return reasons


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m services.chassis.event_compat", description="Record a service's event schemas as released."
    )
    parser.add_argument("command", choices=["release"])
    parser.add_argument("service", help="its contract is services.<service>.contract")
    parser.add_argument("--force", action="store_true", help="write even a breaking change (never released yet)")
    args = parser.parse_args(argv)
    reasons = release(args.service, force=args.force)
    for reason in reasons:
        print(f"breaking: {reason}", file=sys.stderr)
    if reasons and not args.force:
        print("not released: publish the change as a new type or schema version (docs/events.md)", file=sys.stderr)
        return 1
    print(f"wrote {released_path(args.service).relative_to(RELEASED.parents[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
