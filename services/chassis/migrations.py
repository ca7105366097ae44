"""Alembic, driven from code: each service keeps its own migrations folder and calls these.

A service's `migrations/env.py` is two lines:
    from services.chassis.migrations import run_env
    from services.<svc>.models import Base; run_env(Base.metadata)
and `services/<svc>/migrate.py` is `upgrade = migrator(__file__)` plus `cli(...)`.
"""

import sys
from functools import partial
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import create_engine, pool


def upgrade(script_location, database_url, revision="head"):
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)


def migrator(module_file):
    """`upgrade(database_url, revision="head")` for the `migrations/` folder beside module_file."""
    return partial(upgrade, Path(module_file).resolve().parent / "migrations")


def cli(upgrade_to, module_name):
    if len(sys.argv) != 2:
        sys.exit(f"usage: python -m {module_name} <database-url>")
    upgrade_to(sys.argv[1])


def run_env(target_metadata):
    url = context.config.attributes.get("database_url") or context.config.get_main_option("sqlalchemy.url")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def create_tables(metadata, names):
    """Create tables as `metadata` defines them: in a migration, for the chassis tables
    (outbox, processed_events, idempotency_keys), whose definition the chassis owns."""
    for name in names:
        metadata.tables[name].create(op.get_bind())


def drop_tables(metadata, names):
    for name in reversed(names):
        metadata.tables[name].drop(op.get_bind())
