"""The ledger (活动台账) through the service's RPC, on SQLite and PostgreSQL: files uploaded,
kept on disk by id and read back by organizers only, the ledger filed and changed, the
activity recorded only with its ledger and a photo, and a subtree's ledgers exported to an
.xlsx sheet that opens with its Chinese text."""

import base64
import hashlib
import io
import json
from datetime import datetime, timedelta

import jsonschema
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from services.activities.contract import catalog as catalog_contract
from services.activities.contract import ledger as contract
from services.activities.ledger.models import ActivityFile
from services.activities.ledger.storage import FileStore
from services.activities.service import ActivitiesService
from services.chassis.actors import Actor
from services.chassis.clock import utcnow
from services.chassis.db import Store
from services.chassis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests.support.actors import COUNTY, VOLUNTEER, center_admin

from .conftest import activity_data

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def files_dir(tmp_path):
    """Where the service keeps files in these tests (the `activities_service` fixture sets it)."""
    return tmp_path / "activity-files"


def upload(kind, data, filename, content_type=None):
    return {
        "kind": kind,
        "filename": filename,
        "content_type": content_type,
        "content": base64.b64encode(data).decode("ascii"),
    }


def completed(activities, center_id, organizer=COUNTY, attendees=(), **overrides):
    """An activity run to its end (started and completed early), with the attendance of
    `attendees` ([(volunteer_id, actor)]) confirmed, 1.5 hours each."""
    activity = activities.create_activity(activity_data(center_id, **overrides), organizer)
    activities.publish_activity(activity["id"], organizer)
    for _, actor in attendees:
        activities.sign_up(activity["id"], actor)
    activities.start_activity(activity["id"], organizer)
    if attendees:
        items = [
            {"volunteer_id": volunteer_id, "attendance": "attended", "hours": 1.5} for volunteer_id, _ in attendees
        ]
        activities.confirm_attendance(activity["id"], {"attendances": items}, organizer)
    return activities.complete_activity(activity["id"], organizer)


def refused(error, call, *args):
    with pytest.raises(error) as caught:
        call(*args)
    return caught.value.code


def published(engine, event_type):
    """The data of the events of `event_type` written to the outbox, oldest first."""
    outbox = ActivitiesService.db.metadata.tables["outbox"]
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(outbox.c.payload).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
        )
        return [json.loads(payload)["data"] for (payload,) in rows]


def valid(event_type, data):
    schemas = {**catalog_contract.EVENT_SCHEMAS, **contract.EVENT_SCHEMAS}
    jsonschema.validate(data, schemas[event_type], format_checker=jsonschema.FormatChecker())
    return data


def test_a_ledger_with_its_files_is_filed_and_the_activity_recorded(activities, tree, files_dir, engine):
    admin = center_admin(tree["a"])
    activity = completed(activities, tree["a1"], organizer=admin)
    activity_id = activity["id"]
    assert refused(Conflict, activities.record_activity, activity_id, admin) == "ledger.missing"

    filed = activities.file_ledger(activity_id, {"summary": "开展垃圾分类宣讲。", "people_served": 60}, admin)
    assert (filed["version"], filed["people_served"], filed["photos"], filed["files"]) == (1, 60, 0, [])
    assert refused(Conflict, activities.record_activity, activity_id, admin) == "ledger.no_photo"

    material = activities.add_activity_file(activity_id, upload("material", PDF_BYTES, "活动方案.pdf"), admin)
    photo = activities.add_activity_file(activity_id, upload("photo", PNG_BYTES, "合影", "image/png"), admin)
    assert (photo["kind"], photo["filename"], photo["content_type"]) == ("photo", "合影.png", "image/png")
    assert (photo["size"], photo["sha256"]) == (len(PNG_BYTES), hashlib.sha256(PNG_BYTES).hexdigest())
    # on disk by id and SHA-256, never by the uploaded name, and no temporary file left behind
    kept = sorted(path.relative_to(files_dir).as_posix() for path in files_dir.rglob("*") if path.is_file())
    assert kept == sorted(f"{activity_id}/{item['id']}-{item['sha256']}" for item in (material, photo))
    assert (files_dir / str(activity_id) / f"{photo['id']}-{photo['sha256']}").read_bytes() == PNG_BYTES

    read_back = activities.get_activity_file(activity_id, photo["id"], admin)
    assert base64.b64decode(read_back["content"]) == PNG_BYTES
    assert (read_back["content_type"], read_back["filename"]) == ("image/png", "合影.png")
    listed = activities.list_activity_files(activity_id, COUNTY)
    assert [item["id"] for item in listed] == [material["id"], photo["id"]]

    changed = activities.file_ledger(activity_id, {"summary": "开展垃圾分类宣讲。", "people_served": 65}, admin, 1)
    assert (changed["version"], changed["photos"], changed["materials"]) == (2, 1, 1)
    stale = refused(Conflict, activities.file_ledger, activity_id, {"summary": "x", "people_served": 1}, admin, 1)
    assert stale == "ledger.version_conflict"

    activities.delete_activity_file(activity_id, material["id"], admin)
    assert not (files_dir / str(activity_id) / f"{material['id']}-{material['sha256']}").exists()
    assert refused(NotFound, activities.get_activity_file, activity_id, material["id"], admin) == (
        "activity_file.not_found"
    )

    recorded = activities.record_activity(activity_id, admin)
    assert recorded["status"] == "recorded"
    assert activities.get_ledger(activity_id, admin)["activity_status"] == "recorded"
    assert [data["version"] for data in published(engine, contract.LEDGER_FILED)] == [1, 2]
    (event,) = published(engine, catalog_contract.ACTIVITY_RECORDED)
    assert valid(catalog_contract.ACTIVITY_RECORDED, event)["people_served"] == 65
    valid(contract.LEDGER_FILED, published(engine, contract.LEDGER_FILED)[-1])

    # recorded: final
    for call, args in (
        (activities.add_activity_file, (activity_id, upload("photo", PNG_BYTES, "补充.png"), admin)),
        (activities.delete_activity_file, (activity_id, photo["id"], admin)),
        (activities.file_ledger, (activity_id, {"summary": "改", "people_served": 1}, admin)),
    ):
        assert refused(Conflict, call, *args) == "ledger.recorded"
    assert refused(Conflict, activities.record_activity, activity_id, admin) == "activity.already_recorded"


