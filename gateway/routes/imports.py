"""Bulk import of volunteers at the edge: an admin uploads a CSV or xlsx file (base64 in a JSON
body, gzip-compressed if need be: the gateway's 1 MiB body limit holds a 10,000-row CSV that
way), follows the run, and reads its per-row report as JSON pages or as a CSV file for Excel.
The volunteers service decides scope (the run's center, every row's home station); the
gateway checks roles."""

from urllib.parse import quote

from services.chassis.actors import ADMIN_ROLES
from services.volunteers.contract.imports import (
    MAX_UPLOAD_BYTES,
    ImportCreateSchema,
    ImportRowPageSchema,
    ImportRowQuerySchema,
    ImportSchema,
)

from ..auth import Roles
from ..routing import Reply, RouteTable

IMPORTS = "/api/v1/volunteer-imports"
IMPORT = IMPORTS + "/<int:import_id>"
ADMINS = Roles(*ADMIN_ROLES)
CSV_TYPE = "text/csv"
UTF8_BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only with it

routes = RouteTable(tag="volunteer-imports", calls=("volunteers",))


@routes.route(
    "POST",
    IMPORTS,
    auth=ADMINS,
    summary="Upload a file of volunteers to import (admins of the center's scope); the rows are imported "
    "in the background: follow the run at its Location",
    body=ImportCreateSchema(),
    max_body_bytes=MAX_UPLOAD_BYTES,
    response=ImportSchema(),
    status=201,
    response_headers=("Location",),
)
async def volunteer_imports_start(edge, call):
    run = await edge.rpc("volunteers").start_import(call.payload, call.principal.as_payload())
    return Reply(201, run, {"Location": f"{IMPORTS}/{run['id']}"})


@routes.route(
    "GET",
    IMPORT,
    auth=ADMINS,
    summary="An import run: status and counts, while it works and after",
    response=ImportSchema(),
)
async def volunteer_imports_get(edge, call, import_id):
    return await edge.rpc("volunteers").get_import(import_id, call.principal.as_payload())


@routes.route(
    "GET",
    IMPORT + "/rows",
    auth=ADMINS,
    summary="A page of an import run's per-row report (imported, duplicate or refused, and why)",
    query=ImportRowQuerySchema(),
    response=ImportRowPageSchema(),
)
async def volunteer_imports_rows(edge, call, import_id):
    return await edge.rpc("volunteers").list_import_rows(import_id, call.query, call.principal.as_payload())


@routes.route(
    "GET",
    IMPORT + "/report.csv",
    auth=ADMINS,
    summary="An import run's report as a CSV file (text/csv, UTF-8 with BOM: 行号, 结果, 志愿者编号, 原因)",
)
async def volunteer_imports_report(edge, call, import_id):
    report = await edge.rpc("volunteers").import_report(import_id, call.principal.as_payload())
    body = (UTF8_BOM + report["content"]).encode("utf-8")
    return Reply(200, body, {"Content-Disposition": attachment(report["file_name"], import_id)}, CSV_TYPE)


def attachment(file_name, import_id):
    """Content-Disposition for a file name in Chinese: an ASCII name for old clients, the real
    one in RFC 6266's filename* (a header value is Latin-1 only)."""
    return f"attachment; filename=\"volunteer-import-{import_id}.csv\"; filename*=UTF-8''{quote(file_name, safe='')}"
