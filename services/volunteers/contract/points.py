"""The points part of the volunteers service's contract (see the package's docstring)."""

EVENT_SCHEMAS = {}
