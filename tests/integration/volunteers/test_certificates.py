"""Service record certificates through the service's RPC on the real broker, on SQLite and
PostgreSQL: issued from the confirmed ledger, read as JSON and PDF, verified by document and
by number and code; altered documents and registry rows refused; scope enforced."""

import base64
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import jsonschema
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from services.chassis.actors import Actor
from services.chassis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.volunteers.certificates.models import Certificate
from services.volunteers.certificates.signing import KeyConfigurationError
from services.volunteers.contract import EVENT_SCHEMAS
from services.volunteers.contract.registration import PRIVACY_STATEMENT_VERSION
from services.volunteers.hours.models import HourEntry
from services.volunteers.service import VolunteersService
from tests.support.actors import COUNTY, center_admin
from tests.support.people import id_number, phone

PERIOD = {"period_start": "2026-01-01", "period_end": "2026-06-30"}
NAME = "欧阳晓岚"


def as_volunteer(account_id):
    return Actor(str(account_id), "volunteer").as_payload()


@pytest.fixture
def add_entry(volunteers_store):
    """`add_entry(volunteer_id, served_on, hours, title, center_id, status="confirmed")`: a ledger
    entry written straight into the database, as the hours part keeps them."""
    serials = iter(range(1, 10**6))

    def add(volunteer_id, served_on, hours, title, center_id, status="confirmed"):
        now = datetime.now(UTC)
        with volunteers_store.unit_of_work() as uow:
            uow.session.add(
                HourEntry(
                    volunteer_id=volunteer_id,
                    source="attendance",
                    attendance_id=volunteer_id * 10**6 + next(serials),
                    revision=1,
                    activity_id=77,
                    activity_title=title,
                    center_id=center_id,
                    served_on=date.fromisoformat(served_on),
                    hours=Decimal(hours),
                    status=status,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )

    return add


@pytest.fixture
def served(tree, add_volunteer, add_entry):
    """A volunteer of station a1 (account 501) with entries in, around and out of PERIOD."""
    volunteer_id = add_volunteer(tree["a1"], account_id=501, name=NAME)
    add_entry(volunteer_id, "2026-05-01", "1.25", "文明旅游引导", tree["a1"])
    add_entry(volunteer_id, "2026-01-01", "2.50", "学雷锋志愿服务：清扫村道", tree["a1"])
    add_entry(volunteer_id, "2026-06-30", "3.00", "关爱留守儿童·周末课堂", tree["b1"])
    add_entry(volunteer_id, "2026-03-01", "8.00", "被撤销的记录", tree["a1"], status="revoked")
    add_entry(volunteer_id, "2025-12-31", "4.00", "期间之前", tree["a1"])
    add_entry(volunteer_id, "2026-07-01", "4.00", "期间之后", tree["a1"])
    return volunteer_id


def outbox(engine, event_type):
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT event_type, payload FROM outbox ORDER BY id")).all()
    return [json.loads(row.payload) for row in rows if row.event_type == event_type]


def registry(engine):
    with engine.connect() as connection:
        return connection.execute(sa.select(Certificate.__table__)).all()


def test_a_volunteer_gets_a_certificate_that_anyone_can_verify(volunteers, tree, served, engine):
    document = volunteers.issue_certificate(served, PERIOD, as_volunteer(501))
    content = document["certificate"]
    assert content["name"] == NAME and content["volunteer_id"] == served
    assert content["volunteer_number"].startswith("TEST-2026-")
    assert (content["period_start"], content["period_end"]) == ("2026-01-01", "2026-06-30")
    assert content["total_hours"] == "6.75"  # the revoked entry and those outside the period do not count
    assert [line["served_on"] for line in content["activities"]] == ["2026-01-01", "2026-05-01", "2026-06-30"]
    assert (content["issuing_center_id"], content["issuing_center_name"]) == (tree["a1"], "a1 实践")
    assert content["issued_by"] == "501"
    keys = volunteers.certificate_keys()
    assert content["key_id"] == keys["current_key_id"] == keys["keys"][0]["kid"]

    (issued,) = outbox(engine, "certificate.issued")
    jsonschema.validate(issued["data"], EVENT_SCHEMAS["certificate.issued"], format_checker=jsonschema.FormatChecker())
    assert issued["data"]["number"] == content["number"] and issued["data"]["activity_count"] == 3
    assert NAME not in json.dumps(issued, ensure_ascii=False)

    assert volunteers.get_certificate(served, content["number"], as_volunteer(501)) == document
    (summary,) = volunteers.list_certificates(served, as_volunteer(501))
    assert summary["number"] == content["number"] and summary["total_hours"] == "6.75"

    verdict = volunteers.verify_certificate(document)
    assert verdict["valid"] is True and verdict["certificate"] == content
    by_code = volunteers.verify_certificate_code(content["number"].lower(), document["verification_code"])
    assert by_code["valid"] is True and by_code["certificate"]["name"] == NAME

    printed = volunteers.get_certificate_pdf(served, content["number"], as_volunteer(501))
    assert printed["filename"] == f"{content['number']}.pdf"
    reader = PdfReader(io.BytesIO(base64.b64decode(printed["content"])))
    text = reader.pages[0].extract_text()
    assert "志愿服务记录证明" in text and NAME in text and document["verification_code"] in text
    assert json.loads(reader.attachments["certificate.json"][0]) == document


def test_a_tampered_certificate_or_a_wrong_code_is_refused(volunteers, served):
    document = volunteers.issue_certificate(served, PERIOD, as_volunteer(501))
    inflated = {**document, "certificate": {**document["certificate"], "total_hours": "67.50"}}
    verdict = volunteers.verify_certificate(inflated)
    assert verdict == {
        "valid": False,
        "reason": "certificate.signature_invalid",
        "message": "证明内容与签名不符：证明已被改动，或并非本平台出具。",
        "certificate": None,
    }
    wrong = volunteers.verify_certificate_code(document["certificate"]["number"], "AAAA-AAAA-AAAA-AAAA")
    assert (wrong["valid"], wrong["reason"]) == (False, "certificate.not_verified")
    with pytest.raises(InvalidInput) as refused:
        volunteers.verify_certificate({"certificate": document["certificate"]})
    assert "signature" in refused.value.fields


def test_an_altered_registry_row_is_refused_too(volunteers, served, engine):
    """Verification checks the signature, not only the database: a row changed behind the
    service's back fails by code, and the genuine document no longer matches it."""
    document = volunteers.issue_certificate(served, PERIOD, as_volunteer(501))
    number = document["certificate"]["number"]
    altered = json.dumps({**document["certificate"], "total_hours": "99.00"}, ensure_ascii=False)
    with engine.begin() as connection:
        connection.execute(sa.update(Certificate.__table__).where(Certificate.number == number).values(content=altered))
    verdict = volunteers.verify_certificate_code(number, document["verification_code"])
    assert (verdict["valid"], verdict["reason"]) == (False, "certificate.signature_invalid")
    assert volunteers.verify_certificate(document)["reason"] == "certificate.not_matching"


def test_admins_of_the_scope_issue_and_read_and_nobody_else(volunteers, tree, served, add_volunteer):
    document = volunteers.issue_certificate(served, PERIOD, center_admin(tree["a"]))
    number = document["certificate"]["number"]
    assert document["certificate"]["issued_by"] == "admin-" + str(tree["a"])
    assert volunteers.get_certificate(served, number, COUNTY) == document
    assert volunteers.get_certificate(served, number, as_volunteer(501)) == document  # issued by staff, theirs to read
    add_volunteer(tree["a1"], account_id=502)
    for actor, code in ((center_admin(tree["b"]), "scope.outside"), (as_volunteer(502), "scope.role")):
        with pytest.raises(PermissionDenied) as refused:
            volunteers.issue_certificate(served, PERIOD, actor)
        assert refused.value.code == code
        for read in (volunteers.get_certificate, volunteers.get_certificate_pdf):
            with pytest.raises(PermissionDenied):
                read(served, number, actor)
        with pytest.raises(PermissionDenied):
            volunteers.list_certificates(served, actor)
    with pytest.raises(NotFound):  # a certificate is read through its own volunteer only
        volunteers.get_certificate(add_volunteer(tree["a1"]), number, COUNTY)


@pytest.mark.parametrize(
    ("period", "error", "code"),
    [
        ({"period_start": "2026-07-01", "period_end": "2026-06-30"}, InvalidInput, "certificate.period_invalid"),
        ({"period_start": "2026-01-01", "period_end": "2099-01-01"}, InvalidInput, "certificate.period_in_future"),
        ({"period_start": "2024-01-01", "period_end": "2024-12-31"}, InvalidInput, "certificate.no_hours"),
        ({"period_start": "2026-01-01"}, InvalidInput, "input.invalid"),
        ({**PERIOD, "remark": "x"}, InvalidInput, "input.invalid"),
    ],
)
def test_a_bad_request_issues_nothing(volunteers, served, engine, period, error, code):
    with pytest.raises(error) as refused:
        volunteers.issue_certificate(served, period, COUNTY)
    assert refused.value.code == code
    assert registry(engine) == [] and outbox(engine, "certificate.issued") == []


def test_a_deregistered_or_unknown_volunteer_gets_none(volunteers, tree, add_volunteer, add_entry, engine):
    gone = add_volunteer(tree["a1"], status="deregistered")
    add_entry(gone, "2026-02-02", "2.00", "文明旅游引导", tree["a1"])
    with pytest.raises(Conflict) as refused:
        volunteers.issue_certificate(gone, PERIOD, COUNTY)
    assert refused.value.code == "certificate.volunteer_deregistered"
    with pytest.raises(NotFound):
        volunteers.issue_certificate(999_999, PERIOD, COUNTY)
    with pytest.raises(InvalidInput) as malformed:
        volunteers.verify_certificate_code("ZS-1", "AAAA")
    assert malformed.value.code == "certificate.number_invalid"
    assert registry(engine) == []


def test_a_volunteer_s_export_holds_their_certificates(volunteers, tree, add_entry):
    registration = {
        "name": NAME,
        "id_number": id_number(7),
        "phone": phone(7),
        "home_station_id": tree["a1"],
        "privacy_consent": {"version": PRIVACY_STATEMENT_VERSION},
    }
    volunteer_id = volunteers.register(registration, as_volunteer(601))["id"]
    add_entry(volunteer_id, "2026-02-02", "2.00", "文明旅游引导", tree["a1"])
    document = volunteers.issue_certificate(volunteer_id, PERIOD, as_volunteer(601))
    assert volunteers.export_my_data(as_volunteer(601))["certificates"] == [document]


def test_the_service_refuses_to_start_without_a_signing_key(
    start_service, volunteers_db, volunteer_keys, nameko_config, monkeypatch
):
    nameko_config.pop("VOLUNTEERS_CERTIFICATE_KEY")
    for variable in ("VOLUNTEERS_CERTIFICATE_KEY", "VOLUNTEERS_CERTIFICATE_KEY_FILE"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(KeyConfigurationError, match="VOLUNTEERS_CERTIFICATE_KEY"):
        start_service(VolunteersService, volunteers_db)
