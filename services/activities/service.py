"""The activities service: activities and their life cycle, recurring series, sign-ups with
waitlists, attendance, ledgers, calendars and statistics. Its events are the county's
public event stream (docs/events.md).

Each part keeps its entrypoints in a mixin (`<part>/entrypoints.py`), thin as in every
service: load the input, read the rows, let the part's rules (plain Python) decide, write
the change and its events in one unit of work. They share what this class declares: the
database, the centers service (which owns the tree every scope check needs). The contract
is docs/activities-rpc.md.
"""

from services.activities.calendars import entrypoints as calendars
from services.activities.catalog import entrypoints as catalog
from services.activities.contract import SERVICE
from services.activities.ledger import entrypoints as ledger
from services.activities.models import Base, all_tables
from services.activities.roster import entrypoints as roster
from services.activities.series import entrypoints as series
from services.activities.signups import entrypoints as signups
from services.activities.statistics import entrypoints as statistics
from services.chassis.db import Conflicts, Database
from services.chassis.observability import Observability
from services.chassis.rpc import TimedServiceRpc
from services.chassis.streams import EventStream

PARTS = (catalog, signups, roster, calendars, statistics, ledger, series)
all_tables()  # every part's tables on Base.metadata


def _merged(attribute):
    merged = {}
    for part in PARTS:
        merged.update(getattr(part, attribute, {}))
    return merged


class ActivitiesService(
    catalog.CatalogEntrypoints,
    signups.SignupEntrypoints,
    roster.RosterEntrypoints,
    series.SeriesEntrypoints,
    calendars.CalendarEntrypoints,
    statistics.StatisticsEntrypoints,
    ledger.LedgerEntrypoints,
):
    name = SERVICE

    db = Database(Base, Conflicts(unique=_merged("UNIQUE"), stale=_merged("STALE")))
    centers = TimedServiceRpc("centers")
    event_stream = EventStream()  # every event also appended to `activities.events.stream`, replayable
    observability = Observability()
