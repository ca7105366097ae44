"""The volunteers service: registration and private data, teams, the service-hour ledger,
points and love supermarkets, certificates and imports.

Each part keeps its entrypoints in a mixin (`registration.py`, `<part>/entrypoints.py`),
thin as in every service: load the input, read the rows, let the part's rules (plain Python)
decide, write the change and its events in one unit of work. They share what this class
declares: the database, the centers service (which owns the tree every scope check needs)
and the cipher of personal data. The contract is docs/volunteers-rpc.md.
"""

from services.chassis.db import Conflicts, Database
from services.chassis.observability import Observability
from services.chassis.rpc import TimedServiceRpc
from services.volunteers import registration
from services.volunteers.certificates import entrypoints as certificates
from services.volunteers.contract import SERVICE
from services.volunteers.hours import entrypoints as hours
from services.volunteers.imports import entrypoints as imports
from services.volunteers.models import Base
from services.volunteers.points import entrypoints as points
from services.volunteers.secrets import PersonalData
from services.volunteers.teams import entrypoints as teams

PARTS = (registration, teams, hours, points, certificates, imports)


def _merged(attribute):
    merged = {}
    for part in PARTS:
        merged.update(getattr(part, attribute))
    return merged


class VolunteersService(
    registration.RegistrationEntrypoints,
    teams.TeamEntrypoints,
    hours.HourEntrypoints,
    points.PointEntrypoints,
    certificates.CertificateEntrypoints,
    imports.ImportEntrypoints,
):
    name = SERVICE
    parts = PARTS  # each part's module: its conflicts, and what it exports of a volunteer

    db = Database(Base, Conflicts(unique=_merged("UNIQUE"), stale=_merged("STALE")))
    centers = TimedServiceRpc("centers")
    personal_data = PersonalData()
    observability = Observability()
