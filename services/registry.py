"""Every Wenming service, once. The launcher (`make run`), the deploy files (written by
`python -m deploy.render`) and the deploy tests derive their processes, ports, databases
and migrations from `SERVICES`.

Plain data on purpose: reading it imports no service and not nameko, so a generator or
a test can use it without starting anything.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    name: str  # the nameko service name: its RPC queue, `<name>.events`, its log file
    entrypoint: str  # "module:Class", as `nameko run` takes it
    metrics_port: int  # /metrics, /healthz and /readyz
    has_database: bool = True
    migrations: str | None = None  # run as `python -m <migrations> <url>`; default <package>.migrate
    http_port: int | None = None  # the gateway's HTTP API

    def __post_init__(self):
        if self.has_database and self.migrations is None:
            package = self.entrypoint.partition(":")[0].rpartition(".")[0]
            object.__setattr__(self, "migrations", f"{package}.migrate")

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
    Service("gateway", "gateway.service:GatewayService", metrics_port=9100, has_database=False, http_port=8000),
)


def by_name(name, services=SERVICES):
    for service in services:
        if service.name == name:
            return service
    raise KeyError(f"no service {name!r} in services/registry.py")
