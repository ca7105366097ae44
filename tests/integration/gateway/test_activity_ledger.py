"""The ledger over HTTP: the gateway in front of identity, centers, volunteers and activities
(on the real broker). A photo uploaded and downloaded with its headers, the ledger filed and
the activity recorded, the subtree's ledgers downloaded as .xlsx and read back with their
Chinese text; callers outside the scope, of the wrong role or without a token refused."""

import base64
import io
import os
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from services.activities.contract.ledger import MAX_FILE_BYTES
from services.chassis.clock import iso, utcnow

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEAM_NAME = "南天池村文明旅游志愿服务队"


@pytest.fixture
def files_dir(tmp_path):
    """Where the service keeps files in these tests (the `activities_service` fixture sets it)."""
    return tmp_path / "activity-files"


@pytest.fixture
def tree(activities_tree):
    return activities_tree


def new_activity(web, token, center_id):
    """The path of a new draft activity at `center_id`."""
    starts = utcnow() + timedelta(minutes=30)
    body = {
        "title": "邻里互助",
        "platform": "education",
        "organizer_center_id": center_id,
        "place": "城关社区",
        "starts_at": iso(starts),
        "ends_at": iso(starts + timedelta(hours=1)),
        "capacity": 5,
    }
    created = web.post("/api/v1/activities", json=body, token=token)
    assert created.status_code == 201, created.text
    return f"/api/v1/activities/{created.json()['id']}"


def file_body(kind, data, filename):
    return {"kind": kind, "filename": filename, "content": base64.b64encode(data).decode("ascii")}


