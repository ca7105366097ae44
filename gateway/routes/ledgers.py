"""Activity ledgers (活动台账) at the edge: an activity's photos and materials, its ledger, the
recording of the activity, and the export of a center subtree's ledgers as an .xlsx file.

Files are uploaded as JSON with the file in base64 (like every body the gateway takes: one
pipeline validates it against the contract, documents it in OpenAPI and fingerprints it for
Idempotency-Key, and the name travels beside the bytes); they come back as themselves, with
the type their content showed, a Content-Disposition naming them (RFC 6266, UTF-8 names),
`Cache-Control: private, no-store` and a sandboxing CSP. The gateway checks roles; the
activities service decides who organizes the activity, and whose scope holds the subtree."""

import base64
from urllib.parse import quote

from services.activities.contract.catalog import ActivitySchema
from services.activities.contract.ledger import (
    EXTENSIONS,
    MAX_UPLOAD_BODY_BYTES,
    ActivityFileSchema,
    FileUploadSchema,
    LedgerExportQuerySchema,
    LedgerFileSchema,
    LedgerSchema,
)
from services.chassis.actors import ADMIN_ROLES

from ..auth import Roles
from ..routing import Reply, RouteTable
from .activities import ACTIVITY, ORGANIZERS
from .centers import expected_version

LEDGER = ACTIVITY + "/ledger"
FILES = ACTIVITY + "/files"
FILE = FILES + "/<int:file_id>"
ADMINS = Roles(*ADMIN_ROLES)
FILE_HEADERS = {"Cache-Control": "private, no-store", "Content-Security-Policy": "default-src 'none'; sandbox"}

routes = RouteTable(tag="ledgers", calls=("activities",))

_export_query = LedgerExportQuerySchema()


def _service(edge):
    return edge.rpc("activities")


def _versioned(record):
    return Reply(200, record, {"ETag": f'"{record["version"]}"'})


def attachment(filename, fallback):
    """Content-Disposition (RFC 6266) for `filename`, which may be Chinese: a header value is
    Latin-1, so an ASCII `fallback` for old clients and the name itself in `filename*`."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# -- files -----------------------------------------------------------------------------------


@routes.route(
    "POST",
    FILES,
    auth=ORGANIZERS,
    summary="Upload a photo or a material of an activity (organizers), base64 in JSON; its type is told by its content",
    body=FileUploadSchema(),
    max_body_bytes=MAX_UPLOAD_BODY_BYTES,
    response=ActivityFileSchema(),
    status=201,
    errors=(409,),
    response_headers=("Location",),
)
async def ledgers_add_file(edge, call, activity_id):
    added = await _service(edge).add_activity_file(activity_id, call.payload, call.principal.as_payload())
    return Reply(201, added, {"Location": f"/api/v1/activities/{activity_id}/files/{added['id']}"})


@routes.route(
    "GET",
    FILES,
    auth=ORGANIZERS,
    summary="An activity's photos and materials, as uploaded (organizers)",
    response=ActivityFileSchema(),
    many=True,
)
async def ledgers_list_files(edge, call, activity_id):
    return await _service(edge).list_activity_files(activity_id, call.principal.as_payload())


@routes.route(
    "GET",
    FILE,
    auth=ORGANIZERS,
    summary="One file of an activity as itself (organizers): its detected type, Content-Disposition with its name",
    response_headers=("Cache-Control",),
)
async def ledgers_get_file(edge, call, activity_id, file_id):
    found = await _service(edge).get_activity_file(activity_id, file_id, call.principal.as_payload())
    fallback = f"activity-{activity_id}-file-{file_id}{EXTENSIONS[found['content_type']][0]}"
    headers = {**FILE_HEADERS, "Content-Disposition": attachment(found["filename"], fallback)}
    return Reply(200, base64.b64decode(found["content"]), headers, found["content_type"])


@routes.route(
    "DELETE",
    FILE,
    auth=ORGANIZERS,
    summary="Remove a file of an activity not yet recorded (organizers)",
    status=204,
    errors=(409,),
)
async def ledgers_delete_file(edge, call, activity_id, file_id):
    await _service(edge).delete_activity_file(activity_id, file_id, call.principal.as_payload())
    return Reply(204)


# -- the ledger ------------------------------------------------------------------------------


@routes.route(
    "GET",
    LEDGER,
    auth=ORGANIZERS,
    summary="The ledger of an activity, with its files (organizers)",
    response=LedgerSchema(),
    response_headers=("ETag",),
)
async def ledgers_get(edge, call, activity_id):
    return _versioned(await _service(edge).get_ledger(activity_id, call.principal.as_payload()))


@routes.route(
    "PUT",
    LEDGER,
    auth=ORGANIZERS,
    summary='File the ledger of a completed activity, or change it until recorded; If-Match: "<version>"',
    body=LedgerFileSchema(),
    response=LedgerSchema(),
    errors=(409,),
    request_headers=("If-Match",),
    response_headers=("ETag",),
)
async def ledgers_file(edge, call, activity_id):
    expected = expected_version(call.headers.get("If-Match"))
    actor = call.principal.as_payload()
    return _versioned(await _service(edge).file_ledger(activity_id, call.payload, actor, expected))


@routes.route(
    "POST",
    ACTIVITY + "/record",
    auth=ORGANIZERS,
    summary="Mark a completed activity recorded: needs its ledger filed and at least one photo",
    response=ActivitySchema(),
    errors=(409,),
    response_headers=("ETag",),
)
async def ledgers_record(edge, call, activity_id):
    return _versioned(await _service(edge).record_activity(activity_id, call.principal.as_payload()))


# -- the export ------------------------------------------------------------------------------


@routes.route(
    "GET",
    "/api/v1/centers/<int:center_id>/ledger-export",
    auth=ADMINS,
    summary="The ledgers of a center subtree's activities that took place in a period, as an .xlsx file "
    "(admins of the subtree)",
    query=_export_query,
    response_headers=("Cache-Control",),
)
async def ledgers_export(edge, call, center_id):
    query = _export_query.dump(call.query)
    exported = await _service(edge).export_ledgers(center_id, query, call.principal.as_payload())
    fallback = f"ledgers-{center_id}-{query['starts_from']}-{query['starts_to']}.xlsx"
    headers = {**FILE_HEADERS, "Content-Disposition": attachment(exported["filename"], fallback)}
    return Reply(200, base64.b64decode(exported["content"]), headers, exported["content_type"])
