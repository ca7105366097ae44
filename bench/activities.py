"""The activities service through the gateway (issue 10): a flash crowd of sign-ups, attendance
flowing to hours credited, and the reads against the `make bench` floors (`make bench-activities`).

    python -m bench.activities [--part signups|attendance|reads|all] [--database postgresql|sqlite]
        [--volunteers 1000] [--seats 100] [--max-connections N]                          # signups
        [--activities 100] [--per-activity 100] [--batch 100] [--confirm-concurrency 4]  # attendance
        [--duration 6] [--warmup 2] [--rounds 2] [--concurrency 16] [--python-load]      # reads

Starts the real system through the launcher's `System` (as bench/gateway_read.py does) on free
ports and a RabbitMQ vhost of its own, with the activities and volunteers services on fresh
PostgreSQL databases (`--database sqlite`: SQLite files, as identity's and centers' always
are here), without the demo data: a county, an institute and a station are made over RPC, and
the demo administrator (a county administrator) is the organizer. People are made in bulk the
way the gateway tests' fixtures make them (tests/integration/gateway/conftest.py `add_account`,
`volunteer_of`), so that no password is hashed: identity accounts of role volunteer written
straight into identity's database with their `account.changed` events in its outbox, volunteer
records likewise into the volunteers database with `volunteer.registered`; the running
services' relays publish them, the gateway learns the accounts, the activities service copies
the volunteers, and tokens are minted with the system's signing key. A part measures once the
gateway accepts the tokens and the copies are there. `--part all` (the default) runs reads,
sign-ups, then attendance, on one system: writes last, since the events they leave behind
would slow what is measured after them.

(a) signups: `--volunteers` (1,000) volunteers sign up for one published activity of `--seats`
    (100) seats, `POST /api/v1/activities/{id}/signup`, each with its own token, all at once:
    an asyncio HTTP/1.1 client on asyncio streams (nothing to install, and one thread: 1,000
    threads would mostly wait for the GIL and skew the send times) opens every connection,
    then writes every request in one pass of its event loop. Printed: sign-ups/s (the count
    over the time from the first request written to the last response read), p50 and p99
    latency, the count of each status code and problem code, and the outcome read back from
    the organizer's roster: exactly `--seats` confirmed, the rest waitlisted, positions 1..n
    unique, the confirmed the lowest positions, waitlist positions 1..m in arrival order.
    `--max-connections` sets the gateway's MAX_CONNECTIONS (default: its own, 1,000, which
    counts the connection asking too).
(b) attendance: `--activities` (100) activities of `--per-activity` (100) volunteers each
    (10,000 attendances) created and published through the gateway; the sign-ups written
    straight into the activities database with the service's model, seat counts to match (no
    sign-up events); the activities started through the gateway (`start`: they begin in 30
    minutes); then attendance confirmed through the gateway, `POST
    /api/v1/activities/{id}/attendance`, `--batch` (≤ 500) volunteers a request,
    `--confirm-concurrency` requests in flight. Measured from the databases: each attendance's
    `attendance_confirmed_at` (its `attendance.confirmed` event's `confirmed_at`), when the
    activities relay recorded that event published (its outbox's `sent_at`), and when the
    volunteers service wrote the hour entry (`hour_entries.created_at`). Printed: events/s
    (attendances / (last credited − first confirmed)), p50, p99 and max of the lag, split at
    the publication, how many were credited (hour and point entries), the confirmations'
    own rate and latency, and the time to drain (last confirmation answered → last entry).
(c) reads: the gateway's `GET /api/v1/activities/{id}` and `GET /api/v1/activities?page_size=20`,
    a volunteer's, among 25 published activities, against the floors `make bench` measures,
    started the same way (bench/gateway_read.py `start_baselines`: bare ASGI, bare nameko
    `@http`, nameko `@http` → RPC, ASGI → RPC), each point `--warmup` s of load then the best
    of `--rounds` × `--duration` s, with wrk (the Python load generator without it or with
    `--python-load`), at each `--concurrency`; the ratios of the gateway to each floor.

Beside each figure, the issue's target as PASS/BELOW, never asserted: (a) ≥ 300 sign-ups/s,
p99 < 1 s, no error response; (b) ≥ 1,000 events/s, p99 lag < 2 s, every attendance credited;
(c) each read ≥ 2× the nameko `@http` → RPC floor. Where the time went, over each measured
phase: cores busy on average for each service process, PostgreSQL's and RabbitMQ's processes,
this script (with wrk), the machine, and the rest ("others": other work on the machine, the
kernel's); how long each service process waited, runnable, for a core (/proc schedstat); each
nameko service's entrypoint calls with their mean latency and the events its relay published
(their /metrics); and, on PostgreSQL, what the services' sessions were doing (pg_stat_activity
sampled every 20 ms: running a statement, waiting on a lock, in a transaction waiting for the
service, idle). Results: bench/results/activities-<part>-<time>.json. Everything started is
stopped by PID; the databases and the vhost are dropped. Not a test: the load shares the
machine's cores with the services, the broker and the database.
"""

import argparse
import asyncio
import json
import logging
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

