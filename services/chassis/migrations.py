"""Alembic, driven from code: each service keeps its own migrations folder and calls these.

A service's `migrations/env.py` is two lines:
    from services.chassis.migrations import run_env
    from services.<svc>.models import Base; run_env(Base.metadata)
and `python -m services.<svc>.migrate <url>` calls `upgrade(<folder>, url)`.
"""
from alembic import command, context
from alembic.config import Config
from sqlalchemy import create_engine, pool


def upgrade(script_location, database_url, revision="head"):
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)


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
