"""The ledger's rules in plain Python: files told by their content (never by name or declared
type), their sizes and count, filing and recording the ledger, and the export's sheet."""

import base64
import hashlib
import io
import json
import zipfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from services.activities.contract.ledger import (
    DOCX,
    JPEG,
    MAX_CONTENT_BASE64,
    MAX_FILENAME,
    MAX_FILES,
    MAX_UPLOAD_BODY_BYTES,
    PDF,
    PLATFORM_LABELS,
    PNG,
    XLSX,
    LedgerExportQuerySchema,
    MiB,
)
from services.activities.ledger import domain, export
from services.centers.contract import PLATFORMS
from services.chassis.errors import Conflict, InvalidInput
from services.chassis.schemas import load

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def xlsx_bytes():
    book = Workbook()
    book.active.append(["活动名称", "服务群众人数"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zipped(parts):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def content_types(main_type):
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'content-types"><Override PartName="/main.xml" ContentType="{main_type}"/></Types>'
    )


DOCX_BYTES = zipped({"[Content_Types].xml": content_types(DOCX + ".main+xml"), "word/document.xml": "<w:document/>"})


def sent(data, kind="material", filename="活动资料", content_type=None):
    return {
        "kind": kind,
        "filename": filename,
        "content_type": content_type,
        "content": base64.b64encode(data).decode("ascii"),
    }


def refusal(values):
    with pytest.raises(InvalidInput) as refused:
        domain.upload(values)
    return refused.value.code, list(refused.value.fields)


# --- files told by their content ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [(PNG_BYTES, PNG), (JPEG_BYTES, JPEG), (PDF_BYTES, PDF), (xlsx_bytes(), XLSX), (DOCX_BYTES, DOCX)],
)
def test_each_type_is_told_by_its_content(data, expected):
    assert domain.sniff(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + b"\x00" * 16,  # a type no kind takes
        b"just some text",
        b"PK\x03\x04 not really a zip",
        zipped({"notes.txt": "hello"}),  # a zip, but no Office document
        zipped({"[Content_Types].xml": content_types(XLSX + ".main+xml")}),  # says workbook, holds no xl/
        zipped(  # a macro-enabled workbook (.xlsm) is not an .xlsx
            {
                "[Content_Types].xml": content_types("application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
                "xl/workbook.xml": "<workbook/>",
            }
        ),
    ],
)
def test_content_of_no_known_type_is_told_as_none(data):
    assert domain.sniff(data) is None


def test_a_png_renamed_pdf_is_refused_by_its_name():
    assert refusal(sent(PNG_BYTES, filename="活动照片.pdf")) == ("activity_file.name_mismatch", ["filename"])


def test_a_pdf_declared_as_an_image_is_refused():
    assert refusal(sent(PDF_BYTES, content_type=PNG)) == ("activity_file.type_mismatch", ["content_type"])
    assert refusal(sent(PDF_BYTES, kind="photo", filename="照片.jpg")) == (
        "activity_file.type_not_allowed",
        ["content"],
    )


def test_a_zip_that_is_not_an_office_document_is_refused_even_named_xlsx():
    data = zipped({"[Content_Types].xml": "<Types/>", "payload.bin": "x"})
    assert refusal(sent(data, filename="台账.xlsx", content_type=XLSX)) == (
        "activity_file.type_not_allowed",
        ["content"],
    )


def test_materials_take_pdf_images_and_office_documents_and_photos_only_images():
    for data, content_type in ((PDF_BYTES, PDF), (PNG_BYTES, PNG), (xlsx_bytes(), XLSX), (DOCX_BYTES, DOCX)):
        assert domain.upload(sent(data)).content_type == content_type
    assert domain.upload(sent(JPEG_BYTES, kind="photo")).content_type == JPEG
    assert refusal(sent(xlsx_bytes(), kind="photo")) == ("activity_file.type_not_allowed", ["content"])


