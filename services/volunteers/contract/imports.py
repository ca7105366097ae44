"""Bulk import of volunteers from a CSV or Excel (.xlsx) file, in batches, with a per-row report.

An admin uploads a file (base64 in the call, optionally gzip-compressed) for a center of
their scope; the service checks its form at once (encoding, header, size), stores it
encrypted and answers with the run, `queued`. A background loop of the service then
registers its rows in batches (channel `import`, one `volunteer.registered` per volunteer),
so a large file blocks nothing and a restart resumes where the run stopped. Each row ends
`imported`, `duplicate` (its ID number is already registered: running a file twice imports
nothing twice) or `refused` (with a stable code and the reason per field). The report never
holds an ID number or a phone. Human-readable: docs/volunteers-rpc.md ("Imports").
"""

from marshmallow import fields, validate

from services.chassis import event_schemas as js
from services.chassis.schemas import (
    Flag,
    StrictSchema,
    Text,
    Whole,
    described,
    id_field,
    length,
    one_of,
    page_field,
    page_size_field,
)
from services.volunteers.contract.registration import PRIVACY_STATEMENT_VERSION

KINDS = ("csv", "xlsx")
COMPRESSIONS = ("gzip",)
STATUSES = ("queued", "running", "completed", "failed")
OUTCOMES = ("imported", "duplicate", "refused")
MAX_ROWS = 20_000  # data rows in one file
MAX_FILE_BYTES = 8 * 1024 * 1024  # the file itself, once gzip is undone
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # the JSON body of an upload (the gateway route's limit): gzip to send more

# The file's columns: field -> (the header of the template, other headers accepted). Headers
# are matched after NFKC, without spaces, `*` marks and bracketed hints ("手机号（必填）"),
# English ones also without case, `_` and `-`. A column of no field is ignored (and listed).
COLUMNS = {
    "name": ("姓名", "真实姓名", "name"),
    "id_number": ("身份证号", "身份证号码", "证件号码", "公民身份号码", "id_number"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "phone", "mobile"),
    "home_station_id": ("所属阵地ID", "阵地ID", "所属阵地编号", "home_station_id", "station_id"),
    "home_station_code": ("阵地编码", "所属阵地编码", "home_station_code", "station_code"),
    "skills": ("技能", "技能特长", "特长", "skills"),
    "service_categories": ("服务类别", "服务类型", "service_categories", "categories"),
    "available_times": ("可服务时间", "服务时间", "available_times"),
    "guardian_name": ("监护人姓名", "监护人", "guardian_name"),
    "guardian_relation": ("监护人关系", "与监护人关系", "guardian_relation"),
    "guardian_phone": ("监护人电话", "监护人手机号", "guardian_phone"),
}
REQUIRED_COLUMNS = ("name", "id_number", "phone")  # the station may come from the run's center
LIST_SEPARATORS = "、，,;；\n"  # between the items of a list cell (技能, 服务类别, 可服务时间)

# Words accepted in list cells besides the keys: the Chinese names (the first is the label).
CATEGORY_LABELS = {
    "theory": ("理论宣讲", "理论宣讲平台", "理论"),
    "education": ("教育服务", "教育服务平台", "教育"),
    "culture": ("文化服务", "文化服务平台", "文化"),
    "science": ("科技与科普服务", "科技与科普服务平台", "科技科普", "科普"),
    "health": ("健康与体育服务", "健康与体育服务平台", "健康体育", "健康"),
}
TIME_LABELS = {
    "weekday_daytime": ("工作日白天", "工作日日间", "工作日"),
    "weekday_evening": ("工作日晚上", "工作日晚间", "晚上"),
    "weekend": ("周末", "双休日"),
    "holiday": ("节假日", "法定节假日", "假期"),
    "flexible": ("时间灵活", "灵活", "不限", "随时"),
}

# The per-row report as a file (UTF-8 with a BOM, so that Excel reads it as such).
REPORT_HEADER = ("行号", "结果", "志愿者编号", "原因")
OUTCOME_LABELS = {"imported": "已导入", "duplicate": "已注册（未重复导入）", "refused": "未导入"}


class ImportConsentSchema(StrictSchema):
    """The importing staff attest that every person in the file (and a minor's guardian)
    signed the privacy statement on paper; the run's time is the consent's."""

    version = Text(
        required=True,
        validate=validate.Equal(PRIVACY_STATEMENT_VERSION, error=f"须为当前隐私声明版本 {PRIVACY_STATEMENT_VERSION}。"),
        **described(f"The privacy statement's version signed on paper: {PRIVACY_STATEMENT_VERSION}."),
    )
    attested = Flag(
        required=True,
        validate=validate.Equal(True, error="须确认已收集每位志愿者（及未成年人的监护人）签署的纸质同意书。"),
        **described("Must be true: the consents were collected on paper and are kept."),
    )


