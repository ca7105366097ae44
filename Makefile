# Wenming: `make run` starts the whole system on this machine, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run lint test test-unit test-faults bench bench-activities deploy-files

# The CJK font certificates are printed in (services/volunteers/certificates/), from Debian.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

install: $(STAMP) node_modules/.installed $(CJK_FONT)

$(CJK_FONT):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependencies change.
$(STAMP): $(PY) pyproject.toml requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $@

# Redocly CLI, which lints the OpenAPI document (tests/unit/gateway/test_openapi_lint.py):
# exactly as package-lock.json pins it, reinstalled only when it changes.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: install
	$(PY) deploy/local/launcher.py

# ruff's linter and formatter (configured in pyproject.toml); `make test` runs them first.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Two pytest processes: the eventlet world (nameko in-process), then the asyncio world
# (tests/edge); see tests/conftest.py.
# Each test is bounded by pytest-timeout (pyproject.toml), each run as a whole by RUN_LIMIT.
RUN_LIMIT := timeout --kill-after=30 1200

test: lint
	$(RUN_LIMIT) $(VENV)/bin/pytest
	WENMING_TEST_WORLD=asyncio $(RUN_LIMIT) $(VENV)/bin/pytest tests/edge

# The pure tests only: no broker, no database, a few seconds.
test-unit: install
	$(VENV)/bin/pytest tests/unit

# Only the tests that restart the local RabbitMQ application (they run in `make test` too).
test-faults: install
	$(VENV)/bin/pytest -m broker_restart
	WENMING_TEST_WORLD=asyncio $(VENV)/bin/pytest tests/edge -m broker_restart

# wrk is a Debian package; without it the benchmark falls back to its Python load generator.
bench: install
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
		|| echo "wrk could not be installed: using the Python load generator"
	$(PY) -m bench.gateway_read
	$(PY) -m bench.volunteer_import

# The activities service's (issue 10), beside `bench`: a flash crowd of sign-ups, attendance to
# hours credited, and its reads against the same floors, with wrk once `make bench` installed it
# (bench/activities.py; about ten minutes).
bench-activities: install
	$(PY) -m bench.activities

# The deploy files (compose, Prometheus, initdb, the Dockerfile's EXPOSE) from services/registry.py.
deploy-files: install
	$(PY) -m deploy.render
