"""Bring the activities database to the latest schema: `python -m services.activities.migrate <url>`."""

from services.chassis.migrations import cli, migrator

upgrade = migrator(__file__)

if __name__ == "__main__":
    cli(upgrade, "services.activities.migrate")
