"""Every route of the gateway: one module per backend, each with a `routes` table
(gateway.routing.RouteTable). A new module here is picked up without further wiring."""

import importlib
import pkgutil

from ..routing import collect


def route_tables():
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        yield importlib.import_module(f"{__name__}.{module_info.name}").routes


ROUTES = collect(route_tables())
