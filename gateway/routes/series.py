"""Recurring series at the edge: create a series (its occurrences are generated as
activities), generate again, change this and the following occurrences, end a series, and
read series. Every request goes to the activities service with the caller as `actor`.

The gateway checks roles as for activities; the service decides scope: the organizers of a
series are those of its activities. One occurrence alone is an activity
(`/api/v1/activities/<id>`); a series' occurrences are listed with `?series_id=`."""

from services.activities.contract.series import (
    EndSeriesSchema,
    GenerateSchema,
    SeriesChangeSchema,
    SeriesCreateSchema,
    SeriesListQuerySchema,
    SeriesOutcomeSchema,
    SeriesPageSchema,
    SeriesSchema,
)

from ..routing import Reply, RouteTable, paged
from .activities import ORGANIZERS, READ
from .centers import expected_version

SERIES = "/api/v1/series"
ONE = SERIES + "/<int:series_id>"

routes = RouteTable(tag="series", calls=("activities",))

_list_query = SeriesListQuerySchema()


def _service(edge):
    return edge.rpc("activities")


@routes.route(
    "GET", SERIES, auth=READ, summary="List series, newest first", query=_list_query, response=SeriesPageSchema()
)
async def list_series(edge, call):
    filters, page, page_size = paged(_list_query, call)
    return await _service(edge).list_series(filters, page, page_size, call.principal.as_payload())


@routes.route(
    "POST",
    SERIES,
    auth=ORGANIZERS,
    summary="Create a recurring series; its occurrences up to a year ahead are generated as activities",
    body=SeriesCreateSchema(),
    response=SeriesSchema(),
    status=201,
    response_headers=("Location", "ETag"),
)
async def create_series(edge, call):
    series = await _service(edge).create_series(call.payload, call.principal.as_payload())
    return Reply(201, series, {"Location": f"{SERIES}/{series['id']}", "ETag": f'"{series["version"]}"'})


@routes.route("GET", ONE, auth=READ, summary="One series", response=SeriesSchema(), response_headers=("ETag",))
async def get_series(edge, call, series_id):
    series = await _service(edge).get_series(series_id, call.principal.as_payload())
    return Reply(200, series, {"ETag": f'"{series["version"]}"'})


@routes.route(
    "POST",
    ONE + "/generate",
    auth=ORGANIZERS,
    summary="Generate the occurrences up to a day that do not exist yet (never twice)",
    body=GenerateSchema(),
    response=SeriesOutcomeSchema(),
    errors=(409,),
)
async def generate_series(edge, call, series_id):
    return await _service(edge).generate_series(series_id, call.payload, call.principal.as_payload())


@routes.route(
    "PATCH",
    ONE + "/from/<int:activity_id>",
    auth=ORGANIZERS,
    summary='Change this occurrence and the following ones (and the template); If-Match: "<series version>"',
    body=SeriesChangeSchema(),
    response=SeriesOutcomeSchema(),
    errors=(400, 409),
    request_headers=("If-Match",),
)
async def update_series_from(edge, call, series_id, activity_id):
    expected = expected_version(call.headers.get("If-Match"))
    return await _service(edge).update_series_from(
        series_id, activity_id, call.payload, call.principal.as_payload(), expected
    )


@routes.route(
    "POST",
    ONE + "/end",
    auth=ORGANIZERS,
    summary="End a series: its open occurrences from a day on are cancelled with the reason",
    body=EndSeriesSchema(),
    response=SeriesOutcomeSchema(),
    errors=(409,),
)
async def end_series(edge, call, series_id):
    return await _service(edge).end_series(series_id, call.payload, call.principal.as_payload())
