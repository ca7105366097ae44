"""Bulk import of volunteers from CSV and xlsx, through the service's RPC on the real broker, on
SQLite and PostgreSQL: the upload, the work in batches by the service's timer, the per-row
report, a second run of the same file, scope, and a run that survives a restart."""

import base64
import csv
import gzip
import io
import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from services.chassis.clock import utcnow
from services.chassis.errors import InvalidInput, NotFound, PermissionDenied
from services.volunteers.contract.registration import PRIVACY_STATEMENT_VERSION
from services.volunteers.imports.models import ImportRun
from services.volunteers.models import Volunteer
from services.volunteers.service import VolunteersService
from tests.support.actors import COUNTY, VOLUNTEER, center_admin
from tests.support.people import id_number, phone
from tests.support.waiting import wait_for

HEADER = ["姓名", "身份证号", "手机号", "所属阵地ID", "阵地编码", "技能", "服务类别", "可服务时间"]
HEADER += ["监护人姓名", "监护人关系", "监护人电话"]
PAPER_CONSENT = {"version": PRIVACY_STATEMENT_VERSION, "attested": True}


def id_of(serial):
    """A valid ID number per serial, unique beyond the 1,000 of one birth date."""
    return id_number(serial % 1000, born=date(1980, 1, 1) + timedelta(days=serial // 1000))


def person(serial, station="", code="", categories="理论宣讲、文化服务", times="周末", **extra):
    guardian = extra.pop("guardian", ("", "", ""))
    row = [f"志愿者{serial}", id_of(serial), phone(serial), str(station), code, "书法、急救", categories, times]
    row = [*row, *guardian]
    for index, name in ((1, "id_number"), (2, "phone")):
        if name in extra:
            row[index] = extra.pop(name)
    assert not extra
    return row


def csv_content(rows, encoding="utf-8-sig"):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *rows])
    return buffer.getvalue().encode(encoding)


def upload(volunteers, content, actor, center_id, file_name="名单.csv", compress=False):
    data = gzip.compress(content) if compress else content
    body = {
        "center_id": center_id,
        "file_name": file_name,
        "content": base64.b64encode(data).decode(),
        "compression": "gzip" if compress else None,
        "privacy_consent": PAPER_CONSENT,
    }
    return volunteers.start_import(body, actor)


def finished(volunteers, run, actor=COUNTY, timeout=60):
    return wait_for(
        lambda: (now := volunteers.get_import(run["id"], actor))["status"] in ("completed", "failed") and now,
        timeout=timeout,
        what=f"import {run['id']} to finish",
    )


def report_rows(volunteers, run, actor=COUNTY, **filters):
    page = volunteers.list_import_rows(run["id"], {"page_size": 200, **filters}, actor)
    return {row["row_number"]: row for row in page["items"]}


def outbox(engine, event_type):
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT event_type, payload FROM outbox ORDER BY id")).all()
    return [json.loads(row.payload) for row in rows if row.event_type == event_type]


def volunteer_count(engine):
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(Volunteer)).scalar_one()


