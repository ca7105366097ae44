"""What tests share, written once: waiting, free ports, private vhosts, PostgreSQL databases,
services started in-process, the chassis test services and the actors commands carry.

Fixtures built on these live in tests/conftest.py."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
