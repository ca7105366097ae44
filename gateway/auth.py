"""What each route allows: the rules routes declare (`Public`, `Authenticated`, `Roles`),
checked against the principal (a chassis `Actor`) taken from a verified token. The gateway
checks roles; the owning service checks subtree scope authoritatively with the `actor` the
gateway passes along with each command."""

from services.chassis.actors import ROLES

from .problems import forbidden, unauthorized


class Public:
    """No token needed; an Authorization header is not even looked at."""

    requires_token = False
    roles = None

    def check(self, principal):
        pass

    def __repr__(self):
        return "Public()"


class Authenticated:
    requires_token = True
    roles = None

    def check(self, principal):
        if principal is None:
            raise unauthorized(
                "auth.token_missing", "需要登录：请在 Authorization 头中提供 Bearer 令牌", token_sent=False
            )

    def __repr__(self):
        return "Authenticated()"


class Roles(Authenticated):
    def __init__(self, *roles):
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}")
        self.roles = roles

    def check(self, principal):
        super().check(principal)
        if principal.role not in self.roles:
            raise forbidden(f"此操作需要以下角色之一：{'、'.join(self.roles)}", code="auth.role_forbidden")

    def __repr__(self):
        return f"Roles{self.roles!r}"