def test_a_file_with_bad_rows_imports_the_good_ones_and_lists_every_bad_one(volunteers, centers, tree, engine):
    centers.set_status(tree["a2"], {"status": "suspended", "reason": "装修"}, COUNTY)
    volunteers.register(
        {
            "name": "已注册",
            "id_number": id_of(50),
            "phone": phone(50),
            "home_station_id": tree["a1"],
            "privacy_consent": {"version": PRIVACY_STATEMENT_VERSION},
        },
        COUNTY,
    )
    bad_check = id_number(7)[:17] + ("0" if id_number(7)[17] != "0" else "1")
    minor = id_number(8, born=date(2014, 6, 1))
    rows = [
        person(1, station=tree["a1"]),  # row 2: by id
        person(2, code="t-a1", categories="教育服务, health", times="工作日晚上；节假日"),  # 3: by code
        person(3),  # 4: the run's center
        person(4, id_number=bad_check),  # 5
        person(5, phone="12345"),  # 6
        person(6, station=tree["b1"]),  # 7: outside the run's subtree
        person(9, station=tree["a2"]),  # 8: suspended
        person(10, categories="跳广场舞"),  # 9
        person(11, id_number=minor),  # 10: a minor without guardian
        person(12, id_number=id_of(1)),  # 11: the same ID number as row 2
        person(50),  # 12: registered before
        person(13, id_number=id_number(13, born=date(2013, 1, 1)), guardian=("家长", "母亲", phone(99))),  # 13
    ]
    actor = center_admin(tree["a"])
    run = upload(volunteers, csv_content(rows, "gb18030"), actor, tree["a"], compress=True)
    assert run["status"] == "queued" and run["total_rows"] == 12 and run["kind"] == "csv"
    assert run["ignored_columns"] == []

    done = finished(volunteers, run, actor)
    assert done["status"] == "completed" and done["processed_rows"] == 12
    assert (done["imported"], done["skipped_duplicates"], done["refused"]) == (4, 2, 6)
    report = report_rows(volunteers, run, actor)
    assert {number: row["outcome"] for number, row in report.items()} == {
        2: "imported",
        3: "imported",
        4: "imported",
        5: "refused",
        6: "refused",
        7: "refused",
        8: "refused",
        9: "refused",
        10: "refused",
        11: "duplicate",
        12: "duplicate",
        13: "imported",
    }
    assert {number: report[number]["code"] for number in (5, 6, 7, 8, 9, 10, 11, 12)} == {
        5: "id_number.check_digit",
        6: "phone.format",
        7: "scope.outside",
        8: "center.inactive",
        9: "import.unknown_service_categories",
        10: "volunteer.guardian_required",
        11: "import.id_number_repeated",
        12: "volunteer.id_number_registered",
    }
    assert set(report[6]["errors"]) == {"phone"} and set(report[7]["errors"]) == {"home_station_id"}
    assert report[12]["volunteer_number"] is not None  # registered in the run's subtree: shown

    with engine.connect() as connection:
        imported = connection.execute(
            sa.select(Volunteer).where(Volunteer.channel == "import").order_by(Volunteer.id)
        ).all()
    assert [row.home_station_id for row in imported] == [tree["a1"], tree["a1"], tree["a"], tree["a"]]
    assert {row.volunteer_number for row in imported} == {report[n]["volunteer_number"] for n in (2, 3, 4, 13)}
    assert imported[1].service_categories == ["education", "health"]
    assert imported[1].available_times == ["weekday_evening", "holiday"]
    assert all(row.privacy_consent_version == PRIVACY_STATEMENT_VERSION for row in imported)
    assert all(row.registered_by == actor["account_id"] for row in imported)
    assert imported[3].guardian["name"] == "家长"

    registered = [event for event in outbox(engine, "volunteer.registered") if event["data"]["channel"] == "import"]
    assert len(registered) == 4
    (finish,) = outbox(engine, "volunteer_import.finished")
    assert finish["data"]["imported"] == 4 and finish["data"]["status"] == "completed"
    with engine.connect() as connection:
        assert connection.execute(sa.select(ImportRun.rows_token)).scalar_one() is None  # the rows are gone

    text = volunteers.import_report(run["id"], actor)
    assert text["file_name"] == "名单-导入结果.csv"
    lines = list(csv.reader(io.StringIO(text["content"])))
    assert lines[0] == ["行号", "结果", "志愿者编号", "原因"] and len(lines) == 13
    assert lines[4][:2] == ["5", "未导入"] and lines[4][3].startswith("身份证号：")
    exposed = json.dumps([text, report], ensure_ascii=False)
    for serial in range(1, 14):
        assert id_of(serial) not in exposed and phone(serial) not in exposed
    assert bad_check not in exposed and minor not in exposed


def test_running_the_same_file_again_imports_nothing_twice(volunteers, tree, engine):
    content = csv_content([person(serial, station=tree["a1"]) for serial in range(1, 6)])
    first = finished(volunteers, upload(volunteers, content, COUNTY, tree["a"]))
    assert first["imported"] == 5
    second = finished(volunteers, upload(volunteers, content, COUNTY, tree["a"]))
    assert (second["imported"], second["skipped_duplicates"], second["refused"]) == (0, 5, 0)
    assert volunteer_count(engine) == 5
    numbers = {row["volunteer_number"] for row in report_rows(volunteers, second).values()}
    assert numbers == {row["volunteer_number"] for row in report_rows(volunteers, first).values()}


def test_a_duplicate_registered_outside_the_runs_subtree_shows_no_number(volunteers, tree):
    finished(volunteers, upload(volunteers, csv_content([person(1, station=tree["b1"])]), COUNTY, tree["b"]))
    run = finished(volunteers, upload(volunteers, csv_content([person(1)]), center_admin(tree["a"]), tree["a"]))
    (row,) = report_rows(volunteers, run).values()
    assert row["outcome"] == "duplicate" and row["volunteer_number"] is None


