"""Every registered service's migrations build exactly its models, on SQLite and PostgreSQL."""

import importlib

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from nameko.cli.utils.import_services import import_services

from services.registry import SERVICES


@pytest.mark.parametrize("service", [s for s in SERVICES if s.has_database], ids=lambda s: s.name)
def test_migrations_build_exactly_the_models(service, database_url):
    importlib.import_module(service.migrations).upgrade(database_url)
    (service_class,) = import_services(service.entrypoint)
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), service_class.db.metadata)
    finally:
        engine.dispose()
    assert differences == []
