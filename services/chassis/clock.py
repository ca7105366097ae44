"""The one clock of the chassis: timezone-aware UTC. Services pass `utcnow()` into their
domain functions, which never read a clock themselves."""

from datetime import UTC, datetime


def utcnow():
    return datetime.now(UTC)


def iso(moment):
    """A UTC moment as events show it: ISO 8601 ending in Z (None stays None)."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
