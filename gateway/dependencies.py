"""State one gateway process shares between its routes, event handlers and timers: the
token verifier and the centers read model. Both are rebuilt from the services at start."""

from nameko.extensions import DependencyProvider, SharedExtension

from .read_model import CenterReadModel
from .tokens import TokenVerifier


class GatewayShared(SharedExtension):
    def setup(self):
        self.tokens = TokenVerifier()
        self.read_model = CenterReadModel()

    def health_check(self):
        """Read by Observability's /readyz: no token can be checked before the keys arrive."""
        if not self.tokens.ready:
            raise RuntimeError("the identity service's public keys have not been fetched yet")


class Gateway(DependencyProvider):
    """Injects the process's GatewayShared: the same object for every worker."""

    shared = GatewayShared()

    def get_dependency(self, worker_ctx):
        return self.shared