class ImportCreateSchema(StrictSchema):
    center_id = id_field(
        "The center the run is for (in the importer's scope): every row's home station must lie in its "
        "subtree; a row naming no station gets this center.",
        required=True,
    )
    file_name = Text(required=True, validate=length(1, 200), **described("The file's name, e.g. 志愿者名单.xlsx."))
    kind = fields.String(
        load_default=None,
        allow_none=True,
        validate=one_of(KINDS),
        **described("csv or xlsx; by default from the file's content (an .xlsx is a zip archive)."),
    )
    compression = fields.String(
        load_default=None,
        allow_none=True,
        validate=one_of(COMPRESSIONS),
        **described("gzip when `content` is the gzip of the file (a 10,000-row CSV then fits a request)."),
    )
    content = fields.String(
        required=True,
        # no maxLength: the gateway route's body limit (MAX_UPLOAD_BYTES) bounds it, the service
        # the file once decoded (MAX_FILE_BYTES)
        validate=validate.Length(min=1, error="文件内容不能为空。"),
        **described(
            f"The file, base64 (RFC 4648). CSV in UTF-8 (with or without BOM), GB18030/GBK or UTF-16 with BOM; "
            f"xlsx: the first sheet. The header row, then at most {MAX_ROWS} rows. Over HTTP the whole request "
            f"is at most {MAX_UPLOAD_BYTES} bytes: gzip a larger file (`compression`)."
        ),
    )
    privacy_consent = Whole(ImportConsentSchema, required=True, **described("The staff's attestation of consent."))


class ImportFailureSchema(StrictSchema):
    code = fields.String(**described("A stable code, e.g. import.file_unreadable."))
    message = fields.String()


class ImportSchema(StrictSchema):
    """A run: where it stands and what it did so far."""

    id = fields.Integer(**described("Import run id."))
    center_id = fields.Integer(**described("The center the run is for."))
    file_name = fields.String()
    kind = fields.String(**described(", ".join(KINDS) + "."))
    status = fields.String(**described(", ".join(STATUSES) + "."))
    total_rows = fields.Integer(**described("Data rows in the file (blank rows not counted)."))
    processed_rows = fields.Integer(**described("Rows done so far."))
    imported = fields.Integer(**described("Rows registered as new volunteers."))
    skipped_duplicates = fields.Integer(**described("Rows whose ID number was already registered."))
    refused = fields.Integer(**described("Rows refused, each with its reason in the report."))
    ignored_columns = fields.List(fields.String(), **described("Headers of columns the import does not read."))
    privacy_consent_version = fields.String()
    actor_account_id = fields.String(**described("Who uploaded the file."))
    failure = fields.Nested(ImportFailureSchema, allow_none=True, **described("Why a failed run stopped, else null."))
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class ImportRowSchema(StrictSchema):
    """One row of the report: never the row's ID number or phone."""

    row_number = fields.Integer(**described("The row's number in the sheet (the header row is 1)."))
    outcome = fields.String(**described(", ".join(OUTCOMES) + "."))
    volunteer_id = fields.Integer(allow_none=True, **described("The volunteer registered (imported)."))
    volunteer_number = fields.String(
        allow_none=True,
        **described("Imported: the new number; duplicate: the registered one, when it lies in the run's subtree."),
    )
    code = fields.String(allow_none=True, **described("Why not imported: a stable code, e.g. id_number.check_digit."))
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        **described(
            'Messages per field (the contract\'s field names, e.g. {"phone": ["..."]}); "_row" for a reason '
            "that concerns no one field."
        ),
    )


class ImportRowQuerySchema(StrictSchema):
    outcome = fields.String(validate=one_of(OUTCOMES), **described("Only rows of this outcome."))
    page = page_field()
    page_size = page_size_field()


class ImportRowPageSchema(StrictSchema):
    items = fields.List(fields.Nested(ImportRowSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class ImportReportSchema(StrictSchema):
    file_name = fields.String(**described("A name for the file, e.g. 志愿者名单-导入结果.csv."))
    content = fields.String(**described("The report as CSV text (the gateway sends it UTF-8 with a BOM)."))


# --- events ---------------------------------------------------------------------------------

VOLUNTEER_IMPORT_FINISHED = "volunteer_import.finished"

EVENT_SCHEMAS = {
    VOLUNTEER_IMPORT_FINISHED: js.event_object(
        {
            "id": js.ID,
            "center_id": js.ID,
            "status": js.one_of(("completed", "failed")),
            "total_rows": js.COUNT,
            "imported": js.COUNT,
            "skipped_duplicates": js.COUNT,
            "refused": js.COUNT,
            "actor_account_id": js.TEXT,
            "finished_at": js.TIMESTAMP,
        },
        "An import run finished: every row done (completed), or stopped (failed). Each volunteer it "
        "registered was announced by its own volunteer.registered (channel import).",
    ),
}