def test_sizes_are_bounded_by_kind_and_empty_or_undecodable_content_refused():
    photo_limit = b"\xff\xd8\xff" + b"\x00" * (5 * MiB - 3)
    assert domain.upload(sent(photo_limit, kind="photo")).size == 5 * MiB
    assert refusal(sent(photo_limit + b"\x00", kind="photo")) == ("activity_file.too_large", ["content"])
    assert domain.upload(sent(photo_limit + b"\x00")).size == 5 * MiB + 1  # as a material: up to 10 MiB
    assert refusal(sent(b"%PDF-" + b"\x00" * (10 * MiB - 4))) == ("activity_file.too_large", ["content"])
    assert refusal(sent(b"")) == ("activity_file.empty", ["content"])
    assert refusal({**sent(PDF_BYTES), "content": "not base64!"}) == ("activity_file.not_base64", ["content"])


def test_the_name_shown_keeps_the_last_path_part_and_the_content_gives_the_extension():
    assert domain.upload(sent(PNG_BYTES, filename="合影")).filename == "合影.png"
    assert domain.upload(sent(JPEG_BYTES, filename="C:\\照片\\合影.JPG")).filename == "合影.JPG"
    assert domain.upload(sent(PDF_BYTES, filename="../../etc/报告.2026")).filename == "报告.2026.pdf"
    assert domain.upload(sent(PDF_BYTES, filename='a<b>"c"|d?.pdf')).filename == "a_b__c__d_.pdf"
    assert refusal(sent(PDF_BYTES, filename="/")) == ("activity_file.name_invalid", ["filename"])


def test_an_upload_keeps_the_sha256_of_its_bytes():
    upload = domain.upload(sent(PDF_BYTES))
    assert upload.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert upload.data == PDF_BYTES


def test_files_are_open_until_recorded_and_bounded_in_number():
    for status in ("draft", "published", "in_progress", "completed"):
        domain.require_files_open(status)
        domain.require_removable(status)
    with pytest.raises(Conflict, match="已记录"):
        domain.require_files_open("recorded")
    with pytest.raises(Conflict, match="已记录"):
        domain.require_removable("recorded")
    with pytest.raises(Conflict):
        domain.require_files_open("cancelled")
    domain.require_room(MAX_FILES - 1)
    with pytest.raises(Conflict) as refused:
        domain.require_room(MAX_FILES)
    assert refused.value.code == "activity_file.too_many"


# --- the ledger ---------------------------------------------------------------------------------


def test_a_ledger_is_filed_for_a_completed_activity_and_changed_until_recorded():
    values = {"summary": "开展理论宣讲一场。", "people_served": 40}
    filed = domain.filing("completed", None, values, "7", NOW)
    assert filed == {**values, "filed_by": "7", "filed_at": NOW, "updated_at": NOW, "version": 1}
    assert domain.filing("completed", filed, values, "8", NOW) is None  # nothing changes
    later = datetime(2026, 3, 2, tzinfo=UTC)
    assert domain.filing("completed", filed, {**values, "people_served": 45}, "8", later) == {
        "people_served": 45,
        "version": 2,
        "updated_at": later,
    }
    for status, code in (("in_progress", "ledger.activity_not_completed"), ("recorded", "ledger.recorded")):
        with pytest.raises(Conflict) as refused:
            domain.filing(status, filed, values, "7", NOW)
        assert refused.value.code == code


def test_recording_needs_a_completed_activity_its_ledger_and_a_photo():
    ledger = {"summary": "x", "people_served": 1}
    cases = (
        ("in_progress", ledger, 1, "activity.not_completed"),
        ("recorded", ledger, 1, "activity.already_recorded"),
        ("completed", None, 1, "ledger.missing"),
        ("completed", ledger, 0, "ledger.no_photo"),
    )
    for status, filed, photos, code in cases:
        with pytest.raises(Conflict) as refused:
            domain.record(status, filed, photos)
        assert refused.value.code == code
    assert domain.record("completed", ledger, 1) == {"status": "recorded"}


