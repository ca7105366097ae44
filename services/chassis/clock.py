"""The one clock of the chassis: timezone-aware UTC. Services pass `utcnow()` into their
domain functions, which never read a clock themselves."""

from datetime import UTC, datetime


def utcnow():
    return datetime.now(UTC)