def test_files_are_checked_by_content_and_the_ledger_waits_for_the_end(activities, tree, files_dir):
    activity = activities.create_activity(activity_data(tree["a1"]), COUNTY)
    poster = activities.add_activity_file(activity["id"], upload("material", PNG_BYTES, "海报.png"), COUNTY)
    assert poster["content_type"] == "image/png"  # a draft may have its files already
    for sent, code in (
        (upload("photo", PDF_BYTES, "照片.jpg"), "activity_file.type_not_allowed"),  # a PDF is no photo
        (upload("material", PNG_BYTES, "方案.pdf"), "activity_file.name_mismatch"),  # a PNG renamed .pdf
        (upload("material", PDF_BYTES, "方案.pdf", "image/png"), "activity_file.type_mismatch"),
    ):
        assert refused(InvalidInput, activities.add_activity_file, activity["id"], sent, COUNTY) == code
    values = {"summary": "未结束", "people_served": 1}
    assert refused(Conflict, activities.file_ledger, activity["id"], values, COUNTY) == "ledger.activity_not_completed"
    assert refused(NotFound, activities.get_ledger, activity["id"], COUNTY) == "ledger.not_found"
    assert [path.name for path in files_dir.rglob("*") if path.is_file()] == [f"{poster['id']}-{poster['sha256']}"]


def test_only_the_activity_s_organizers_handle_its_ledger_and_files(activities, tree, enrol, join_team):
    leader, leader_volunteer = enrol(tree["a1"])
    join_team(team_id=88, center_id=tree["a1"], volunteer_id=leader, role="leader")
    leader_actor = Actor(leader_volunteer["account_id"], "team_leader").as_payload()
    activity = completed(activities, tree["a1"], team_id=88)
    photo = activities.add_activity_file(activity["id"], upload("photo", PNG_BYTES, "合影.png"), leader_actor)
    assert activities.get_activity_file(activity["id"], photo["id"], center_admin(tree["a1"]))["size"] == len(PNG_BYTES)

    outsider, other_leader = center_admin(tree["b"]), Actor("999", "team_leader").as_payload()
    for actor in (outsider, other_leader, VOLUNTEER):
        assert refused(PermissionDenied, activities.get_activity_file, activity["id"], photo["id"], actor) == (
            "activity.not_organizer"
        )
        assert refused(PermissionDenied, activities.list_activity_files, activity["id"], actor)
        assert refused(
            PermissionDenied, activities.add_activity_file, activity["id"], upload("photo", PNG_BYTES, "x.png"), actor
        )
        assert refused(PermissionDenied, activities.delete_activity_file, activity["id"], photo["id"], actor)
        assert refused(
            PermissionDenied, activities.file_ledger, activity["id"], {"summary": "x", "people_served": 1}, actor
        )
        assert refused(PermissionDenied, activities.record_activity, activity["id"], actor)
    assert [item["id"] for item in activities.list_activity_files(activity["id"], leader_actor)] == [photo["id"]]
    query = {"starts_from": "2026-01-01", "starts_to": "2026-01-31"}
    assert refused(PermissionDenied, activities.export_ledgers, tree["a"], query, outsider) == "scope.outside"
    assert refused(PermissionDenied, activities.export_ledgers, tree["a"], query, leader_actor) == "scope.role"