def test_files_the_ledger_records_the_activity_and_exports_the_subtree(tree, tokens, web, volunteer_of, files_dir):
    admin = tokens("ledger-a", "center_admin", tree["a"])
    leader = tokens("ledger-leader", "team_leader")
    team = {
        "center_id": tree["a1"],
        "name": TEAM_NAME,
        "kind": "civilized_tourism",
        "leader_volunteer_id": volunteer_of(leader, tree["a1"], name="王队长"),
    }
    created_team = web.post("/api/v1/teams", json=team, token=admin)
    assert created_team.status_code == 201, created_team.text
    starts = utcnow() + timedelta(minutes=30)
    body = {
        "title": "文明旅游宣传",
        "platform": "culture",
        "organizer_center_id": tree["a1"],
        "team_id": created_team.json()["id"],
        "place": "南天池景区",
        "starts_at": iso(starts),
        "ends_at": iso(starts + timedelta(hours=2)),
        "capacity": 5,
    }
    activity = web.post("/api/v1/activities", json=body, token=admin).json()
    base = f"/api/v1/activities/{activity['id']}"
    for step in ("publish", "start", "complete"):
        assert web.post(f"{base}/{step}", token=admin).status_code == 200, step

    uploaded = web.post(f"{base}/files", json=file_body("photo", PNG_BYTES, "活动合影.png"), token=admin)
    assert uploaded.status_code == 201, uploaded.text
    photo = uploaded.json()
    assert uploaded.headers["Location"] == f"{base}/files/{photo['id']}"
    assert (files_dir / str(activity["id"]) / f"{photo['id']}-{photo['sha256']}").read_bytes() == PNG_BYTES
    renamed = web.post(f"{base}/files", json=file_body("material", PNG_BYTES, "方案.pdf"), token=admin)
    assert (renamed.status_code, renamed.json()["code"]) == (422, "activity_file.name_mismatch")
    assert (
        web.post(f"{base}/files", json=file_body("material", PDF_BYTES, "签到表.pdf"), token=admin).status_code == 201
    )

    downloaded = web.get(f"{base}/files/{photo['id']}", token=admin)
    assert downloaded.status_code == 200 and downloaded.content == PNG_BYTES
    assert downloaded.headers["Content-Type"] == "image/png"
    assert downloaded.headers["X-Content-Type-Options"] == "nosniff"
    assert downloaded.headers["Cache-Control"] == "private, no-store"
    assert downloaded.headers["Content-Disposition"] == (
        f'attachment; filename="activity-{activity["id"]}-file-{photo["id"]}.png"; '
        f"filename*=UTF-8''{quote('活动合影.png')}"
    )

    assert web.post(f"{base}/record", token=admin).json()["code"] == "ledger.missing"
    filed = web.put(f"{base}/ledger", json={"summary": "向游客宣传文明旅游公约。", "people_served": 150}, token=admin)
    assert filed.status_code == 200, filed.text
    assert filed.headers["ETag"] == '"1"' and filed.json()["photos"] == 1
    stale = web.put(
        f"{base}/ledger", json={"summary": "改", "people_served": 1}, headers={"If-Match": '"7"'}, token=admin
    )
    assert (stale.status_code, stale.json()["code"]) == (409, "ledger.version_conflict")
    recorded = web.post(f"{base}/record", token=admin)
    assert recorded.status_code == 200 and recorded.json()["status"] == "recorded"
    assert web.get(f"{base}/ledger", token=admin).json()["people_served"] == 150

    day = datetime.fromisoformat(activity["starts_at"]).date().isoformat()
    query = {"starts_from": day, "starts_to": day}
    exported = web.get(f"/api/v1/centers/{tree['a']}/ledger-export", params=query, token=admin)
    assert exported.status_code == 200, exported.text
    assert exported.headers["Content-Type"] == XLSX_TYPE
    filename = f"活动台账_a 实践_{day}_{day}.xlsx"
    assert exported.headers["Content-Disposition"] == (
        f"attachment; filename=\"ledgers-{tree['a']}-{day}-{day}.xlsx\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    rows = [[cell.value for cell in row] for row in load_workbook(io.BytesIO(exported.content)).active.iter_rows()]
    assert rows[1] == [
        "序号",
        "活动编号",
        "活动名称",
        "所属平台",
        "组织阵地",
        "服务队",
        "活动时间",
        "活动地点",
        "参与志愿者人数",
        "服务时长（小时）",
        "服务群众人数",
        "活动简介/台账摘要",
        "照片数",
        "资料数",
        "状态",
    ]
    (row,) = rows[2:]
    assert row[:6] == [1, activity["id"], "文明旅游宣传", "文化服务", "a1 实践", TEAM_NAME]
    assert row[7:] == ["南天池景区", 0, 0, 150, "向游客宣传文明旅游公约。", 1, 1, "已记录"]


def test_callers_outside_the_scope_or_of_the_wrong_role_are_refused(tree, tokens, web):
    admin = tokens("ledger-a", "center_admin", tree["a"])
    outsider = tokens("ledger-b", "center_admin", tree["b"])
    volunteer = tokens("ledger-volunteer", "volunteer")
    base = new_activity(web, admin, tree["a1"])
    photo = web.post(f"{base}/files", json=file_body("photo", PNG_BYTES, "合影.png"), token=admin).json()
    export = f"/api/v1/centers/{tree['a']}/ledger-export"
    query = {"starts_from": "2026-01-01", "starts_to": "2026-01-31"}

    for method, path, kwargs in (
        ("GET", f"{base}/files/{photo['id']}", {}),
        ("GET", f"{base}/files", {}),
        ("DELETE", f"{base}/files/{photo['id']}", {}),
        ("POST", f"{base}/files", {"json": file_body("photo", PNG_BYTES, "x.png")}),
        ("PUT", f"{base}/ledger", {"json": {"summary": "x", "people_served": 1}}),
        ("POST", f"{base}/record", {}),
    ):
        answer = web.request(method, path, token=outsider, **kwargs)
        assert (answer.status_code, answer.json()["code"]) == (403, "activity.not_organizer"), (method, path)
        assert web.request(method, path, token=volunteer, **kwargs).json()["code"] == "auth.role_forbidden"
        assert web.request(method, path, **kwargs).status_code == 401
    refused = web.get(export, params=query, token=outsider)
    assert (refused.status_code, refused.json()["code"]) == (403, "scope.outside")
    assert web.get(export, params=query, token=volunteer).status_code == 403
    unknown = web.get("/api/v1/centers/999999/ledger-export", params=query, token=tokens("9001", "county_admin"))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "center.not_found")
    assert web.get("/api/v1/centers/999999/ledger-export", params=query, token=outsider).status_code == 403
    too_long = web.get(export, params={"starts_from": "2025-01-01", "starts_to": "2026-06-30"}, token=admin)
    assert (too_long.status_code, list(too_long.json()["errors"])) == (422, ["starts_to"])
    # nothing refused changed anything
    assert [item["id"] for item in web.get(f"{base}/files", token=admin).json()] == [photo["id"]]
    assert web.get(f"{base}/files/{photo['id']}", token=admin).content == PNG_BYTES


def test_a_photo_as_large_as_allowed_goes_through_and_a_larger_one_is_refused(tree, tokens, web):
    admin = tokens("ledger-a", "center_admin", tree["a"])
    base = new_activity(web, admin, tree["a1"])
    largest = b"\xff\xd8\xff" + os.urandom(MAX_FILE_BYTES["photo"] - 3)  # a JPEG's start, then noise
    uploaded = web.post(f"{base}/files", json=file_body("photo", largest, "全景.jpg"), token=admin, timeout=30)
    assert uploaded.status_code == 201, uploaded.text
    assert web.get(f"{base}/files/{uploaded.json()['id']}", token=admin, timeout=30).content == largest
    larger = web.post(f"{base}/files", json=file_body("photo", largest + b"\0", "全景.jpg"), token=admin, timeout=30)
    assert (larger.status_code, larger.json()["code"]) == (422, "activity_file.too_large")
