"""The activities service's tables. `Base.metadata` also holds the chassis tables and, once
`all_tables()` has imported them, every part's own tables: an activity and its seats
(catalog), sign-ups with their attendance (signups), the copies of volunteers and team
memberships taken from the volunteers service's events (roster), recurring series
(series), ledgers and their files (ledger) and calendar feed tokens (calendars).
"""

from services.chassis.db import declarative_base

Base = declarative_base()


def all_tables():
    """Import every part's models so that `Base.metadata` holds all the tables (migrations,
    the service class)."""
    from services.activities.calendars import models as _calendars  # noqa: F401
    from services.activities.catalog import models as _catalog  # noqa: F401
    from services.activities.ledger import models as _ledger  # noqa: F401
    from services.activities.roster import models as _roster  # noqa: F401
    from services.activities.series import models as _series  # noqa: F401
    from services.activities.signups import models as _signups  # noqa: F401

    return Base.metadata
