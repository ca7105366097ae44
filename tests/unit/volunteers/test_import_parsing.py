"""Reading import files (services/volunteers/imports/parsing.py) and the rules of a row
(services/volunteers/imports/domain.py), without a broker or a database."""

import base64
import csv
import gzip
import io
from datetime import date

import pytest
from openpyxl import Workbook

from services.centers.contract import PLATFORMS
from services.chassis.errors import InvalidInput, PermissionDenied
from services.chassis.schemas import load
from services.volunteers.contract.imports import (
    CATEGORY_LABELS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    REPORT_HEADER,
    TIME_LABELS,
)
from services.volunteers.contract.registration import AVAILABLE_TIMES, PRIVACY_STATEMENT_VERSION, RegistrationSchema
from services.volunteers.enrolment import registration
from services.volunteers.imports import domain, parsing
from services.volunteers.imports.parsing import SheetRow
from tests.support.people import id_number, phone

HEADER = ["姓名", "身份证号", "手机号", "所属阵地ID", "技能", "服务类别", "可服务时间"]
CONSENT = {"version": PRIVACY_STATEMENT_VERSION, "accepted_at": "2026-11-29T08:00:00Z"}


def csv_bytes(rows, encoding="utf-8", delimiter=","):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, extra_sheet=None):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    if extra_sheet:
        workbook.create_sheet("第二页").append(extra_sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_rows(data, kind="csv"):
    sheet = parsing.read_sheet(data, kind)
    return sheet, list(sheet.rows)


def refusal_code(call, *args):
    with pytest.raises(InvalidInput) as refused:
        call(*args)
    return refused.value.code


# --- the upload's bytes -----------------------------------------------------------------------


def test_the_file_comes_from_base64_and_gzip():
    data = csv_bytes([HEADER])
    assert parsing.file_bytes(base64.b64encode(data).decode()) == data
    wrapped = "\n".join(base64.b64encode(data).decode()[i : i + 20] for i in range(0, 200, 20))
    assert parsing.file_bytes(wrapped) == data  # MIME-style line breaks are fine
    assert parsing.file_bytes(base64.b64encode(gzip.compress(data)).decode(), "gzip") == data


def test_bad_content_is_refused_with_its_own_code():
    assert refusal_code(parsing.file_bytes, "not base64!") == "import.content_invalid"
    assert refusal_code(parsing.file_bytes, base64.b64encode(b"plain").decode(), "gzip") == "import.content_invalid"
    assert refusal_code(parsing.file_bytes, base64.b64encode(b" \r\n").decode()) == "import.file_empty"
    bomb = base64.b64encode(gzip.compress(b"a" * (MAX_FILE_BYTES + 1))).decode()
    assert refusal_code(parsing.file_bytes, bomb, "gzip") == "import.file_too_large"


def test_the_refusal_names_the_content_field():
    with pytest.raises(InvalidInput) as refused:
        parsing.file_bytes("%%%")
    assert list(refused.value.fields) == ["content"]


def test_the_kind_is_read_from_the_content():
    assert parsing.kind_of(csv_bytes([HEADER])) == "csv"
    assert parsing.kind_of(xlsx_bytes([HEADER])) == "xlsx"
    assert parsing.kind_of(xlsx_bytes([HEADER]), "xlsx") == "xlsx"
    assert refusal_code(parsing.kind_of, csv_bytes([HEADER]), "xlsx") == "import.kind_mismatch"
    assert refusal_code(parsing.kind_of, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest") == "import.xls_unsupported"


# --- CSV encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_csv_in_every_encoding_excel_writes_reads_the_same(encoding):
    rows = [HEADER, ["张三", id_number(1), phone(1), "5", "书法", "理论宣讲", "周末"]]
    sheet, data_rows = sheet_rows(csv_bytes(rows, encoding))
    assert sheet.fields == ["name", "id_number", "phone", "home_station_id", "skills", "service_categories"] + [
        "available_times"
    ]
    assert data_rows[0].cells["name"] == "张三"
    assert data_rows[0].cells["service_categories"] == "理论宣讲"


def test_undecodable_csv_is_refused():
    assert refusal_code(parsing.decode_csv, b"\x81\x30\xff\xfe\x80") == "import.encoding"


def test_tab_separated_text_is_read():
    _, rows = sheet_rows(csv_bytes([HEADER, ["李四", id_number(2), phone(2), "", "", "", ""]], "utf-16", "\t"))
    assert rows[0].cells["name"] == "李四"


# --- headers ----------------------------------------------------------------------------------


def test_headers_are_matched_loosely_and_in_english():
    header = ["*姓名", "身份证号码（必填）", " 手机 号 ", "station_code", "Service Categories", "备注"]
    sheet, rows = sheet_rows(csv_bytes([header, ["王五", id_number(3), phone(3), "t-a1", "culture", "x"]]))
    assert sheet.columns == ["name", "id_number", "phone", "home_station_code", "service_categories", None]
    assert sheet.ignored == ["备注"]
    assert rows[0].cells["home_station_code"] == "t-a1"


def test_a_title_row_above_the_header_is_passed_over_and_rows_keep_their_sheet_numbers():
    rows = [["志愿者信息登记表"], HEADER, ["张三", id_number(1), phone(1), "", "", "", ""], [], ["", "", ""]]
    rows.append(["李四", id_number(2), phone(2), "", "", "", ""])
    _, data_rows = sheet_rows(csv_bytes(rows))
    assert [row.number for row in data_rows] == [3, 6]  # blank rows are not data, yet keep their numbers


def test_missing_repeated_and_absent_headers_are_refused():
    assert refusal_code(parsing.read_sheet, csv_bytes([["姓名", "手机号"], ["a", "b"]]), "csv") == (
        "import.columns_missing"
    )
    assert refusal_code(parsing.read_sheet, csv_bytes([["姓名", "身份证号", "手机号", "手机"]]), "csv") == (
        "import.column_repeated"
    )
    assert refusal_code(parsing.read_sheet, csv_bytes([["a", "b"]] * 12), "csv") == "import.header_missing"


def test_more_rows_than_allowed_are_refused_when_read():
    rows = [HEADER] + [["张三", id_number(1), phone(1)]] * (MAX_ROWS + 1)
    sheet = parsing.read_sheet(csv_bytes(rows), "csv")
    with pytest.raises(InvalidInput) as refused:
        sum(1 for _ in sheet.rows)
    assert refused.value.code == "import.too_many_rows"
    assert sum(1 for _ in parsing.read_sheet(csv_bytes(rows[:-1]), "csv").rows) == MAX_ROWS


# --- xlsx -------------------------------------------------------------------------------------


def test_xlsx_reads_the_first_sheet_with_numbers_as_text():
    first = ["张三", id_number(1), 13800138000, 5, "书法", "理论宣讲", "周末"]
    data = xlsx_bytes([HEADER, first, [], ["李四", id_number(2), phone(2)]], extra_sheet=["other"])
    sheet, rows = sheet_rows(data, "xlsx")
    assert [row.number for row in rows] == [2, 4]
    assert rows[0].cells["phone"] == "13800138000"
    assert rows[0].cells["home_station_id"] == "5"
    assert rows[1].cells["skills"] == ""
    assert rows[0].lost_digits == frozenset()


def test_an_id_number_excel_stored_as_a_number_is_marked_and_refused_with_its_own_code():
    _, (row,) = sheet_rows(xlsx_bytes([HEADER, ["张三", 140724199005170011, phone(1)]]), "xlsx")
    assert row.lost_digits == {"id_number"}
    with pytest.raises(InvalidInput) as refused:
        domain.registration_values(row, 5, CONSENT)
    assert refused.value.code == "import.excel_number"
    assert "文本" in refused.value.fields["id_number"][0]


def test_a_damaged_xlsx_is_refused():
    damaged = xlsx_bytes([HEADER])[:300]
    assert refusal_code(parsing.read_sheet, damaged, "xlsx") == "import.xlsx_unreadable"


# --- a row's registration ---------------------------------------------------------------------


def row(**cells):
    defaults = {"name": "张三", "id_number": id_number(1), "phone": phone(1)}
    return SheetRow(2, {**defaults, **cells})


def test_list_cells_are_split_on_every_separator():
    assert domain.split_list("书法、急救，摄影,舞蹈;英语；编程\n 驾驶 ") == ["书法", "急救", "摄影", "舞蹈"] + [
        "英语",
        "编程",
        "驾驶",
    ]
    assert domain.split_list("") == []


def test_chinese_words_become_the_keys_and_the_values_load_as_a_registration():
    cells = row(skills="书法、急救", service_categories="理论宣讲、文化服务, health", available_times="周末；节假日")
    values = domain.registration_values(cells, 7, CONSENT)
    assert values["service_categories"] == ["theory", "culture", "health"]
    assert values["available_times"] == ["weekend", "holiday"]
    assert values["skills"] == ["书法", "急救"]
    loaded = load(RegistrationSchema, values)
    state = registration(loaded, date(2026, 11, 29))
    assert state["home_station_id"] == 7
    assert state["service_categories"] == ["theory", "culture", "health"]


def test_every_category_and_time_has_chinese_words():
    assert set(CATEGORY_LABELS) == set(PLATFORMS)
    assert set(TIME_LABELS) == set(AVAILABLE_TIMES)


def test_unknown_words_are_refused_naming_each_field():
    with pytest.raises(InvalidInput) as refused:
        domain.registration_values(row(service_categories="理论宣讲、跳广场舞"), 7, CONSENT)
    assert refused.value.code == "import.unknown_service_categories"
    assert "跳广场舞" in refused.value.fields["service_categories"][0]
    with pytest.raises(InvalidInput) as refused:
        domain.registration_values(row(service_categories="x", available_times="y"), 7, CONSENT)
    assert refused.value.code == "import.cell_invalid"
    assert set(refused.value.fields) == {"service_categories", "available_times"}


def test_a_guardian_is_taken_when_any_of_its_cells_is_filled_and_consents_as_attested():
    minor = id_number(5, born=date(2012, 3, 1))
    values = domain.registration_values(
        row(id_number=minor, guardian_name="张父", guardian_relation="父亲", guardian_phone=phone(9)), 7, CONSENT
    )
    assert values["guardian"] == {"name": "张父", "relation": "父亲", "phone": phone(9), "consented": True}
    state = registration(load(RegistrationSchema, values), date(2026, 11, 29))
    assert state["guardian"]["name"] == "张父"
    assert domain.registration_values(row(guardian_name=""), 7, CONSENT)["guardian"] is None


def test_a_minor_without_guardian_is_refused_by_the_registration_rules():
    values = domain.registration_values(row(id_number=id_number(5, born=date(2012, 3, 1))), 7, CONSENT)
    with pytest.raises(InvalidInput) as refused:
        registration(load(RegistrationSchema, values), date(2026, 11, 29))
    assert refused.value.code == "volunteer.guardian_required"


# --- home stations ----------------------------------------------------------------------------

SUBTREE = [
    {"id": 10, "code": "t-a", "status": "active"},
    {"id": 11, "code": "t-a1", "status": "active"},
    {"id": 12, "code": "t-a2", "status": "suspended"},
]


def test_a_row_names_its_station_by_id_or_code_or_gets_the_runs_center():
    stations = domain.Stations(10, SUBTREE)
    assert stations.home_of(domain.station_ref({"home_station_id": "11"})) == 11
    assert stations.home_of(domain.station_ref({"home_station_id": "１１"})) == 11  # full-width digits
    assert stations.home_of(domain.station_ref({"home_station_code": "t-a1"})) == 11
    assert stations.home_of(domain.station_ref({"home_station_id": "11", "home_station_code": "t-a1"})) == 11
    assert stations.home_of(domain.station_ref({})) == 10


def test_stations_outside_the_run_inactive_or_contradictory_are_refused():
    stations = domain.Stations(10, SUBTREE)
    with pytest.raises(PermissionDenied) as refused:
        stations.home_of(domain.station_ref({"home_station_id": "99"}))
    assert refused.value.code == "scope.outside"
    assert list(refused.value.fields) == ["home_station_id"]
    with pytest.raises(PermissionDenied):
        stations.home_of(domain.station_ref({"home_station_code": "t-b1"}))
    assert refusal_code(stations.home_of, domain.station_ref({"home_station_id": "12"})) == "center.inactive"
    mismatch = domain.station_ref({"home_station_id": "11", "home_station_code": "t-a"})
    assert refusal_code(stations.home_of, mismatch) == "import.station_mismatch"
    assert refusal_code(domain.station_ref, {"home_station_id": "五"}) == "import.station_id_invalid"
    assert refusal_code(domain.station_ref, {"home_station_id": "0"}) == "import.station_id_invalid"


# --- outcomes and the report --------------------------------------------------------------------


def test_outcomes_are_counted_as_the_run_counts_them():
    outcomes = [
        domain.imported(2, 1, "JZXY-2026-000001"),
        domain.already_registered(3, None),
        domain.repeated_in_file(4, 2),
        domain.refused(5, InvalidInput("phone.format", "x", {"phone": ["x"]})),
    ]
    assert domain.counts(outcomes) == {"imported": 1, "skipped_duplicates": 2, "refused": 1}


def test_a_refusal_without_fields_keeps_its_message():
    outcome = domain.refused(7, PermissionDenied("scope.outside", "目标不在您管理的范围内。"))
    assert outcome.errors == {"_row": ["目标不在您管理的范围内。"]}
    assert domain.reason(outcome.errors) == "目标不在您管理的范围内。"


def test_the_report_is_csv_with_chinese_headers_reasons_by_column_and_no_formulas():
    outcomes = [
        domain.imported(2, 1, "JZXY-2026-000001"),
        domain.already_registered(3, "JZXY-2026-000002"),
        domain.refused(4, InvalidInput("x", "x", {"phone": ["手机号码应为11位"], "guardian.phone": ["必填。"]})),
        domain.refused(5, InvalidInput("x", "x", {"service_categories": ["未知的服务类别：“=1+1”。"]})),
        domain.refused(6, InvalidInput("x", "x", {"skills.0": ["长度必须在 1 到 20 之间。"]})),
    ]
    text = domain.report_csv(outcomes)
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == REPORT_HEADER
    assert lines[1] == ["2", "已导入", "JZXY-2026-000001", ""]
    assert lines[2] == ["3", "已注册（未重复导入）", "JZXY-2026-000002", "身份证号：证件号码已注册，未重复导入。"]
    assert lines[3] == ["4", "未导入", "", "手机号：手机号码应为11位；监护人电话：必填。"]
    assert lines[4][3] == "服务类别：未知的服务类别：“=1+1”。"
    assert lines[5][3] == "技能：长度必须在 1 到 20 之间。"
    assert domain._cell("=HYPERLINK()") == "'=HYPERLINK()"
    assert text.endswith("\r\n")


def test_messages_never_quote_an_id_number_or_a_phone():
    number, mobile = id_number(8), phone(8)
    cells = row(id_number=number, phone=mobile, service_categories=number, available_times=mobile)
    with pytest.raises(InvalidInput) as refused:
        domain.registration_values(cells, 7, CONSENT)
    text = domain.reason(refused.value.fields)
    assert number not in text and mobile not in text
    assert text == "服务类别：未知的服务类别：第 1 项。；可服务时间：未知的可服务时间：第 1 项。"


def test_the_report_is_named_after_the_file():
    assert domain.report_file_name("名单.xlsx") == "名单-导入结果.csv"
    assert domain.report_file_name("名单") == "名单-导入结果.csv"


# --- the rows as a run keeps them ---------------------------------------------------------------


def test_packed_rows_come_back_as_they_were_read():
    data = xlsx_bytes([HEADER, ["张三", 140724199005170011, phone(1), 5, "书法\n急救", "", ""], [], ["李四"]])
    sheet = parsing.read_sheet(data, "xlsx")
    rows = [*sheet.rows, SheetRow(9, {name: "\ud800\x00" for name in sheet.fields})]  # even text no file holds
    packed, count = parsing.packed_rows(iter(rows), sheet.fields)
    assert count == 3
    assert list(parsing.unpacked_rows(packed)) == rows
    assert rows[0].lost_digits == {"id_number"} and rows[0].cells["skills"] == "书法\n急救"
