#!/usr/bin/env python3
"""Run the whole Wenming system on one machine.

    python deploy/local/launcher.py        # what `make run` does

In order: check the broker (start a local RabbitMQ if it is down and installed), migrate
each service's database, create the demo admin, start every service of
services/registry.py as its own `nameko run` process in the registry's order (seeding the
demo practice network once right after centers, through its RPC API, so that domain rules
apply and events go out), wait until the gateway answers, print where everything is.
Ctrl-C or SIGTERM stops every process it started; if one of them dies, the launcher starts
it again (with a back-off) while the others go on serving.

Environment: WENMING_DATA_DIR (default ./data), AMQP_URI, <NAME>_DATABASE_URL per service
(default: SQLite files in the data folder), <NAME>_METRICS_PORT per service (default: the
registry's), WEB_SERVER_ADDRESS (the gateway's), IDENTITY_SIGNING_KEY_FILE (the Ed25519
key that signs access tokens; default: one generated once per data folder, readable by its
owner only), WENMING_BROKER_AUTOSTART=0 to never start a local RabbitMQ.

The end-to-end tests and the benchmark drive the same code through `System`, imported from
the repository root as `deploy.local.launcher` (a namespace package: deploy/ is not
installed).
"""

import importlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import kombu

# Run as a script (`python deploy/local/launcher.py`), the repository root is not on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# nameko 3 runs on eventlet by design (docs/architecture.md); its import-time notice is noise here.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
from nameko.exceptions import UnknownService  # noqa: E402
from nameko.standalone.rpc import ClusterRpcClient  # noqa: E402

from deploy.local.demo_activities import seed_activities  # noqa: E402
from deploy.local.demo_volunteers import seed_volunteers  # noqa: E402
from services.identity.keys import new_private_pem  # noqa: E402
from services.registry import SERVICES, by_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEMO_FILE = ROOT / "deploy" / "demo" / "jinzhong.json"

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
DEMO_USERNAME = "admin"
DEMO_PASSWORD = "wenming-demo-2026"  # demo only: printed on every start
# The seed goes through the same scope checks as any county administrator's commands.
SEED_ACTOR = {"account_id": "demo-seed", "role": "county_admin", "scope_center_id": None}
SEED_ONLY_KEYS = ("children", "venues", "note")  # structure and comments of the demo file

GATEWAY = "gateway"  # answers the operator's HTTP
IDENTITY = "identity"  # holds the accounts (the demo admin)
SEED_SERVICE = "centers"  # the demo network goes in through its RPC API, once it is ready
VOLUNTEERS = "volunteers"  # the demo's volunteers, teams, hours and goods, likewise
ACTIVITIES = "activities"  # the demo's upcoming activities, likewise
PRIVATE_UMASK = 0o077  # what the services create (SQLite files) is their owner's alone
START_TIMEOUT = 60  # seconds for a service, or a local RabbitMQ, to become ready
RESTART_BACKOFF_MAX = 30  # seconds between attempts to start a service that keeps dying
STOP_TIMEOUT = 10  # seconds a service gets to stop after SIGTERM before SIGKILL
COMMAND_TIMEOUT = 120  # seconds for a migration or an account command


def private_file(path, flags):
    """An `open` opener: a file created readable and writable by its owner only."""
    return os.open(path, flags, 0o600)


class LaunchError(Exception):
    """The system cannot start; the message tells the operator what to do."""


def redact(uri):
    """The URI with its password masked, for messages."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def port_open(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def amqp_error(uri, timeout=5):
    """None when an AMQP session opens at `uri` (credentials and vhost included), else why not."""
    try:
        with kombu.Connection(uri, connect_timeout=timeout) as connection:
            connection.connect()
    except Exception as exc:  # any failure is reported to the operator, not handled
        return f"{type(exc).__name__}: {exc}"
    return None


def http_status(url, timeout=2.0):
    """The HTTP status `url` answers with, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def broker_help(uri, reason):
    return (
        f"RabbitMQ is not reachable at {redact(uri)} ({reason}).\n"
        "Start a broker, then run again:\n"
        "  Debian/Ubuntu: apt-get install rabbitmq-server && rabbitmq-server -detached\n"
        "  Docker:        docker run -d --name wenming-rabbitmq -p 5672:5672 rabbitmq:3\n"
        "or point AMQP_URI at a running broker (amqp://user:password@host:5672/vhost)."
    )