from bench.gateway_read import (
    FLOORS,
    RESULTS_DIR,
    Bench,
    Request,
    bench_system,
    points_table,
    ratio,
    run_python_load,
    run_wrk,
    say,
    start_baselines,
    times,
    wait_for_200,
)
from bench.volunteer_import import call_until_bound, center
from deploy.local.launcher import DEMO_PASSWORD, DEMO_USERNAME, GATEWAY, SEED_ACTOR, stop_process
from services.activities.catalog.models import ActivitySeats
from services.activities.contract.signups import ATTENDANCE_CONFIRMED
from services.activities.roster.models import VolunteerCopy
from services.activities.service import ActivitiesService
from services.activities.signups.models import Signup
from services.chassis.actors import VOLUNTEER
from services.chassis.clock import iso, utcnow
from services.chassis.db import Store, insert_rows
from services.identity.contract import ACCOUNT_CHANGED, account_state
from services.identity.keys import SigningKeys, issue_token
from services.identity.models import Account
from services.identity.models import Base as IdentityBase
from services.registry import SERVICES
from services.volunteers.contract.registration import VOLUNTEER_REGISTERED
from services.volunteers.hours.models import HourEntry
from services.volunteers.models import Volunteer
from services.volunteers.points.models import PointEntry
from services.volunteers.service import VolunteersService
from services.volunteers.views import event_data as volunteer_event_data
from tests.support.broker import private_vhost
from tests.support.postgres import create_database, drop_database

SIGNUPS, ATTENDANCE, READS = "signups", "attendance", "reads"
PARTS = (READS, SIGNUPS, ATTENDANCE)  # the order of `--part all`: writes last
TARGET_SIGNUPS_PER_SECOND, TARGET_SIGNUP_P99 = 300, 1.0
TARGET_EVENTS_PER_SECOND, TARGET_LAG_P99 = 1000, 2.0
TARGET_READ_RATIO, READ_FLOOR = 2.0, "rpc-baseline"  # the nameko @http → RPC floor
READ_ACTIVITIES = 25  # published, for the list page of 20
LIST_QUERY = "?page_size=20"
ROSTER_PAGE = 200  # the roster route's largest page
MAX_BATCH = 500  # attendances one confirmation may name (contract/signups.py)
TOKEN_TTL = 4 * 3600
WAIT_SECONDS = 180  # for copies, accounts and credits to arrive
STALL_SECONDS = 60  # no credit for this long: give up waiting
REQUEST_TIMEOUT = 60
CONNECTION_CAP_HINT = (
    "  (http.too_many_connections: the gateway's MAX_CONNECTIONS counts every open connection, the one asking"
    " included, so 1,000 at once exceed the default 1,000; --max-connections 1100 measures past it)"
)
SAMPLE_SECONDS = 0.02  # pg_stat_activity, while a phase runs
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- an HTTP/1.1 client on asyncio streams ---------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Answer:
    status: int | None  # None: no HTTP answer (`error` says why)
    body: bytes
    sent: float  # time.time() when the request was written
    answered: float
    error: str | None = None

    @property
    def latency(self):
        return self.answered - self.sent

    def json(self):
        return json.loads(self.body)


async def exchange(host, port, connection, call):
    """Write `call` on `connection` (reader, writer), read its answer, close (one request per
    connection: `Connection: close`)."""
    reader, writer = connection
    head = [f"{call.method} {call.path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(call.body)}"]
    head += [f"{name}: {value}" for name, value in call.headers.items()] + ["Connection: close", "", ""]
    sent = time.time()
    try:
        writer.write("\r\n".join(head).encode() + call.body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT)
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:] if line)
        }
        length = headers.get("content-length")
        body = await (reader.readexactly(int(length)) if length is not None else reader.read())
        return Answer(status, body, sent, time.time())
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
        return Answer(None, b"", sent, time.time(), f"{type(exc).__name__}: {exc}")
    finally:
        writer.close()


async def all_at_once(host, port, calls):
    """Open a connection per call, then write every request in one pass of the event loop."""
    connections = await asyncio.gather(*(asyncio.open_connection(host, port) for _ in calls))
    go = asyncio.Event()

    async def one(connection, call):
        await go.wait()
        return await exchange(host, port, connection, call)

    tasks = [asyncio.create_task(one(connection, call)) for connection, call in zip(connections, calls, strict=True)]
    await asyncio.sleep(0.1)  # every task waits on `go`
    go.set()
    return await asyncio.gather(*tasks)


async def at_most(host, port, calls, in_flight):
    """Every call, `in_flight` at a time, in order."""
    slots = asyncio.Semaphore(in_flight)

    async def one(call):
        async with slots:
            return await exchange(host, port, await asyncio.open_connection(host, port), call)

    return await asyncio.gather(*(one(call) for call in calls))


# --- figures -----------------------------------------------------------------------------


def p50_p99(values):
    if len(values) < 2:
        return (values[0], values[0]) if values else (float("nan"), float("nan"))
    cuts = statistics.quantiles(values, n=100)
    return cuts[49], cuts[98]


def verdict(passed):
    return "PASS" if passed else "BELOW"


def ms(seconds):
    return f"{seconds * 1e3:.0f} ms"


def cpu_seconds(pid):
    """User + system CPU seconds of process `pid` so far (0 when it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def pids_named(command):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == command:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def run_queue_seconds(pid):
    """Seconds the threads of process `pid` have waited for a CPU, runnable (schedstat)."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[1])
    except OSError:
        pass
    return total / 1e9


