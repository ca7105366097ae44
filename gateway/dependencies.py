"""State one gateway process shares between its routes, event handlers and timers: the
token verifier (and its cache), the login limiter and the centers read model."""

import logging

from nameko.extensions import DependencyProvider, SharedExtension

from services.chassis.config import setting

from .ratelimit import RateLimiter
from .read_model import CenterReadModel
from .tokens import Tokens, check_secret

log = logging.getLogger(__name__)


class GatewayShared(SharedExtension):
    def setup(self):
        demo = str(setting("GATEWAY_DEMO", "false")).lower() in ("1", "true", "yes")
        secret = setting("JWT_SECRET")
        key = check_secret(secret, demo)
        if key != secret:
            log.warning("GATEWAY_DEMO: signing tokens with a random key; they die with this process")
        self.tokens = Tokens(key, int(setting("TOKEN_TTL_SECONDS", 3600)))
        self.login_limiter = RateLimiter()
        self.read_model = CenterReadModel()


class Gateway(DependencyProvider):
    """Injects the process's GatewayShared: the same object for every worker."""

    shared = GatewayShared()

    def get_dependency(self, worker_ctx):
        return self.shared