def ensure_broker(uri, autostart, say):
    """Return when the broker answers; start a local RabbitMQ if that can help; never hang."""
    parts = urlsplit(uri)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    if port_open(host, port, timeout=2):
        reason = amqp_error(uri)
        if reason is None:
            return
        raise LaunchError(f"RabbitMQ at {redact(uri)} refused the session: {reason}")
    local = host in ("127.0.0.1", "localhost", "::1") and port == 5672
    if not (autostart and local and shutil.which("rabbitmq-server")):
        raise LaunchError(broker_help(uri, f"nothing listens on {host}:{port}"))
    say("RabbitMQ is down; starting the local one with `rabbitmq-server -detached` ...")
    subprocess.run(
        ["rabbitmq-server", "-detached"],
        check=False,
        timeout=COMMAND_TIMEOUT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT
    reason = "it did not start"
    while time.monotonic() < deadline:
        if port_open(host, port):
            reason = amqp_error(uri)
            if reason is None:
                say("RabbitMQ is up (it keeps running after the launcher stops).")
                return
        time.sleep(1)
    raise LaunchError(broker_help(uri, f"started it, but after {START_TIMEOUT} s: {reason}"))


def check_port_free(host, port, what):
    if port and port_open(host, port, timeout=0.5):
        raise LaunchError(
            f"{host}:{port} ({what}) is already in use: another Wenming running?"
            " Stop it, or choose other ports (WEB_SERVER_ADDRESS,"
            " <NAME>_METRICS_PORT)."
        )


def stop_process(name, process, say):
    """SIGTERM (a nameko service then stops gracefully), SIGKILL after STOP_TIMEOUT."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        say(f"{name} (pid {process.pid}) did not stop within {STOP_TIMEOUT} s of SIGTERM; killing it.")
        process.kill()
        process.wait()


def load_demo(path=DEMO_FILE):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["centers"]


def seed_centers(centers, nodes, parent_id=None):
    """Create the demo tree `nodes` below `parent_id` where a code is still missing.

    `centers` is an RPC proxy of the centers service. Safe to repeat, and to resume after
    a partial run: each center is looked up by code first, each venue by name. Returns how
    many centers it created.
    """
    created = 0
    for node in nodes:
        data = {key: value for key, value in node.items() if key not in SEED_ONLY_KEYS}
        found = centers.list_centers({"code": data["code"]})["items"]
        if found:
            center = found[0]
        else:
            center = centers.create_center({**data, "parent_id": parent_id}, SEED_ACTOR)
            created += 1
        if node.get("venues"):
            present = {venue["name"] for venue in centers.list_venues(center["id"])}
            for venue in node["venues"]:
                if venue["name"] not in present:
                    centers.add_venue(center["id"], venue, SEED_ACTOR)
        created += seed_centers(centers, node.get("children", []), center["id"])
    return created


def _await_rpc(service, call):
    """Call until the service consumes RPC: ready may come a moment before its queue is bound."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            return call()
        except UnknownService:
            if time.monotonic() > deadline:
                raise LaunchError(f"the {service} service never consumed RPC") from None
            time.sleep(0.3)


def per_service(defaults, given, argument):
    """`defaults` ({service name: value}) overridden by `given`; a name outside `defaults`
    is a typo or a service without that setting, so it is refused rather than ignored."""
    unknown = sorted(set(given or {}) - set(defaults))
    if unknown:
        raise ValueError(f"{argument}: {unknown} not among {sorted(defaults)}")
    return {**defaults, **(given or {})}


class System:
    """The services of one Wenming installation, each a child process of this one."""

    def __init__(
        self,
        data_dir,
        *,
        amqp_uri=DEFAULT_AMQP_URI,
        host="127.0.0.1",
        http_ports=None,
        metrics_ports=None,
        database_urls=None,
        env=None,
        broker_autostart=True,
        seed=True,
        say=None,
    ):
        """`http_ports`, `metrics_ports`, `database_urls`: {service name: value} for the
        services that differ from the registry (ports) or from SQLite in `data_dir`."""
        self.data_dir = Path(data_dir).resolve()
        self.log_dir = self.data_dir / "logs"
        self.amqp_uri = amqp_uri
        self.host = host
        self.http_ports = per_service(
            {service.name: service.http_port for service in SERVICES if service.http_port}, http_ports, "http_ports"
        )
        self.metrics_ports = per_service(
            {service.name: service.metrics_port for service in SERVICES}, metrics_ports, "metrics_ports"
        )
        self.database_urls = per_service(
            {
                service.name: f"sqlite:///{self.data_dir / f'{service.name}.db'}"
                for service in SERVICES
                if service.has_database
            },
            database_urls,
            "database_urls",
        )
        self.extra_env = dict(env or {})
        self.broker_autostart = broker_autostart
        self.seed_demo = seed
        self.say = say or (lambda message: print(message, flush=True))
        self.processes = {}  # service name -> Popen, in start order

    @property
    def gateway_url(self):
        return self.http_url(GATEWAY)

    def http_url(self, service):
        return f"http://{self.host}:{self.http_ports[service]}"

    def metrics_url(self, service):
        return f"http://{self.host}:{self.metrics_ports[service]}/metrics"

    def log_file(self, service):
        return self.log_dir / f"{service}.log"

    def _signing_key_file(self):
        """The identity service's token signing key: IDENTITY_SIGNING_KEY_FILE, else a key
        generated once per data folder, created readable by its owner only."""
        configured = self.extra_env.get("IDENTITY_SIGNING_KEY_FILE") or os.environ.get("IDENTITY_SIGNING_KEY_FILE")
        if configured:
            return configured
        path = self.data_dir / "identity-signing-key.pem"
        if not path.exists():
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as key_file:
                key_file.write(new_private_pem())
        return str(path)

    def _secrets(self, service):
        """The service's own keys (registry `secrets`): from the environment when set, else
        generated once per data folder (`new_secrets`) and kept there, owner-readable."""
        if not service.secrets:
            return {}
        path = self.data_dir / f"{service.name}-secrets.json"
        if not path.exists():
            module, _, function = service.new_secrets.partition(":")
            fresh = getattr(importlib.import_module(module), function)()
            with open(path, "x", encoding="utf-8", opener=private_file) as secrets_file:
                json.dump(fresh, secrets_file)
        kept = json.loads(path.read_text(encoding="utf-8"))
        configured = {**os.environ, **self.extra_env}
        return {name: configured.get(name) or kept[name] for name in service.secrets}

    def _env(self):
        env = {**os.environ, **self.extra_env}
        env.update(
            AMQP_URI=self.amqp_uri,
            METRICS_HOST=self.host,
            IDENTITY_SIGNING_KEY_FILE=self._signing_key_file(),
            WENMING_DATA_DIR=str(self.data_dir),
            PYTHONUNBUFFERED="1",
        )
        return env

    def _service_env(self, service):
        """The values deploy/config/service.yml leaves to whoever starts `service`."""
        env = self._env()
        env.update(SERVICE_NAME=service.name, METRICS_PORT=str(self.metrics_ports[service.name]))
        env.update(self._secrets(service))
        # from the launcher's own environment, a DATABASE_URL would be another service's
        env.pop("DATABASE_URL", None)
        if service.has_database:
            env["DATABASE_URL"] = self.database_urls[service.name]
        if service.name in self.http_ports:
            env["WEB_SERVER_ADDRESS"] = f"{self.host}:{self.http_ports[service.name]}"
        return env

    def _command(self, what, *args, env=None):
        """Run a one-shot `python -m ...` command of the project; LaunchError when it fails."""
        try:
            result = subprocess.run(
                [sys.executable, "-m", *args],
                cwd=ROOT,
                env={**self._env(), **(env or {})},
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                umask=PRIVATE_UMASK,  # databases and keys readable by their owner only
            )
        except subprocess.TimeoutExpired:
            raise LaunchError(f"{what}: no result after {COMMAND_TIMEOUT} s") from None
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()[-3000:]
            raise LaunchError(f"{what} failed (exit {result.returncode}):\n{output}")
        return result.stdout

    def start(self):
        """Bring everything up; on any failure stop what was started and raise LaunchError."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # databases and the signing key
        self.log_dir.mkdir(mode=0o700, exist_ok=True)
        ensure_broker(self.amqp_uri, self.broker_autostart, self.say)
        for service, port in self.http_ports.items():
            check_port_free(self.host, port, f"{service} HTTP")
        for service, port in self.metrics_ports.items():
            check_port_free(self.host, port, f"{service} metrics")
        try:
            self.say("Migrating databases ...")
            for service in SERVICES:
                if service.has_database:
                    self._command(f"{service.name} migration", service.migrations, self.database_urls[service.name])
            # the password travels in the environment: a command line is visible to every process
            self._command(
                "demo admin",
                "services.identity.admin",
                "create-admin",
                "--username",
                DEMO_USERNAME,
                "--database-url",
                self.database_urls[IDENTITY],
                env={"WENMING_ADMIN_PASSWORD": DEMO_PASSWORD},
            )
            for service in SERVICES:
                self._start_service(service)
                if service.name == SEED_SERVICE and self.seed_demo:
                    created = self.seed()
                    self.say(f"Demo data: {created} centers created{'' if created else ' (already seeded)'}.")
                if service.name == VOLUNTEERS and self.seed_demo:
                    registered = self.seed_volunteers()
                    seeded = "" if registered else " (already seeded)"
                    self.say(f"Demo data: {registered} volunteers registered{seeded}.")
                if service.name == ACTIVITIES and self.seed_demo:
                    created = self.seed_activities()
                    self.say(f"Demo data: {created} activities created{'' if created else ' (already seeded)'}.")
        except BaseException:
            self.stop()
            raise

    def _start_service(self, service):
        name = service.name
        with open(self.log_file(name), "ab", opener=private_file) as log:
            process = self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", *service.module_args],
                cwd=ROOT,
                env=self._service_env(service),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                umask=PRIVATE_UMASK,
                start_new_session=True,  # Ctrl-C reaches the launcher, which stops them in order
            )
        self.say(f"Started {name} (pid {process.pid}, log {self.log_file(name)}).")
        ready_url = f"http://{self.host}:{self.metrics_ports[name]}/readyz"
        self._wait_until(f"{name} readiness ({ready_url})", name, lambda: http_status(ready_url) == 200)
        if name in self.http_ports:
            self._wait_until(f"{name} HTTP", name, lambda: http_status(self.http_url(name) + "/") is not None)

    def _wait_until(self, what, service, ready):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.processes[service].poll() is not None:
                raise LaunchError(
                    f"{service} exited with {self.processes[service].returncode}"
                    f" while starting.\n{self.log_tail(service)}"
                )
            if ready():
                return
            time.sleep(0.3)
        raise LaunchError(f"{what}: not ready after {START_TIMEOUT} s.\n{self.log_tail(service)}")

    def rpc(self, timeout=30):
        """A nameko ClusterRpcClient on this system's broker (a context manager)."""
        return ClusterRpcClient(uri=self.amqp_uri, timeout=timeout)

    def seed(self, demo_file=DEMO_FILE):
        """Create what is missing of the demo network; returns how many centers it created."""
        with self.rpc() as client:
            _await_rpc("centers", lambda: client.centers.list_centers({}, 1, 1))
            return seed_centers(client.centers, load_demo(demo_file))

    def seed_volunteers(self):
        """Create what is missing of the demo's volunteers (deploy/demo/volunteers.json);
        returns how many it registered. Their hours arrive as events, credited in the
        background within a minute."""
        with self.rpc() as client:
            _await_rpc(VOLUNTEERS, lambda: client.volunteers.list_volunteers({}, SEED_ACTOR))
            return seed_volunteers(client, self.amqp_uri, SEED_ACTOR)

    def seed_activities(self):
        """Create what is missing of the demo's activities (deploy/demo/activities.json);
        returns how many it created."""
        with self.rpc() as client:
            _await_rpc(ACTIVITIES, lambda: client.activities.list_activities({}, 1, 1, SEED_ACTOR))
            return seed_activities(client, SEED_ACTOR)

    def log_tail(self, service, lines=30):
        try:
            text = self.log_file(service).read_text(errors="replace")
        except OSError:
            return ""
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last lines of {self.log_file(service)} ---\n{tail}"

    def supervise(self, poll_seconds=0.5):
        """Keep every service running, until a signal stops the launcher: one that exits is
        started again after a back-off (1 s, 2 s, 4 s, … at most RESTART_BACKOFF_MAX; back
        to 1 s once it has stayed up a minute), while the others go on serving."""
        backoff = dict.fromkeys(self.processes, 1.0)
        up_since = dict.fromkeys(self.processes, time.monotonic())
        restart_at = {}
        while True:
            now = time.monotonic()
            for name, process in list(self.processes.items()):
                if process.poll() is None:
                    if now - up_since[name] > 60:
                        backoff[name] = 1.0
                elif name not in restart_at:
                    restart_at[name] = now + backoff[name]
                    self.say(f"{name} exited with {process.returncode}; starting it again in {backoff[name]:.0f} s.")
                elif now >= restart_at[name]:
                    del restart_at[name]
                    backoff[name] = min(RESTART_BACKOFF_MAX, backoff[name] * 2)
                    up_since[name] = now
                    try:
                        self._start_service(by_name(name))
                    except LaunchError as exc:  # it died again while starting: the next round retries
                        self.say(f"{name} did not come back: {exc}")
            time.sleep(poll_seconds)

    def stop(self):
        """Stop every process this System started (by PID), the last started first."""
        for service in reversed(list(self.processes)):
            stop_process(service, self.processes[service], self.say)
        self.processes.clear()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()


def system_from_environment():
    address = os.environ.get("WEB_SERVER_ADDRESS", f"127.0.0.1:{by_name(GATEWAY).http_port}")
    host, _, port = address.rpartition(":")
    return System(
        os.environ.get("WENMING_DATA_DIR", "data"),
        amqp_uri=os.environ.get("AMQP_URI", DEFAULT_AMQP_URI),
        host=host,
        http_ports={GATEWAY: int(port)},
        metrics_ports={
            service.name: int(os.environ[service.metrics_port_env])
            for service in SERVICES
            if os.environ.get(service.metrics_port_env)
        },
        database_urls={
            service.name: os.environ[service.database_url_env]
            for service in SERVICES
            if os.environ.get(service.database_url_env)
        },
        broker_autostart=os.environ.get("WENMING_BROKER_AUTOSTART", "1") != "0",
    )


def banner(system):
    token_body = json.dumps({"username": DEMO_USERNAME, "password": DEMO_PASSWORD})
    width = max(len(service.name) for service in SERVICES)
    metrics = "\n            ".join(
        f"{service.name:<{width}}  {system.metrics_url(service.name)}" for service in SERVICES
    )
    logs = ", ".join(str(system.log_file(service.name)) for service in SERVICES)
    return f"""
Wenming is running.
  gateway   {system.gateway_url}  (API under /api/v1)
  metrics   {metrics}
  login     {DEMO_USERNAME} / {DEMO_PASSWORD}   (demo account: change it for real use)
  try       curl -s -X POST {system.gateway_url}/api/v1/auth/token \\
                 -H 'Content-Type: application/json' -d '{token_body}'
  logs      {logs}
Ctrl-C stops everything.
"""


class Terminated(Exception):
    pass


def _terminate(signum, frame):
    raise Terminated()


def main():
    # explicitly: a process started in the background by a shell inherits SIGINT as ignored
    signal.signal(signal.SIGINT, _terminate)
    signal.signal(signal.SIGTERM, _terminate)
    # py-amqp warns when a publisher confirm arrives as the seed's channel closes: harmless
    logging.getLogger("amqp").setLevel(logging.ERROR)
    system = system_from_environment()
    try:
        system.start()
        print(banner(system), flush=True)
        system.supervise()
    except LaunchError as exc:
        print(f"\nWenming did not start: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Terminated):
        print("\nStopping ...")
        return 0
    finally:
        # a second Ctrl-C must not cut the shutdown short: stop() escalates to SIGKILL itself
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        system.stop()


if __name__ == "__main__":
    sys.exit(main())
