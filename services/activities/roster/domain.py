"""Reading the volunteers service's events into this service's copies, in plain Python.

Events may arrive late, twice or out of order: a volunteer's copy keeps the newest
`version`, a team membership the newest event time. An event that breaks the volunteers
contract can never be applied (UnusableEvent: the service dead-letters it)."""

from dataclasses import dataclass
from datetime import datetime

import jsonschema

from services.volunteers.contract import EVENT_SCHEMAS

# one validator per event type, built once: every roster event is checked on its way in
_VALIDATORS = {
    event_type: jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for event_type, schema in EVENT_SCHEMAS.items()
}


class UnusableEvent(ValueError):
    """An event no retry can apply."""


def checked(event_type, data):
    """`data` if it matches the published schema of `event_type`, else UnusableEvent."""
    problems = sorted(
        _VALIDATORS[event_type].iter_errors(data),
        key=lambda error: list(error.path),
    )
    if problems:
        where = "/".join(str(part) for part in problems[0].path) or "data"
        raise UnusableEvent(f"{event_type} data invalid at {where}: {problems[0].message}")
    return data


@dataclass(frozen=True)
class VolunteerFacts:
    volunteer_id: int
    volunteer_number: str
    account_id: int | None
    home_station_id: int
    status: str
    version: int
    updated_at: datetime


def volunteer_facts(event_type, data):
    data = checked(event_type, data)
    return VolunteerFacts(
        volunteer_id=data["id"],
        volunteer_number=data["volunteer_number"],
        account_id=data["account_id"],
        home_station_id=data["home_station_id"],
        status=data["status"],
        version=data["version"],
        updated_at=datetime.fromisoformat(data["updated_at"]),
    )


def newer(copy_version, facts):
    """Whether `facts` should replace a copy at `copy_version` (None: no copy yet)."""
    return copy_version is None or facts.version > copy_version


def stops_signups(previous_status, status):
    """A volunteer suspended or deregistered leaves the activities they signed up for."""
    return previous_status == "active" and status != "active"


@dataclass(frozen=True)
class Membership:
    team_id: int
    volunteer_id: int
    center_id: int
    role: str  # leader, member, or left
    at: datetime


def joined(data, event_type):
    data = checked(event_type, data)
    return Membership(data["team_id"], data["volunteer_id"], data["center_id"], data["role"], _at(data["at"]))


def left(data, event_type):
    data = checked(event_type, data)
    return Membership(data["team_id"], data["volunteer_id"], data["center_id"], "left", _at(data["at"]))


def handover(data, event_type):
    """The memberships a change of leader implies (the former leader a member, the new one
    the leader), or None when the team's leader did not change."""
    data = checked(event_type, data)
    if "leader_volunteer_id" not in data["changed"]:
        return None
    at = _at(data["updated_at"])
    return (
        Membership(data["id"], data["previous_leader_volunteer_id"], data["center_id"], "member", at),
        Membership(data["id"], data["leader_volunteer_id"], data["center_id"], "leader", at),
    )


def _at(text):
    return datetime.fromisoformat(text)
