"""Bring the gateway database to the latest schema: `python -m gateway.migrate <url>`."""
import sys
from pathlib import Path

from services.chassis import migrations

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def upgrade(database_url, revision="head"):
    migrations.upgrade(MIGRATIONS, database_url, revision)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m gateway.migrate <database-url>")
    upgrade(sys.argv[1])
