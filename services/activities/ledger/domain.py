"""The rules of an activity's ledger and files, in plain Python: no clock (the service passes
`now`), no database, no disk. A ledger is the plain dict of its stored fields.

A file's type is told by its content, never by its name or the type the client declares:
JPEG, PNG and PDF by their first bytes, .xlsx and .docx as zip archives whose
`[Content_Types].xml` declares a workbook or a document and that hold its folder (`xl/`,
`word/`). The name and the declared type must agree with what the content is.
"""

import base64
import binascii
import hashlib
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from datetime import timedelta

from services.activities.contract.ledger import (
    DOCX,
    EXTENSIONS,
    FILE_TYPES,
    JPEG,
    MAX_EXPORT_DAYS,
    MAX_EXPORT_ROWS,
    MAX_FILE_BYTES,
    MAX_FILES,
    PDF,
    PNG,
    XLSX,
    MiB,
)
from services.chassis.errors import Conflict, InvalidInput

SIGNATURES = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG), (b"%PDF-", PDF))
ZIP_MAGIC = b"PK\x03\x04"
CONTENT_TYPES_PART = "[Content_Types].xml"
MAX_CONTENT_TYPES_BYTES = 256 * 1024  # read of that part at most, whatever its header claims (a zip bomb stops)
OFFICE_PARTS = {XLSX: "xl/", DOCX: "word/"}  # each kind's folder; its main part's type is `<type>.main+xml`
TYPE_LABELS = {
    JPEG: "JPEG 图片",
    PNG: "PNG 图片",
    PDF: "PDF 文档",
    XLSX: "Excel 表格（.xlsx）",
    DOCX: "Word 文档（.docx）",
}
KIND_LABELS = {"photo": "照片", "material": "资料"}
_UNSAFE_IN_NAME = re.compile(r'[<>:"/\\|?*]')  # not in a file name on Windows
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")


@dataclass(frozen=True)
class Upload:
    """A file as it will be kept: its bytes, what they are and the name it is offered under."""

    kind: str
    content_type: str
    filename: str
    data: bytes
    sha256: str

    @property
    def size(self):
        return len(self.data)


def invalid(field, message, code):
    return InvalidInput(code, message, {field: [message]})


# --- files ------------------------------------------------------------------------------------


def sniff(data):
    """The type of `data` told by its content, or None when it is none of the known ones."""
    for magic, content_type in SIGNATURES:
        if data.startswith(magic):
            return content_type
    if data.startswith(ZIP_MAGIC):
        return _office_type(data)
    return None


def _office_type(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if CONTENT_TYPES_PART not in names:
                return None
            with archive.open(CONTENT_TYPES_PART) as part:
                declared = part.read(MAX_CONTENT_TYPES_BYTES)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        RuntimeError,
        EOFError,
        ValueError,
        zlib.error,
    ):
        return None  # not a zip after all, encrypted, or compressed in a way we do not read
    for content_type, folder in OFFICE_PARTS.items():
        if f"{content_type}.main+xml".encode() in declared and any(name.startswith(folder) for name in names):
            return content_type
    return None


def upload(values):
    """The Upload of FileUploadSchema's `values`, or InvalidInput naming the field at fault:
    the content not base64, empty, over its kind's size, of a type its kind does not take,
    or contradicted by the declared type or by the name's extension."""
    kind = values["kind"]
    try:
        data = base64.b64decode(values["content"], validate=True)
    except (binascii.Error, ValueError):
        raise invalid("content", "文件内容须为 base64 编码。", "activity_file.not_base64") from None
    if not data:
        raise invalid("content", "文件是空的。", "activity_file.empty")
    limit = MAX_FILE_BYTES[kind]
    if len(data) > limit:
        raise invalid("content", f"{KIND_LABELS[kind]}不能超过 {limit // MiB} MiB。", "activity_file.too_large")
    found = sniff(data)
    if found not in FILE_TYPES[kind]:
        allowed = "、".join(TYPE_LABELS[content_type] for content_type in FILE_TYPES[kind])
        message = f"{KIND_LABELS[kind]}须为 {allowed}（按文件内容判断）。"
        raise invalid("content", message, "activity_file.type_not_allowed")
    declared = values.get("content_type")
    if declared is not None and declared != found:
        message = f"文件内容是{TYPE_LABELS[found]}，与声明的类型 {declared} 不符。"
        raise invalid("content_type", message, "activity_file.type_mismatch")
    filename = display_name(values["filename"], found)
    return Upload(kind, found, filename, data, hashlib.sha256(data).hexdigest())


