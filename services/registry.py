"""Every Wenming service, once. The launcher (`make run`), the deploy files (written by
`python -m deploy.render`) and the deploy tests derive their processes, ports, databases
and migrations from `SERVICES`.

Plain data on purpose: reading it imports no service and not nameko, so a generator or
a test can use it without starting anything.
"""

from dataclasses import dataclass

CONFIG_FILE = "deploy/config/service.yml"  # the one nameko config, relative to the repository root


@dataclass(frozen=True)
class Service:
    name: str  # the nameko service name: its RPC queue, `<name>.events`, its log file
    entrypoint: str  # "module:Class", as `nameko run` takes it; or a module run as `python -m <module>`
    metrics_port: int  # /metrics, /healthz and /readyz
    has_database: bool = True
    migrations: str | None = None  # run as `python -m <migrations> <url>`; default <package>.migrate
    http_port: int | None = None  # the gateway's HTTP API
    # Environment variables holding the service's own keys, which have no default: compose
    # requires them of the operator; `make run` fills them once per data folder from
    # `new_secrets` ("module:function" returning {variable: value}).
    secrets: tuple = ()
    new_secrets: str | None = None
    # Keeps files of its own (the activities' photos and materials) under WENMING_DATA_DIR:
    # compose gives it a volume there; `make run` the data folder.
    keeps_files: bool = False

    def __post_init__(self):
        if self.has_database and self.migrations is None:
            package = self.entrypoint.partition(":")[0].rpartition(".")[0]
            object.__setattr__(self, "migrations", f"{package}.migrate")

    @property
    def runs_on_nameko(self):
        return ":" in self.entrypoint

    @property
    def module_args(self):
        """What follows `python -m` to run one process of the service (from the repository root)."""
        if self.runs_on_nameko:
            return ["nameko", "run", "--config", CONFIG_FILE, self.entrypoint]
        return [self.entrypoint]

    # Operators already set these names: keep them derived from the name, never configured.
    @property
    def database_url_env(self):
        return f"{self.name.upper()}_DATABASE_URL"

    @property
    def metrics_port_env(self):
        return f"{self.name.upper()}_METRICS_PORT"


# Start order (stopped in reverse): a service starts after those it calls; the gateway
# calls every other one, so it comes last.
SERVICES = (
    Service("centers", "services.centers.service:CentersService", metrics_port=9101),
    Service("identity", "services.identity.service:IdentityService", metrics_port=9102),
    Service(
        "volunteers",
        "services.volunteers.service:VolunteersService",
        metrics_port=9103,
        secrets=("VOLUNTEERS_DATA_KEYS", "VOLUNTEERS_LOOKUP_KEY", "VOLUNTEERS_CERTIFICATE_KEY"),
        new_secrets="services.volunteers.secrets:new_secrets",
    ),
    Service("activities", "services.activities.service:ActivitiesService", metrics_port=9104, keeps_files=True),
    # the asyncio edge: `python -m gateway`, configured by the same environment variables
    Service("gateway", "gateway", metrics_port=9100, has_database=False, http_port=8000),
)


def by_name(name, services=SERVICES):
    for service in services:
        if service.name == name:
            return service
    raise KeyError(f"no service {name!r} in services/registry.py")
