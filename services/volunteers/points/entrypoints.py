"""The points entrypoints of the volunteers service (a mixin of VolunteersService)."""

UNIQUE = {}  # constraint name -> Conflict (services.chassis.db.Conflicts)
STALE = {}  # table name -> Conflict


class PointEntrypoints:
    pass