def display_name(filename, content_type):
    """The name a file is shown and offered under: the last part of the uploaded path, without
    the characters a file name cannot hold on Windows, ending with the content's extension
    (added when it has none; one that names another type is refused)."""
    name = safe_name(re.split(r"[/\\]", filename)[-1])
    if not name:
        raise invalid("filename", "文件名无效。", "activity_file.name_invalid")
    extension = _EXTENSION.search(name)
    if extension is None:
        return name + EXTENSIONS[content_type][0]
    if extension.group().lower() not in EXTENSIONS[content_type]:
        message = f"文件名的扩展名 {extension.group()} 与文件内容（{TYPE_LABELS[content_type]}）不符。"
        raise invalid("filename", message, "activity_file.name_mismatch")
    return name


def safe_name(text):
    """`text` fit for a file name: characters Windows refuses replaced, no leading or trailing
    dots and spaces."""
    return _UNSAFE_IN_NAME.sub("_", text).strip(" .")


def recorded():
    return Conflict("ledger.recorded", "活动已记录，台账及其照片、资料不能再修改。")


def require_files_open(status):
    """Files are added until the activity is recorded (drafts too: a poster), not to a
    cancelled one."""
    if status == "recorded":
        raise recorded()
    if status == "cancelled":
        raise Conflict("activity_file.activity_cancelled", "活动已取消，不能上传文件。")


def require_room(count):
    if count >= MAX_FILES:
        raise Conflict("activity_file.too_many", f"每个活动最多上传 {MAX_FILES} 个照片和资料。")


def require_removable(status):
    if status == "recorded":
        raise recorded()


# --- the ledger ------------------------------------------------------------------------------


def filing(status, ledger, values, account_id, now):
    """The ledger's fields after filing `values` (LedgerFileSchema): all of a new ledger's
    (`ledger` None), or those that change, or None when nothing does. Only a completed
    activity's ledger is filed or changed."""
    if status == "recorded":
        raise recorded()
    if status != "completed":
        raise Conflict("ledger.activity_not_completed", "活动结束后才能填报台账。")
    if ledger is None:
        return {**values, "filed_by": account_id, "filed_at": now, "updated_at": now, "version": 1}
    changed = {key: value for key, value in values.items() if ledger[key] != value}
    if not changed:
        return None
    return {**changed, "version": ledger["version"] + 1, "updated_at": now}


def record(status, ledger, photos):
    """A completed activity becomes recorded only with its ledger filed and at least one
    photo (有记录、有图片展示、有资料)."""
    if status == "recorded":
        raise Conflict("activity.already_recorded", "活动已记录。")
    if status != "completed":
        raise Conflict("activity.not_completed", "只有已结束的活动可以记录。")
    if ledger is None:
        raise Conflict("ledger.missing", "请先填报活动台账（活动简介和服务群众人数）。")
    if photos < 1:
        raise Conflict("ledger.no_photo", "活动台账须至少有一张活动照片。")
    return {"status": "recorded"}


# --- the export ------------------------------------------------------------------------------


def require_exportable(count):
    """At most MAX_EXPORT_ROWS activities in one sheet."""
    if count > MAX_EXPORT_ROWS:
        message = f"该期间的活动超过 {MAX_EXPORT_ROWS} 个，请缩短导出期间。"
        raise invalid("starts_to", message, "ledger.export_too_large")


def ledger_state(status, filed):
    """The 状态 column: where the activity stands with its ledger."""
    if status == "recorded":
        return "已记录"
    return "台账已填报，待记录" if filed else "台账未填报"


def export_period(query):
    """`query` (LedgerExportQuerySchema: `starts_from` and `starts_to`, both included), or
    InvalidInput naming `starts_to` when the period is reversed or longer than MAX_EXPORT_DAYS."""
    if query["starts_to"] < query["starts_from"]:
        raise _bad_period("ledger.period_reversed", "结束日期不能早于开始日期。")
    if query["starts_to"] - query["starts_from"] >= timedelta(days=MAX_EXPORT_DAYS):
        raise _bad_period("ledger.period_too_long", f"导出期间不能超过 {MAX_EXPORT_DAYS} 天。")
    return query


def _bad_period(code, message):
    return InvalidInput(code, message, {"starts_to": [message]})
