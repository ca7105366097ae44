"""Bulk import of volunteers through the gateway: a center admin uploads a file with good and
bad rows, follows the run, reads every bad row's reason as JSON and as a CSV file for Excel;
the same file again imports nothing twice; callers outside the run's scope are refused."""

import base64
import csv
import gzip
import io
import time
from urllib.parse import quote

import pytest

from services.volunteers.contract.registration import PRIVACY_STATEMENT_VERSION
from tests.support.people import id_number, phone

HEADER = ["姓名", "身份证号", "手机号", "阵地编码", "服务类别", "可服务时间"]
BAD_CHECK = id_number(3)[:17] + ("0" if id_number(3)[17] != "0" else "1")
ROWS = [
    ["张三", id_number(1), phone(1), "v-a1", "理论宣讲、文化服务", "周末"],  # 2: imported
    ["李四", id_number(2), phone(2), "", "健康与体育服务", "节假日"],  # 3: imported, into the run's center
    ["王五", BAD_CHECK, phone(3), "v-a1", "", ""],  # 4: check digit
    ["赵六", id_number(4), "12345", "v-a1", "", ""],  # 5: phone
    ["钱七", id_number(5), phone(5), "v-b1", "", ""],  # 6: outside the run's subtree
    ["孙八", id_number(6), phone(6), "v-a1", "广场舞", ""],  # 7: unknown category
]


@pytest.fixture
def tree(volunteer_tree):
    return volunteer_tree


def upload_body(center_id, rows=ROWS):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *rows])
    return {
        "center_id": center_id,
        "file_name": "志愿者名单.csv",
        "content": base64.b64encode(gzip.compress(buffer.getvalue().encode("gb18030"))).decode(),
        "compression": "gzip",
        "privacy_consent": {"version": PRIVACY_STATEMENT_VERSION, "attested": True},
    }


def finished(web, location, token, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        run = web.get(location, token=token).json()
        if run["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def test_a_file_with_bad_rows_imports_the_good_ones_lists_every_bad_one_and_imports_nothing_twice(web, tree, tokens):
    admin = tokens("imp-a", "center_admin", tree["a"])
    created = web.post("/api/v1/volunteer-imports", json=upload_body(tree["a"]), token=admin)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert location == f"/api/v1/volunteer-imports/{created.json()['id']}"
    assert created.json()["status"] == "queued" and created.json()["total_rows"] == 6

    run = finished(web, location, admin)
    assert run["status"] == "completed"
    assert (run["imported"], run["skipped_duplicates"], run["refused"]) == (2, 0, 4)
    refused = web.get(location + "/rows", params={"outcome": "refused"}, token=admin).json()
    assert refused["total"] == 4
    assert {row["row_number"]: row["code"] for row in refused["items"]} == {
        4: "id_number.check_digit",
        5: "phone.format",
        6: "scope.outside",
        7: "import.unknown_service_categories",
    }
    assert all(row["errors"] for row in refused["items"])

    report = web.get(location + "/report.csv", token=admin)
    assert report.status_code == 200
    assert report.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert report.headers["Content-Disposition"].endswith("filename*=UTF-8''" + quote("志愿者名单-导入结果.csv"))
    assert report.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[0] == ["行号", "结果", "志愿者编号", "原因"]
    assert [line[1] for line in lines[1:]] == ["已导入", "已导入", "未导入", "未导入", "未导入", "未导入"]
    assert lines[2][2].startswith("JZXY-") and lines[4][3].startswith("手机号：")
    for row in ROWS:
        assert row[1] not in report.text and row[2] not in report.text

    again = web.post("/api/v1/volunteer-imports", json=upload_body(tree["a"]), token=admin)
    run = finished(web, again.headers["Location"], admin)
    assert (run["imported"], run["skipped_duplicates"], run["refused"]) == (0, 2, 4)


def test_only_admins_of_the_runs_scope_upload_and_read(web, tree, tokens):
    admin = tokens("imp-a", "center_admin", tree["a"])
    created = web.post("/api/v1/volunteer-imports", json=upload_body(tree["a1"], ROWS[:1]), token=admin)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    other = tokens("imp-b", "center_admin", tree["b"])
    volunteer = tokens("imp-v", "volunteer")
    for path in (location, location + "/rows", location + "/report.csv"):
        assert web.get(path).status_code == 401
        assert web.get(path, token=volunteer).status_code == 403
        outside = web.get(path, token=other)
        assert outside.status_code == 403 and outside.json()["code"] == "scope.outside"
        assert web.get(path, token=admin).status_code == 200
    upload = upload_body(tree["a"])
    assert web.post("/api/v1/volunteer-imports", json=upload).status_code == 401
    assert web.post("/api/v1/volunteer-imports", json=upload, token=volunteer).status_code == 403
    refused = web.post("/api/v1/volunteer-imports", json=upload, token=other)
    assert refused.status_code == 403 and refused.json()["code"] == "scope.outside"
    unattested = {**upload, "privacy_consent": {"version": PRIVACY_STATEMENT_VERSION, "attested": False}}
    invalid = web.post("/api/v1/volunteer-imports", json=unattested, token=admin)
    assert invalid.status_code == 422 and "privacy_consent.attested" in invalid.json()["errors"]
