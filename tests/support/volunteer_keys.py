"""The volunteers service's keys for tests: one fresh set per test session, made the way
`make run` makes them (services/volunteers/secrets.py)."""

from services.volunteers.secrets import new_secrets

KEYS = new_secrets()
