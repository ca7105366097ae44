"""Activity statistics at the edge: a center subtree's figures for a period (activities by
platform and status, sign-ups, attendance rate, volunteer hours, people served, top teams).

The gateway checks roles; the activities service decides scope: admins whose scope holds
the center. Aggregates without personal data, but the offices' management figures."""

from services.activities.contract.statistics import ActivityStatisticsSchema, StatisticsQuerySchema
from services.chassis.actors import ADMIN_ROLES

from ..auth import Roles
from ..routing import RouteTable

routes = RouteTable(tag="statistics", calls=("activities",))

ADMINS = Roles(*ADMIN_ROLES)

_query = StatisticsQuerySchema()


@routes.route(
    "GET",
    "/api/v1/centers/<int:center_id>/activity-statistics",
    auth=ADMINS,
    summary="Activity statistics of a center's subtree for a period of at most 366 days (admins of its scope)",
    query=_query,
    response=ActivityStatisticsSchema(),
)
async def activity_statistics(edge, call, center_id):
    filters = _query.dump(call.query)
    return await edge.rpc("activities").activity_statistics(center_id, filters, call.principal.as_payload())
