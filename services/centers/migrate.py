"""Bring the centers database to the latest schema: `python -m services.centers.migrate <url>`."""

from services.chassis.migrations import cli, migrator

upgrade = migrator(__file__)

if __name__ == "__main__":
    cli(upgrade, "services.centers.migrate")
