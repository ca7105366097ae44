"""Registration, profile, status, transfers and private data: the entrypoints (a mixin of
VolunteersService)."""

UNIQUE = {}
STALE = {}


class RegistrationEntrypoints:
    pass