def test_a_file_goes_with_its_transaction(activities, tree, activities_db, tmp_path):
    """Written beside its row and removed if the transaction rolls back; a removal's bytes go
    only once it is committed."""
    activity = activities.create_activity(activity_data(tree["a1"]), COUNTY)
    files = FileStore(tmp_path / "store")
    store = Store(activities_db, ActivitiesService.db.metadata, source="activities")

    def new_row(uow):
        row = ActivityFile(
            activity_id=activity["id"],
            kind="photo",
            filename="合影.png",
            content_type="image/png",
            size=len(PNG_BYTES),
            sha256=hashlib.sha256(PNG_BYTES).hexdigest(),
            uploaded_by="test",
            uploaded_at=utcnow(),
        )
        uow.session.add(row)
        uow.flush()
        files.write(uow, row, PNG_BYTES)
        return row

    try:
        with pytest.raises(RuntimeError), store.unit_of_work() as uow:
            failed = files.path_of(new_row(uow))
            assert failed.read_bytes() == PNG_BYTES
            raise RuntimeError("the transaction fails after the file was written")
        assert not failed.exists()
        with store.unit_of_work() as uow:
            row = new_row(uow)
        kept = files.path_of(row)
        assert kept.read_bytes() == PNG_BYTES

        with pytest.raises(RuntimeError), store.unit_of_work() as uow:
            files.remove_when_committed(uow, uow.session.get(ActivityFile, row.id))
            uow.session.delete(uow.session.get(ActivityFile, row.id))
            raise RuntimeError("the removal fails")
        assert kept.exists()
        with store.unit_of_work() as uow:
            files.remove_when_committed(uow, uow.session.get(ActivityFile, row.id))
            uow.session.delete(uow.session.get(ActivityFile, row.id))
        assert not kept.exists()
    finally:
        store.dispose()


def test_a_subtree_s_ledgers_are_exported_to_xlsx_with_chinese_headers(activities, tree, enrol_many):
    people = enrol_many(tree["a1"], 2)
    admin = center_admin(tree["a"])
    recorded = completed(activities, tree["a1"], title="理论宣讲进万家", platform="theory", attendees=people)
    activities.file_ledger(
        recorded["id"], {"summary": "=宣讲党的二十大精神\n群众反响热烈。", "people_served": 80}, admin
    )
    activities.add_activity_file(recorded["id"], upload("photo", PNG_BYTES, "合影.png"), admin)
    activities.add_activity_file(recorded["id"], upload("material", PDF_BYTES, "签到表.pdf"), admin)
    activities.record_activity(recorded["id"], admin)
    unfiled = completed(activities, tree["a"], title="全民健身走", platform="health", place="县体育场")
    completed(activities, tree["b1"], title="别处的活动")  # another subtree
    cancelled = activities.create_activity(activity_data(tree["a1"], title="取消的活动"), COUNTY)
    activities.cancel_activity(cancelled["id"], {"reason": "天气原因"}, COUNTY)

    day = datetime.fromisoformat(recorded["starts_at"]).date().isoformat()  # the county's day (+08:00)
    exported = activities.export_ledgers(tree["a"], {"starts_from": day, "starts_to": day}, admin)
    assert exported["rows"] == 2
    assert exported["filename"] == f"活动台账_a 实践_{day}_{day}.xlsx"
    assert exported["content_type"] == contract.XLSX
    sheet = load_workbook(io.BytesIO(base64.b64decode(exported["content"]))).active
    rows = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert rows[0][0] == f"a 实践 新时代文明实践活动台账（{day} 至 {day}）"
    assert rows[1][:3] == ["序号", "活动编号", "活动名称"] and rows[1][-1] == "状态"
    starts, ends = datetime.fromisoformat(recorded["starts_at"]), datetime.fromisoformat(recorded["ends_at"])
    end = f"{ends:%H:%M}" if ends.date() == starts.date() else f"{ends:%Y-%m-%d %H:%M}"
    assert rows[2] == [
        1,
        recorded["id"],
        "理论宣讲进万家",
        "理论宣讲",
        "a1 实践",
        None,
        f"{starts:%Y-%m-%d %H:%M} 至 {end}",
        "县新时代文明实践中心",
        2,
        3.0,
        80,
        "=宣讲党的二十大精神\n群众反响热烈。",
        1,
        1,
        "已记录",
    ]
    assert rows[3][:6] == [2, unfiled["id"], "全民健身走", "健身体育服务", "a 实践", None]
    assert rows[3][7:] == ["县体育场", 0, 0.0, None, None, 0, 0, "台账未填报"]
    assert len(rows) == 4

    next_day = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
    empty = activities.export_ledgers(tree["a"], {"starts_from": next_day, "starts_to": next_day}, COUNTY)
    assert empty["rows"] == 0
    too_long = {"starts_from": "2025-01-01", "starts_to": "2026-01-02"}
    assert refused(InvalidInput, activities.export_ledgers, tree["a"], too_long, COUNTY) == "ledger.period_too_long"
    reversed_ = {"starts_from": "2026-01-02", "starts_to": "2026-01-01"}
    assert refused(InvalidInput, activities.export_ledgers, tree["a"], reversed_, COUNTY) == "ledger.period_reversed"
