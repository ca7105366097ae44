"""Fixtures of the chassis tests: the notes database the test services use."""

import pytest

from services.chassis.db import Store
from tests.support.notes import Base


@pytest.fixture
def notes_db(database_url):
    store = Store(database_url, Base.metadata, source="notes")
    Base.metadata.create_all(store.engine)
    store.dispose()
    return database_url
