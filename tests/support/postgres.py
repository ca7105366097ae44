"""Throw-away PostgreSQL databases on the local server (trust auth)."""

import os
import uuid

import pg8000.native

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_USER = os.environ.get("TEST_PG_USER", "postgres")


def _admin():
    return pg8000.native.Connection(PG_USER, host=PG_HOST, database="postgres", timeout=30)


def create_database(prefix="wenming_test"):
    """A new empty database; returns its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    try:
        admin.run(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()
    return f"postgresql+pg8000://{PG_USER}@{PG_HOST}:5432/{name}"


def drop_database(url):
    name = url.rsplit("/", 1)[1]
    admin = _admin()
    try:
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