# --- the export ---------------------------------------------------------------------------------


def test_an_upload_of_the_largest_file_fits_the_gateway_s_body_limit():
    longest_name = len(json.dumps("文" * MAX_FILENAME))  # each character escaped at worst
    body = {"kind": "material", "filename": "", "content_type": XLSX, "content": ""}
    assert MAX_CONTENT_BASE64 + longest_name + len(json.dumps(body)) <= MAX_UPLOAD_BODY_BYTES


def test_every_platform_has_its_chinese_name():
    assert set(PLATFORM_LABELS) == set(PLATFORMS)
    assert PLATFORM_LABELS["science"] == "科技与科普服务"


def test_an_export_period_is_ordered_and_at_most_366_days():
    query = {"starts_from": "2026-01-01", "starts_to": "2026-12-31"}
    assert domain.export_period(load(LedgerExportQuerySchema, query))["starts_to"] == date(2026, 12, 31)
    assert domain.export_period(load(LedgerExportQuerySchema, {**query, "starts_to": "2027-01-01"}))  # 366 days
    for starts_to, code in (("2027-01-02", "ledger.period_too_long"), ("2025-12-31", "ledger.period_reversed")):
        with pytest.raises(InvalidInput) as refused:
            domain.export_period(load(LedgerExportQuerySchema, {**query, "starts_to": starts_to}))
        assert (refused.value.code, list(refused.value.fields)) == (code, ["starts_to"])
    domain.require_exportable(10_000)
    with pytest.raises(InvalidInput):
        domain.require_exportable(10_001)


def test_the_time_of_an_activity_is_shown_in_the_county_s_zone():
    starts = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
    assert export.when(starts, datetime(2026, 3, 1, 3, 30, tzinfo=UTC)) == "2026-03-01 09:00 至 11:30"
    assert export.when(starts, datetime(2026, 3, 1, 17, 0, tzinfo=UTC)) == "2026-03-01 09:00 至 2026-03-02 01:00"


def test_the_sheet_has_its_title_chinese_headers_and_text_never_taken_for_a_formula():
    found = {
        "activity": {
            "id": 5,
            "title": "=HYPERLINK(1)",
            "platform": "health",
            "organizer_center_id": 2,
            "team_id": 9,
            "starts_at": datetime(2026, 3, 1, 1, 0, tzinfo=UTC),
            "ends_at": datetime(2026, 3, 1, 3, 0, tzinfo=UTC),
            "place": "南天池村广场",
            "status": "recorded",
        },
        "ledger": {"summary": "健步走活动。", "people_served": 120},
        "volunteers": 3,
        "hours": 5.5,
        "photos": 2,
        "materials": 1,
    }
    row = export.ledger_row(1, found, {2: "南天池村新时代文明实践站"}, {})
    content = export.workbook(export.title("县中心", date(2026, 3, 1), date(2026, 3, 31)), [row])
    sheet = load_workbook(io.BytesIO(content)).active
    rows = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert sheet.title == "活动台账"
    assert rows[0][0] == "县中心 新时代文明实践活动台账（2026-03-01 至 2026-03-31）"
    assert tuple(rows[1]) == export.HEADERS and "服务时长（小时）" in rows[1]
    assert rows[2] == [
        1,
        5,
        "=HYPERLINK(1)",
        "健身体育服务",
        "南天池村新时代文明实践站",
        "服务队 9",
        "2026-03-01 09:00 至 11:00",
        "南天池村广场",
        3,
        5.5,
        120,
        "健步走活动。",
        2,
        1,
        "已记录",
    ]
    assert sheet.cell(3, 3).data_type == "s"  # text, not a formula
    assert (
        export.filename("县/中心", date(2026, 3, 1), date(2026, 3, 31)) == "活动台账_县_中心_2026-03-01_2026-03-31.xlsx"
    )
