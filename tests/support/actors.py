"""The `actor` payloads commands carry, as the gateway sends them."""

from services.chassis import actors

COUNTY = actors.Actor("county-1", actors.COUNTY_ADMIN).as_payload()
VOLUNTEER = actors.Actor("vol-1", actors.VOLUNTEER).as_payload()


def center_admin(scope_center_id):
    return actors.Actor(f"admin-{scope_center_id}", actors.CENTER_ADMIN, scope_center_id).as_payload()
