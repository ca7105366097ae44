"""Bring the gateway database to the latest schema: `python -m gateway.migrate <url>`."""

from services.chassis.migrations import cli, migrator

upgrade = migrator(__file__)

if __name__ == "__main__":
    cli(upgrade, "gateway.migrate")