def test_an_xlsx_file_imports_in_batches_and_pages_its_report(volunteers, tree):
    workbook = Workbook()
    workbook.active.append(["志愿者名单（2026年）"])  # a title above the header
    workbook.active.append([*HEADER, "备注"])
    for serial in range(1, 651):
        row = person(serial, station=tree["a1"], categories="科普")
        row[2], row[3] = int(row[2]), int(row[3])  # numbers, as Excel keeps them
        workbook.active.append([*row, "x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    run = upload(volunteers, buffer.getvalue(), COUNTY, tree["a"], file_name="名单.xlsx")
    assert run["kind"] == "xlsx" and run["total_rows"] == 650 and run["ignored_columns"] == ["备注"]
    done = finished(volunteers, run)
    assert (done["imported"], done["refused"]) == (650, 0)
    page = volunteers.list_import_rows(run["id"], {"page": 4, "page_size": 200}, COUNTY)
    assert page["total"] == 650 and [row["row_number"] for row in page["items"]] == list(range(603, 653))
    assert volunteers.list_import_rows(run["id"], {"outcome": "refused"}, COUNTY)["total"] == 0


def test_a_run_interrupted_by_a_restart_goes_on_where_it_stopped(
    volunteers, volunteers_service, start_service, volunteers_db, tree, engine
):
    total = 4000
    run = upload(
        volunteers, csv_content([person(serial, station=tree["a1"]) for serial in range(total)]), COUNTY, tree["a"]
    )
    wait_for(lambda: _processed(engine, run["id"]) >= 500, timeout=60, interval=0.01)
    volunteers_service.kill()  # mid-run: the batch in progress rolls back
    stopped_at = _processed(engine, run["id"])
    assert 500 <= stopped_at < total  # it did stop mid-run
    start_service(VolunteersService, volunteers_db)
    done = finished(volunteers, run)
    assert (done["imported"], done["skipped_duplicates"], done["refused"]) == (total, 0, 0)
    assert volunteer_count(engine) == total
    assert volunteers.list_import_rows(run["id"], {}, COUNTY)["total"] == total


def test_a_run_whose_rows_cannot_be_read_fails_and_says_why(volunteers, tree, volunteers_store, engine):
    with volunteers_store.unit_of_work() as uow:  # as if its key had been dropped from the configuration
        run = ImportRun(
            center_id=tree["a"],
            file_name="名单.csv",
            kind="csv",
            rows_token="v1.gone.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ignored_columns=[],
            status="queued",
            total_rows=3,
            processed_rows=0,
            imported=0,
            skipped_duplicates=0,
            refused=0,
            failed_attempts=0,
            privacy_consent_version=PRIVACY_STATEMENT_VERSION,
            actor_account_id="county-1",
            actor_role="county_admin",
            created_at=utcnow(),
        )
        uow.session.add(run)
        uow.flush()
        run_id = run.id
    done = finished(volunteers, {"id": run_id})
    assert done["status"] == "failed" and done["failure"]["code"] == "import.file_unreadable"
    (event,) = outbox(engine, "volunteer_import.finished")
    assert event["data"]["status"] == "failed" and event["subject"] == str(run_id)


def _processed(engine, import_id):
    with engine.connect() as connection:
        return connection.execute(sa.select(ImportRun.processed_rows).where(ImportRun.id == import_id)).scalar_one()


# --- refusals -----------------------------------------------------------------------------------


def b64(text):
    return base64.b64encode(text.encode()).decode()


def test_only_admins_of_the_runs_center_upload_and_read(volunteers, tree):
    content = csv_content([person(1)])
    with pytest.raises(PermissionDenied) as refused:
        upload(volunteers, content, VOLUNTEER, tree["a"])
    assert refused.value.code == "scope.role"
    with pytest.raises(PermissionDenied) as refused:
        upload(volunteers, content, center_admin(tree["b"]), tree["a"])
    assert refused.value.code == "scope.outside"
    run = upload(volunteers, content, center_admin(tree["a"]), tree["a1"])
    for read in (
        lambda actor: volunteers.get_import(run["id"], actor),
        lambda actor: volunteers.list_import_rows(run["id"], {}, actor),
        lambda actor: volunteers.import_report(run["id"], actor),
    ):
        with pytest.raises(PermissionDenied) as refused:
            read(center_admin(tree["b"]))
        assert refused.value.code == "scope.outside"
        with pytest.raises(PermissionDenied):
            read(VOLUNTEER)
        assert read(center_admin(tree["a1"]))  # an admin below the importer, whose scope holds the run's center
    with pytest.raises(NotFound):
        volunteers.get_import(999_999, COUNTY)


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (
            {"privacy_consent": {"version": PRIVACY_STATEMENT_VERSION, "attested": False}},
            "input.invalid",
            "privacy_consent.attested",
        ),
        ({"privacy_consent": {"version": "2020-01", "attested": True}}, "input.invalid", "privacy_consent.version"),
        ({"content": "%%%"}, "import.content_invalid", "content"),
        (
            {"content": b64("姓名,手机号\r\n张三,1\r\n")},
            "import.columns_missing",
            "content",
        ),
        ({"content": b64(",".join(HEADER))}, "import.no_rows", "content"),
        ({"kind": "xlsx"}, "import.kind_mismatch", "content"),
        ({"center_id": 999_999}, "center.not_found", "center_id"),
    ],
)
def test_a_bad_upload_is_refused_and_stores_nothing(volunteers, tree, engine, change, code, field):
    body = {
        "center_id": tree["a"],
        "file_name": "名单.csv",
        "content": base64.b64encode(csv_content([person(1)])).decode(),
        "privacy_consent": PAPER_CONSENT,
        **change,
    }
    with pytest.raises(InvalidInput) as refused:
        volunteers.start_import(body, COUNTY)
    assert refused.value.code == code and field in refused.value.fields
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(ImportRun)).scalar_one() == 0
