"""The ledger of an activity (活动台账) and its files: the record offices keep of what an
activity did ("有记录、有图片展示、有资料").

Organizers (admins whose scope holds the organizing center, the leader of the activity's
team) upload the activity's files, photos and materials, until it is recorded; each file's
type is told by its content (the uploaded name and declared type must agree with it), its
bytes are kept on disk named by id and SHA-256, and only organizers read them back. Once the
activity is completed they file its ledger (a summary and the number of people served) and
may change it until they mark the activity recorded, which needs the ledger and at least
one photo. Admins export a center subtree's ledgers for a period as an .xlsx sheet.
"""

from marshmallow import fields, validate

from services.centers.contract import PLATFORMS
from services.chassis import event_schemas as js
from services.chassis.schemas import StrictSchema, Text, count_field, date_field, described, length, one_of

from .common import Moment

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FILE_KINDS = ("photo", "material")
FILE_TYPES = {"photo": (JPEG, PNG), "material": (PDF, JPEG, PNG, XLSX, DOCX)}  # what each kind may be
EXTENSIONS = {JPEG: (".jpg", ".jpeg"), PNG: (".png",), PDF: (".pdf",), XLSX: (".xlsx",), DOCX: (".docx",)}
MiB = 1024 * 1024
MAX_FILE_BYTES = {"photo": 5 * MiB, "material": 10 * MiB}
MAX_FILES = 30  # photos and materials of one activity together
MAX_CONTENT_BASE64 = (max(MAX_FILE_BYTES.values()) + 2) // 3 * 4  # the largest file, base64
MAX_UPLOAD_BODY_BYTES = 14 * MiB  # the JSON body of an upload (the gateway's limit): the largest file and its name
MAX_FILENAME = 180
MAX_SUMMARY = 5000
MAX_PEOPLE_SERVED = 1_000_000
MAX_EXPORT_DAYS = 366
MAX_EXPORT_ROWS = 10_000

# The five platforms (五大平台) as the offices' forms name them.
PLATFORM_LABELS = {
    "theory": "理论宣讲",
    "education": "教育服务",
    "culture": "文化服务",
    "science": "科技与科普服务",
    "health": "健身体育服务",
}


class LedgerFileSchema(StrictSchema):
    """File the ledger, or change it (the whole of it) until the activity is recorded."""

    summary = Text(
        required=True,
        multiline=True,
        validate=length(1, MAX_SUMMARY),
        **described(f"活动简介/台账摘要: what was done, 1 to {MAX_SUMMARY} characters."),
    )
    people_served = count_field(
        f"服务群众人数: residents served, 0 to {MAX_PEOPLE_SERVED}.", MAX_PEOPLE_SERVED, required=True
    )


class FileUploadSchema(StrictSchema):
    kind = fields.String(required=True, validate=one_of(FILE_KINDS), **described("photo or material."))
    filename = Text(
        required=True,
        validate=length(1, MAX_FILENAME),
        **described(
            "The file's name, shown and offered on download only (the file is stored under its id). Its "
            "extension, if any, must agree with the content; without one, the content's is added."
        ),
    )
    content_type = fields.String(
        allow_none=True,
        load_default=None,
        validate=one_of(tuple(EXTENSIONS)),
        **described("The type the client believes the file is, if any: it must agree with the content."),
    )
    content = fields.String(
        required=True,
        validate=validate.Length(
            1, MAX_CONTENT_BASE64, error=f"文件经 base64 编码后不能超过 {MAX_CONTENT_BASE64} 个字符。"
        ),
        **described(
            "The file, base64 (RFC 4648). Told by its content: a photo is JPEG or PNG of at most "
            f"{MAX_FILE_BYTES['photo'] // MiB} MiB; a material is PDF, JPEG, PNG, .xlsx or .docx of at most "
            f"{MAX_FILE_BYTES['material'] // MiB} MiB."
        ),
    )


class ActivityFileSchema(StrictSchema):
    id = fields.Integer()
    activity_id = fields.Integer()
    kind = fields.String(**described("photo or material."))
    filename = fields.String(**described("As uploaded (with the content's extension)."))
    content_type = fields.String(**described("As told by the content."))
    size = fields.Integer(**described("Bytes."))
    sha256 = fields.String(**described("Hex SHA-256 of the content."))
    uploaded_at = Moment()


class LedgerSchema(StrictSchema):
    activity_id = fields.Integer()
    activity_status = fields.String(**described("completed (may change) or recorded (final)."))
    summary = fields.String()
    people_served = fields.Integer()
    photos = fields.Integer(**described("Photos of the activity: recording needs at least one."))
    materials = fields.Integer()
    files = fields.List(fields.Nested(ActivityFileSchema))
    filed_at = Moment()
    updated_at = Moment()
    version = fields.Integer(**described('The ETag: If-Match "<version>" guards a change.'))


class LedgerExportQuerySchema(StrictSchema):
    """Also the HTTP query string: the activities starting in these days (Asia/Shanghai)."""

    starts_from = date_field("Activities starting on or after this day (Asia/Shanghai).", required=True)
    starts_to = date_field(
        f"Activities starting on or before this day: at most {MAX_EXPORT_DAYS} days after `starts_from`.",
        required=True,
    )


# --- events ---------------------------------------------------------------------------------

LEDGER_FILED = "ledger.filed"

EVENT_SCHEMAS = {
    LEDGER_FILED: js.event_object(
        {
            "activity_id": js.ID,
            "organizer_center_id": js.ID,
            "team_id": js.nullable(js.ID),
            "platform": js.one_of(PLATFORMS),
            "starts_at": js.TIMESTAMP,
            "people_served": js.COUNT,
            "version": js.VERSION,
            "filed_at": js.TIMESTAMP,
            "updated_at": js.TIMESTAMP,
        },
        "An activity's ledger (活动台账) was filed (`version` 1) or changed before the activity was recorded; "
        "the newest version wins. The summary is not carried (free text may name people): ask the service.",
    ),
}