def machine_busy_seconds():
    """CPU seconds the whole machine spent busy (not idle, not waiting on I/O) so far."""
    values = [int(n) for n in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


class CpuMeter:
    """Where the CPU goes over a phase: each service process (by PID), PostgreSQL's and
    RabbitMQ's processes (by name: PostgreSQL's backends that exit meanwhile are missed),
    this script, the machine as a whole, and what of it none of these explains ("others");
    and how long each service process waited, runnable, for a core."""

    def __init__(self, pids):
        self.pids = pids

    def _now(self):
        seconds = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        seconds.update({f"{name} run queue": run_queue_seconds(pid) for name, pid in self.pids.items()})
        seconds["postgresql"] = sum(cpu_seconds(pid) for pid in pids_named("postgres"))
        seconds["rabbitmq"] = sum(cpu_seconds(pid) for pid in pids_named("beam.smp"))
        seconds["this script (and wrk)"] = sum(os.times()[:4])  # children once they exited: wrk's runs
        seconds["machine"] = machine_busy_seconds()
        return time.monotonic(), seconds

    def start(self):
        self._started = self._now()

    def stop(self):
        """({name: cores busy on average}, {name: cores' worth waited for}) since start()."""
        (began, before), (ended, after) = self._started, self._now()
        cores = {name: max(0.0, after[name] - before.get(name, 0.0)) / (ended - began) for name in after}
        waited = {name.removesuffix(" run queue"): cores.pop(name) for name in list(cores) if name.endswith(" queue")}
        cores["others"] = max(0.0, cores["machine"] - sum(value for name, value in cores.items() if name != "machine"))
        return cores, waited


class PgSampler:
    """What a service's PostgreSQL sessions are doing, sampled every SAMPLE_SECONDS in a thread
    of its own while a phase runs: running a statement, waiting on a lock, in a transaction
    waiting for the service (the service's Python between statements), idle. Averages of
    sessions per sample."""

    QUERY = sa.text(
        "SELECT state, wait_event_type FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )

    def __init__(self, store):
        self.store, self.counts, self.samples = store, Counter(), 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        with self.store.engine.connect() as connection:
            while not self._stop.wait(SAMPLE_SECONDS):
                for state, wait in connection.execute(self.QUERY):
                    if state == "active":
                        self.counts["waiting on a lock" if wait == "Lock" else "running a statement"] += 1
                    elif state and state.startswith("idle in transaction"):
                        self.counts["in a transaction, waiting for the service"] += 1
                    else:
                        self.counts["idle"] += 1
                self.samples += 1
                connection.rollback()

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()
        return {what: round(n / self.samples, 2) for what, n in self.counts.items()} if self.samples else {}


LATENCY = re.compile(r'^wenming_entrypoint_latency_seconds_(sum|count)\{[^}]*method="([^"]+)"[^}]*\} (\S+)$', re.M)
PUBLISHED = re.compile(r"^wenming_outbox_published_total\{[^}]*\} (\S+)$", re.M)


def entrypoint_totals(metrics_url):
    """{method: [calls, seconds]} of a nameko service's entrypoints so far, and "(relay)":
    [events published, 0], from its /metrics."""
    text = requests.get(metrics_url, timeout=5).text
    totals = {"(relay)": [sum(float(n) for n in PUBLISHED.findall(text)), 0.0]}
    for kind, method, value in LATENCY.findall(text):
        totals.setdefault(method, [0.0, 0.0])[0 if kind == "count" else 1] += float(value)
    return totals


class Observer:
    """Where the time goes while a phase runs: the CPU (CpuMeter), the sessions of the given
    services' PostgreSQL databases (PgSampler), and each nameko service's entrypoint calls
    with their mean latency and the events its relay published (its /metrics)."""

    def __init__(self, setup, databases=(), extra=None):
        system = setup.system
        self.cpu = CpuMeter({name: process.pid for name, process in {**system.processes, **(extra or {})}.items()})
        stores = {name: getattr(setup, name) for name in databases}
        self.samplers = {name: PgSampler(store) for name, store in stores.items() if store.is_postgresql}
        self.metrics = {s.name: system.metrics_url(s.name) for s in SERVICES if s.runs_on_nameko}
        self.figures = {}

    def __enter__(self):
        self._before = {name: entrypoint_totals(url) for name, url in self.metrics.items()}
        self.cpu.start()
        for sampler in self.samplers.values():
            sampler.start()
        return self

    def __exit__(self, *exc_info):
        cores, waited = self.cpu.stop()
        sessions = {name: sampler.stop() for name, sampler in self.samplers.items()}
        calls = {}
        for name, url in self.metrics.items():
            after, before = entrypoint_totals(url), self._before[name]
            for method, (count, seconds) in after.items():
                done = count - before.get(method, (0, 0))[0]
                if done:
                    spent = seconds - before.get(method, (0, 0))[1]
                    calls.setdefault(name, {})[method] = {"calls": int(done), "mean_seconds": round(spent / done, 4)}
        self.figures = {"cpu_cores": cores, "waiting_for_a_core": waited, "sessions": sessions, "entrypoints": calls}

    def lines(self):
        def ranked(values):
            items = sorted(values.items(), key=lambda kv: -kv[1])
            return ", ".join(f"{name} {value:.2f}" for name, value in items if value >= 0.005)

        found = [
            f"CPU, cores busy on average (of {os.cpu_count()}): {ranked(self.figures['cpu_cores'])}",
            f"runnable but waiting for a core, on average: {ranked(self.figures['waiting_for_a_core']) or 'none'}",
        ]
        for service, methods in self.figures["entrypoints"].items():
            shown = "; ".join(
                f"{method} {m['calls']}" + ("" if method == "(relay)" else f" × {ms(m['mean_seconds'])}")
                for method, m in methods.items()
            )
            found.append(f"{service} (calls × mean latency; events the relay published): {shown}")
        for service, averages in self.figures["sessions"].items():
            shown = ", ".join(f"{what} {n:.2f}" for what, n in sorted(averages.items(), key=lambda kv: -kv[1]))
            found.append(f"{service}'s PostgreSQL sessions, on average: {shown}")
        return found


# --- the system and its people -----------------------------------------------------------


@dataclass(frozen=True)
class Person:
    account_id: int
    volunteer_id: int
    token: str

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}


class Setup:
    """The running system as the parts use it: the gateway's address, the organizer's token,
    a station, and the services' databases (to make people and read outcomes)."""

    def __init__(self, system):
        self.system = system
        self.host, self.port = system.host, system.http_ports[GATEWAY]
        urls = system.database_urls
        self.identity = Store(urls["identity"], IdentityBase.metadata, source="identity")
        self.volunteers = Store(urls["volunteers"], VolunteersService.db.metadata, source="volunteers")
        self.activities = Store(urls["activities"], ActivitiesService.db.metadata, source="activities")
        self.keys = SigningKeys(Path(system._signing_key_file()).read_text())
        self.web = requests.Session()
        with system.rpc() as client:
            county = call_until_bound(lambda: client.centers.create_center(center("center", None), SEED_ACTOR))
            institute = client.centers.create_center(center("institute", county["id"]), SEED_ACTOR)
            self.station_id = client.centers.create_center(center("station", institute["id"]), SEED_ACTOR)["id"]
        login = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
        token = self.api("POST", "/api/v1/auth/token", 200, headers={}, json=login)["access_token"]
        self.admin = {"Authorization": f"Bearer {token}"}

    def close(self):
        self.web.close()
        for store in (self.identity, self.volunteers, self.activities):
            store.dispose()

    def api(self, method, path, expected, headers=None, **kwargs):
        """One call of the set-up or the checks; a 503 (the gateway's circuit breaker, open for a
        while after a backend's timeouts) is retried for a while."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            response = self.web.request(
                method,
                self.system.gateway_url + path,
                headers=self.admin if headers is None else headers,
                timeout=30,
                **kwargs,
            )
            if response.status_code != 503 or time.monotonic() > deadline:
                break
            time.sleep(1)
        if response.status_code != expected:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def people(self, count, label):
        """`count` volunteers with accounts, known to the gateway and to the activities service."""
        now = utcnow()
        with self.identity.unit_of_work() as uow:
            accounts = [
                Account(
                    username=f"bench-{label}-{n}",
                    password_hash="!no-login",
                    role=VOLUNTEER,
                    scope_center_id=None,
                    display_name=f"压测志愿者{label}{n}",
                    active=True,
                    created_at=now,
                    version=1,
                )
                for n in range(count)
            ]
            uow.session.add_all(accounts)
            uow.flush()
            changed = [(str(a.id), account_state(a.id, 1, True, VOLUNTEER, None)) for a in accounts]
            uow.emit_many(ACCOUNT_CHANGED, changed)
            account_ids = [account.id for account in accounts]
        with self.volunteers.unit_of_work() as uow:
            volunteers = [
                Volunteer(
                    volunteer_number=f"BENCH-{label}-{n:06d}",
                    account_id=account_id,
                    name=f"压测志愿者{label}{n}",
                    skills=[],
                    service_categories=[],
                    available_times=[],
                    home_station_id=self.station_id,
                    status="active",
                    channel="staff",
                    registered_by="bench",
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
                for n, account_id in enumerate(account_ids)
            ]
            uow.session.add_all(volunteers)
            uow.flush()
            registered = [(str(v.id), {**volunteer_event_data(v), "channel": "staff"}) for v in volunteers]
            uow.emit_many(VOLUNTEER_REGISTERED, registered)
            volunteer_ids = [volunteer.id for volunteer in volunteers]
        issued = int(time.time())
        people = [
            Person(account_id, volunteer_id, issue_token(self.keys, account_id, VOLUNTEER, None, TOKEN_TTL, issued))
            for account_id, volunteer_id in zip(account_ids, volunteer_ids, strict=True)
        ]
        self._wait_for_copies(volunteer_ids)
        for person in (people[0], people[-1]):  # identity's relay publishes in order: all are known
            self._wait_until_accepted(person)
        return people

    def _wait_for_copies(self, volunteer_ids):
        counting = sa.select(sa.func.count()).where(VolunteerCopy.volunteer_id.in_(volunteer_ids))
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            with self.activities.read() as session:
                copied = session.scalar(counting)
            if copied == len(volunteer_ids):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the activities service copied {copied} of {len(volunteer_ids)} volunteers")
            time.sleep(0.2)

    def _wait_until_accepted(self, person):
        """Until the gateway knows the person's account (from its `account.changed` event)."""
        me, deadline = self.system.gateway_url + "/api/v1/me", time.monotonic() + WAIT_SECONDS
        while self.web.get(me, headers=person.headers, timeout=10).status_code == 401:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the gateway never learnt account {person.account_id}")
            time.sleep(0.1)

    def new_activity(self, title, capacity):
        """A published activity starting in 30 minutes (it may be started now), as the
        organizer creates it through the gateway."""
        starts = utcnow() + timedelta(minutes=30)
        body = {
            "title": title,
            "platform": "education",
            "organizer_center_id": self.station_id,
            "place": "城关镇新时代文明实践所",
            "latitude": 37.687,
            "longitude": 112.752,
            "starts_at": iso(starts),
            "ends_at": iso(starts + timedelta(hours=2)),
            "capacity": capacity,
            "hours": 2,
            "points_rule": {"kind": "per_hour", "rate": 10},
        }
        activity = self.api("POST", "/api/v1/activities", 201, json=body)
        return self.api("POST", f"/api/v1/activities/{activity['id']}/publish", 200)

    def roster(self, activity_id):
        """Every sign-up of the activity, from the organizer's route, in position order."""
        items, page = [], 1
        while True:
            query = f"?page={page}&page_size={ROSTER_PAGE}"
            found = self.api("GET", f"/api/v1/activities/{activity_id}/signups{query}", 200)
            items += found["items"]
            if len(items) >= found["total"] or not found["items"]:
                return items
            page += 1


# --- (a) a flash crowd of sign-ups ---------------------------------------------------------


def outcome_of(roster, seats, answered_ids):
    """What the roster shows against the rule: `seats` confirmed, the rest waitlisted in
    arrival order; and against the answers: every volunteer answered 201 on it (`answered_ids`)."""
    positions = [item["position"] for item in roster]
    confirmed = sorted(item["position"] for item in roster if item["status"] == "confirmed")
    waitlisted = sorted((item for item in roster if item["status"] == "waitlisted"), key=lambda item: item["position"])
    statuses = Counter(item["status"] for item in roster)
    checks = {
        f"{seats} confirmed": statuses["confirmed"] == seats,
        f"{len(roster) - seats} waitlisted": statuses["waitlisted"] == len(roster) - seats,
        f"positions 1..{len(roster)} unique": sorted(positions) == list(range(1, len(roster) + 1)),
        "confirmed = the lowest positions": confirmed == list(range(1, len(confirmed) + 1)),
        "waitlist 1..m in arrival order": [item["waitlist_position"] for item in waitlisted]
        == list(range(1, len(waitlisted) + 1)),
        "every sign-up answered 201 on the roster": answered_ids <= {item["volunteer_id"] for item in roster},
    }
    return dict(statuses), checks


def signups(setup, args):
    say(f"(a) {args.volunteers} volunteers, one activity of {args.seats} seats:")
    began = time.monotonic()
    activity = setup.new_activity("压测：周末课堂报名", args.seats)
    people = setup.people(args.volunteers, "a")
    say(f"  set-up: {len(people)} accounts, volunteers and tokens in {time.monotonic() - began:.1f} s")
    path = f"/api/v1/activities/{activity['id']}/signup"
    calls = [Call("POST", path, person.headers) for person in people]
    with Observer(setup, ["activities"]) as observed:
        answers = asyncio.run(all_at_once(setup.host, setup.port, calls))
    first, last = min(a.sent for a in answers), max(a.answered for a in answers)
    rate = len(answers) / (last - first)
    p50, p99 = p50_p99([a.latency for a in answers])
    codes = Counter(str(a.status) if a.status else a.error.split(":")[0] for a in answers)
    # a sign-up's status, or the problem's code
    answered = Counter(a.json()["status"] if a.status == 201 else a.json().get("code") for a in answers if a.status)
    signed_up = {a.json()["volunteer_id"] for a in answers if a.status == 201}
    statuses, checks = outcome_of(setup.roster(activity["id"]), args.seats, signed_up)
    errors = sum(n for code, n in codes.items() if code != "201")
    lines = [
        f"  sign-ups/s: {rate:.0f}  (target ≥ {TARGET_SIGNUPS_PER_SECOND}: "
        f"{verdict(rate >= TARGET_SIGNUPS_PER_SECOND)})",
        f"  latency: p50 {ms(p50)}, p99 {ms(p99)}  (target p99 < {ms(TARGET_SIGNUP_P99)}: "
        f"{verdict(p99 < TARGET_SIGNUP_P99)})",
        f"  wall: {last - first:.2f} s from the first request written to the last response",
        f"  status codes: {dict(codes)}  (target: no error: {verdict(errors == 0)});"
        f" {codes['201'] / (last - first):.0f} sign-ups/s answered 201",
        f"  answers: {dict(answered)}",
        *([CONNECTION_CAP_HINT] if answered["http.too_many_connections"] else []),
        f"  roster: {statuses}; {sum(statuses.values()) - len(signed_up)} signed up though not answered 201",
        *(f"  {name}: {'ok' if passed else 'FAILED'}" for name, passed in checks.items()),
        "  while they were served:",
        *("    " + line for line in observed.lines()),
    ]
    figures = {
        "volunteers": args.volunteers,
        "seats": args.seats,
        "signups_per_second": round(rate, 1),
        "p50_seconds": round(p50, 4),
        "p99_seconds": round(p99, 4),
        "wall_seconds": round(last - first, 3),
        "status_codes": dict(codes),
        "answers": dict(answered),
        "roster": statuses,
        "checks": checks,
        "observed": observed.figures,
        "targets": {
            "signups_per_second": TARGET_SIGNUPS_PER_SECOND,
            "p99_seconds": TARGET_SIGNUP_P99,
            "errors": 0,
        },
    }
    return lines, figures


# --- (b) attendance to hours credited ------------------------------------------------------


def seat_everyone(setup, activities, people):
    """Every person confirmed on every activity, written straight into the activities
    database with the service's model, the seat counts to match."""
    now = utcnow()
    rows = [
        {
            "activity_id": activity["id"],
            "volunteer_id": person.volunteer_id,
            "account_id": person.account_id,
            "status": "confirmed",
            "position": position,
            "signed_up_at": now,
            "confirmed_at": now,
            "promoted": False,
            "check_out_closed_by_service": False,
            "attendance_revision": 0,
            "version": 1,
        }
        for activity in activities
        for position, person in enumerate(people, start=1)
    ]
    with setup.activities.unit_of_work() as uow:
        insert_rows(uow.session, Signup.__table__, rows)
        uow.session.execute(
            sa.update(ActivitySeats)
            .where(ActivitySeats.activity_id.in_([activity["id"] for activity in activities]))
            .values(confirmed=len(people), next_position=len(people) + 1)
        )
    return len(rows)


def published_attendances(setup):
    """{attendance id: when the activities service's relay recorded its `attendance.confirmed`
    event as published}, from its outbox."""
    outbox = setup.activities.outbox
    with setup.activities.read() as session:
        rows = session.execute(
            sa.select(outbox.c.payload, outbox.c.sent_at).where(
                outbox.c.event_type == ATTENDANCE_CONFIRMED, outbox.c.sent_at.is_not(None)
            )
        ).all()
    return {json.loads(payload)["data"]["attendance_id"]: as_utc(sent_at) for payload, sent_at in rows}


def as_utc(moment):
    """A UTC moment from the outbox (SQLite gives it back naive)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def wait_for_credits(setup, activity_ids, expected):
    """How many attendances of these activities the volunteers service has credited, once all
    are or none came for STALL_SECONDS."""
    counting = sa.select(sa.func.count()).where(HourEntry.activity_id.in_(activity_ids))
    credited, progress_at = -1, time.monotonic()
    while True:
        with setup.volunteers.read() as session:
            now_credited = session.scalar(counting)
        if now_credited != credited:
            credited, progress_at = now_credited, time.monotonic()
        if credited >= expected or time.monotonic() - progress_at > STALL_SECONDS:
            return credited
        time.sleep(0.25)


def attendance(setup, args):
    expected = args.activities * args.per_activity
    say(f"(b) {args.activities} activities × {args.per_activity} volunteers = {expected} attendances:")
    began = time.monotonic()
    people = setup.people(args.per_activity, "b")
    activities = [setup.new_activity(f"压测：考勤 {n + 1}", args.per_activity) for n in range(args.activities)]
    seated = seat_everyone(setup, activities, people)
    for activity in activities:
        setup.api("POST", f"/api/v1/activities/{activity['id']}/start", 200)
    say(
        f"  set-up: {seated} sign-ups written, {len(activities)} activities started in {time.monotonic() - began:.1f} s"
    )
    calls = []
    for activity in activities:
        for start in range(0, len(people), args.batch):
            items = [
                {"volunteer_id": person.volunteer_id, "attendance": "attended"}
                for person in people[start : start + args.batch]
            ]
            body = json.dumps({"attendances": items}).encode()
            headers = {**setup.admin, "Content-Type": "application/json"}
            calls.append(Call("POST", f"/api/v1/activities/{activity['id']}/attendance", headers, body))
    ids = [activity["id"] for activity in activities]
    with Observer(setup, ["activities", "volunteers"]) as confirming:
        answers = asyncio.run(at_most(setup.host, setup.port, calls, args.confirm_concurrency))
    confirmed_by = max(a.answered for a in answers)
    with setup.volunteers.read() as session:
        credited_then = session.scalar(sa.select(sa.func.count()).where(HourEntry.activity_id.in_(ids)))
    with Observer(setup, ["volunteers"]) as draining:
        credited = wait_for_credits(setup, ids, expected)
    with setup.activities.read() as session:
        confirmed_at = dict(
            session.execute(
                sa.select(Signup.id, Signup.attendance_confirmed_at).where(
                    Signup.activity_id.in_(ids), Signup.attendance_confirmed_at.is_not(None)
                )
            ).all()
        )
    with setup.volunteers.read() as session:
        credited_at = dict(
            session.execute(
                sa.select(HourEntry.attendance_id, HourEntry.created_at).where(HourEntry.activity_id.in_(ids))
            ).all()
        )
        points = session.scalar(sa.select(sa.func.count()).where(PointEntry.reference.like("attendance:%")))
    published_at = published_attendances(setup)
    lags = [(credited_at[n] - confirmed_at[n]).total_seconds() for n in credited_at if n in confirmed_at]
    relay_lags = [(published_at[n] - confirmed_at[n]).total_seconds() for n in published_at if n in confirmed_at]
    consumer_lags = [(credited_at[n] - published_at[n]).total_seconds() for n in credited_at if n in published_at]
    relay_p50, relay_p99 = p50_p99(relay_lags)
    consumer_p50, consumer_p99 = p50_p99(consumer_lags)
    relay_rate = len(published_at) / (max(published_at.values()) - min(confirmed_at.values())).total_seconds()
    first_confirmed, last_credited = min(confirmed_at.values()), max(credited_at.values())
    span = (last_credited - first_confirmed).total_seconds()
    rate = len(credited_at) / span
    p50, p99 = p50_p99(lags)
    drain = last_credited.timestamp() - confirmed_by
    first_sent = min(a.sent for a in answers)
    confirmations = sum(json.loads(a.body).get("confirmed", 0) for a in answers if a.status == 200)
    codes = Counter(str(a.status) if a.status else a.error.split(":")[0] for a in answers)
    request_p50, request_p99 = p50_p99([a.latency for a in answers])
    confirm_rate = confirmations / (confirmed_by - first_sent)
    lines = [
        f"  events/s: {rate:.0f}  (target ≥ {TARGET_EVENTS_PER_SECOND}: {verdict(rate >= TARGET_EVENTS_PER_SECOND)})"
        f"  = {len(credited_at)} / {span:.2f} s from the first confirmed_at to the last hour entry",
        f"  lag confirmed_at → hour entry: p50 {ms(p50)}, p99 {ms(p99)}, max {ms(max(lags))}"
        f"  (target p99 < {ms(TARGET_LAG_P99)}: {verdict(p99 < TARGET_LAG_P99)})",
        f"  of which confirmed_at → published by the activities relay (its outbox's sent_at, recorded after each"
        f" batch): p50 {ms(relay_p50)}, p99 {ms(relay_p99)}; {len(published_at)} published at"
        f" {relay_rate:.0f}/s; published → hour entry: p50 {ms(consumer_p50)}, p99 {ms(consumer_p99)}",
        f"  credited: {credited} of {expected} hour entries ({'all' if credited == expected else 'MISSING SOME'}),"
        f" {points} point entries",
        f"  confirmations: {len(calls)} requests of ≤ {args.batch}, {args.confirm_concurrency} in flight,"
        f" status codes {dict(codes)}, {confirmations} confirmed in {confirmed_by - first_sent:.2f} s"
        f" = {confirm_rate:.0f} attendances/s; request p50 {ms(request_p50)}, p99 {ms(request_p99)}",
        f"  credited when the last confirmation was answered: {credited_then}; time to drain after it: {drain:.2f} s",
        "  while confirming:",
        *("    " + line for line in confirming.lines()),
        "  while draining:",
        *("    " + line for line in draining.lines()),
    ]
    figures = {
        "activities": args.activities,
        "per_activity": args.per_activity,
        "batch": args.batch,
        "confirm_concurrency": args.confirm_concurrency,
        "events_per_second": round(rate, 1),
        "span_seconds": round(span, 3),
        "lag_p50_seconds": round(p50, 4),
        "lag_p99_seconds": round(p99, 4),
        "lag_max_seconds": round(max(lags), 4),
        "published": len(published_at),
        "published_per_second": round(relay_rate, 1),
        "confirmed_to_published_p50_seconds": round(relay_p50, 4),
        "confirmed_to_published_p99_seconds": round(relay_p99, 4),
        "published_to_credited_p50_seconds": round(consumer_p50, 4),
        "published_to_credited_p99_seconds": round(consumer_p99, 4),
        "credited": credited,
        "expected": expected,
        "point_entries": points,
        "confirmation_status_codes": dict(codes),
        "confirmed": confirmations,
        "confirm_seconds": round(confirmed_by - first_sent, 3),
        "confirmations_per_second": round(confirm_rate, 1),
        "confirm_request_p50_seconds": round(request_p50, 4),
        "confirm_request_p99_seconds": round(request_p99, 4),
        "credited_when_confirmed": credited_then,
        "drain_seconds": round(drain, 3),
        "while_confirming": confirming.figures,
        "while_draining": draining.figures,
        "targets": {"events_per_second": TARGET_EVENTS_PER_SECOND, "lag_p99_seconds": TARGET_LAG_P99},
    }
    return lines, figures


# --- (c) reads against the floors ----------------------------------------------------------


def reads(setup, args, amqp_uri):
    use_wrk = shutil.which("wrk") and not args.python_load
    bench = Bench(run_wrk if use_wrk else run_python_load, args.duration, args.warmup, args.rounds)
    levels = [int(c) for c in args.concurrency.split(",")]
    say(
        f"(c) reads ({'wrk, 1 thread' if use_wrk else 'Python threads'}; {args.warmup} s warm-up + the best of "
        f"{args.rounds} × {args.duration} s per point):"
    )
    activities = [setup.new_activity(f"压测：读取 {n + 1}", 50) for n in range(READ_ACTIVITIES)]
    (reader,) = setup.people(1, "c")
    gateway = setup.system.gateway_url
    workloads = {
        "activity": Request(f"{gateway}/api/v1/activities/{activities[0]['id']}", reader.headers),
        "list": Request(f"{gateway}/api/v1/activities{LIST_QUERY}", reader.headers),
    }
    baselines = {}
    try:
        urls = start_baselines(amqp_uri, setup.system.log_dir, baselines)
        floors = {name: Request(f"{urls[name]}/api/v1/centers/{setup.station_id}", reader.headers) for name in FLOORS}
        for request in (*workloads.values(), *floors.values()):
            wait_for_200(request, baselines)
        observed = {}  # (workload, concurrency) -> its Observer
        for concurrency in levels:
            for workload, request in workloads.items():
                with Observer(setup, ["activities"]) as observed[workload, concurrency]:
                    bench.point(workload, "gateway", request, concurrency)
            for name, request in floors.items():
                bench.point("floor", name, request, concurrency)
    finally:
        for name, process in baselines.items():
            stop_process(name, process, say)
    lines = ["  every point:", *("    " + line for line in points_table(bench.results))]
    lines.append("  the gateway against the floors (gateway req/s / floor req/s, same concurrency):")
    ratios, targets = [], []
    for concurrency in levels:
        for workload in workloads:
            rps = bench.rps(workload, "gateway", concurrency)
            against = {floor: ratio(rps, bench.rps("floor", floor, concurrency)) for floor in FLOORS}
            ratios.append({"workload": workload, "concurrency": concurrency, "gateway_rps": rps, **against})
            shown = ", ".join(f"/{floor} {times(value)}" for floor, value in against.items())
            lines.append(f"    {workload:<10} c={concurrency:<3} {rps:>7.0f} req/s  {shown}")
            value = against[READ_FLOOR]
            passed = value is not None and value >= TARGET_READ_RATIO
            targets.append({"workload": workload, "concurrency": concurrency, "floor": READ_FLOOR, "ratio": value})
            lines.append(
                f"      target gateway/{READ_FLOOR} ≥ {TARGET_READ_RATIO:.1f}x: {times(value)} {verdict(passed)}"
            )
            lines += [f"      {line}" for line in observed[workload, concurrency].lines()]
    figures = {
        "load_generator": "wrk" if use_wrk else "python",
        "duration": args.duration,
        "warmup": args.warmup,
        "activities": READ_ACTIVITIES,
        "results": bench.results,
        "ratios": ratios,
        "targets": targets,
        "observed": {f"{workload} c={c}": found.figures for (workload, c), found in observed.items()},
    }
    return lines, figures


# --- the run -----------------------------------------------------------------------------


def write_results(part, args, figures):
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"activities-{part}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    document = {"part": part, "database": args.database, "at": datetime.now(UTC).isoformat(), **figures}
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    return out


def run(args, data_dir, database_urls):
    parts = PARTS if args.part == "all" else (args.part,)
    env = {"MAX_CONNECTIONS": str(args.max_connections)} if args.max_connections else {}
    reports = []
    with private_vhost("wenming-bench-activities") as amqp_uri:
        system = bench_system(data_dir, amqp_uri, database_urls=database_urls, env=env, seed=False)
        setup = None
        try:
            system.start()
            setup = Setup(system)
            for part in parts:
                if part == SIGNUPS:
                    lines, figures = signups(setup, args)
                elif part == ATTENDANCE:
                    lines, figures = attendance(setup, args)
                else:
                    lines, figures = reads(setup, args, amqp_uri)
                say("\n".join(lines))
                out = write_results(part, args, figures)
                say(f"  results: {out}")
                reports.append((part, lines))
        finally:
            if setup is not None:
                setup.close()
            system.stop()
    return reports


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=(*PARTS, "all"), default="all")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--volunteers", type=int, default=1000, help="(a) volunteers signing up at once")
    parser.add_argument("--seats", type=int, default=100, help="(a) the activity's capacity")
    parser.add_argument("--activities", type=int, default=100, help="(b) activities")
    parser.add_argument("--per-activity", type=int, default=100, help="(b) volunteers attending each")
    parser.add_argument("--batch", type=int, default=100, help=f"(b) attendances per request, ≤ {MAX_BATCH}")
    parser.add_argument("--confirm-concurrency", type=int, default=4, help="(b) confirmations in flight")
    parser.add_argument("--duration", type=int, default=6, help="(c) seconds measured per point")
    parser.add_argument("--warmup", type=int, default=2, help="(c) seconds of load before each measurement")
    parser.add_argument("--rounds", type=int, default=2, help="(c) measurements per point; the best is kept")
    parser.add_argument("--concurrency", default="16", help="(c) connections, comma-separated levels")
    parser.add_argument("--python-load", action="store_true", help="(c) the Python load generator, not wrk")
    parser.add_argument("--max-connections", type=int, help="the gateway's MAX_CONNECTIONS (default: its own)")
    args = parser.parse_args()
    if not 1 <= args.batch <= MAX_BATCH:
        parser.error(f"--batch must be 1 to {MAX_BATCH}")
    logging.getLogger("amqp").setLevel(logging.ERROR)  # as in the launcher's main()
    data_dir = Path(tempfile.mkdtemp(prefix="wenming-bench-activities-"))
    database_urls = {}
    try:
        if args.database == "postgresql":
            for service in ("activities", "volunteers"):
                database_urls[service] = create_database(f"wenming_bench_{service}")
        reports = run(args, data_dir, database_urls)
        shutil.rmtree(data_dir, ignore_errors=True)
    except BaseException:
        say(f"the logs are in {data_dir}/logs")
        raise
    finally:
        for url in database_urls.values():
            drop_database(url)
    print(f"\nSummary ({args.database}):")
    for part, lines in reports:
        print(f"[{part}]\n" + "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
