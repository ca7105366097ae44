"""Who acts: the roles of Wenming, defined once, and the `actor` every command carries.

The gateway builds an `Actor` from a verified token and sends it as a payload
(`actor.as_payload()`) with each command; the owning service loads it with `load_actor`
and decides, from its own data, whether that actor may do what it asks.
"""

from dataclasses import asdict, dataclass

from marshmallow import fields

from .schemas import StrictSchema, described, load, one_of

COUNTY_ADMIN = "county_admin"
CENTER_ADMIN = "center_admin"
TEAM_LEADER = "team_leader"
VOLUNTEER = "volunteer"
RESIDENT = "resident"

ROLES = (COUNTY_ADMIN, CENTER_ADMIN, TEAM_LEADER, VOLUNTEER, RESIDENT)
ADMIN_ROLES = (COUNTY_ADMIN, CENTER_ADMIN)


@dataclass(frozen=True, slots=True)
class Actor:
    account_id: str
    role: str
    scope_center_id: int | None = None

    def as_payload(self):
        """The `actor` argument of a command sent to a service."""
        return asdict(self)


class ActorSchema(StrictSchema):
    account_id = fields.String(required=True, **described("Who acts."))
    role = fields.String(required=True, validate=one_of(ROLES), **described(", ".join(ROLES)))
    scope_center_id = fields.Integer(
        strict=True, allow_none=True, load_default=None, **described("A center admin's center.")
    )


def load_actor(data):
    return Actor(**load(ActorSchema, data, code="actor.invalid"))
