"""The API's description of itself."""

import functools

from .. import openapi
from ..auth import Public
from ..encoding import encode
from ..routing import Reply, RouteTable

routes = RouteTable(tag="meta")


@routes.route("GET", "/api/v1/openapi.json", auth=Public(), summary="This document")
async def openapi_document(edge, call):
    return Reply(200, _document())


@functools.cache
def _document():
    from . import ROUTES  # the table this module belongs to, complete once it is imported

    return encode(openapi.build(ROUTES))
