"""Service record certificates through the gateway: a volunteer issues one, downloads it as
JSON and PDF, anyone verifies it without a token (by number and code, by the document, with
the published key), a tampered one is refused; callers outside the scope get 403."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pypdf import PdfReader

from services.chassis.db import Store
from services.volunteers.certificates.signing import canonical, from_b64url
from services.volunteers.hours.models import HourEntry
from services.volunteers.models import Volunteer
from services.volunteers.service import VolunteersService

PERIOD = {"period_start": "2026-01-01", "period_end": "2026-06-30"}
NAME = "欧阳晓岚"


@pytest.fixture
def tree(volunteer_tree):
    return volunteer_tree


@pytest.fixture
def volunteers_store(volunteers_gateway, tmp_path):
    """The volunteers service's database (conftest's `volunteers_service` keeps it there)."""
    store = Store(f"sqlite:///{tmp_path / 'volunteers.db'}", VolunteersService.db.metadata, source="volunteers")
    yield store
    store.dispose()


@pytest.fixture
def volunteer(tree, tokens, volunteers_store):
    """(volunteer id, their token): a volunteer of station a1 linked to a real account, with
    confirmed hours in PERIOD written straight into the ledger (no activities service here)."""
    token = tokens("cert", "volunteer")
    account_id = int(jwt.decode(token, options={"verify_signature": False})["sub"])
    now = datetime.now(UTC)
    with volunteers_store.unit_of_work() as uow:
        row = Volunteer(
            volunteer_number="JZXY-2026-000777",
            account_id=account_id,
            name=NAME,
            skills=[],
            service_categories=[],
            available_times=[],
            home_station_id=tree["a1"],
            status="active",
            channel="staff",
            registered_by="test",
            version=1,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(row)
        uow.flush()
        for attendance_id, (served_on, hours, title) in enumerate(
            (("2026-02-14", "2.50", "学雷锋志愿服务：清扫村道"), ("2026-05-01", "3.00", "文明旅游引导")), start=1
        ):
            uow.session.add(
                HourEntry(
                    volunteer_id=row.id,
                    source="attendance",
                    attendance_id=attendance_id,
                    revision=1,
                    activity_id=attendance_id,
                    activity_title=title,
                    center_id=tree["a1"],
                    served_on=date.fromisoformat(served_on),
                    hours=Decimal(hours),
                    status="confirmed",
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
        return row.id, token


def test_a_certificate_is_issued_downloaded_and_verified_by_anyone(volunteer, web):
    volunteer_id, token = volunteer
    issued = web.post(f"/api/v1/volunteers/{volunteer_id}/certificates", json=PERIOD, token=token)
    assert issued.status_code == 201, issued.text
    document = issued.json()
    number, code = document["certificate"]["number"], document["verification_code"]
    assert issued.headers["Location"] == f"/api/v1/volunteers/{volunteer_id}/certificates/{number}"
    assert document["certificate"]["name"] == NAME and document["certificate"]["total_hours"] == "5.50"

    assert web.get(issued.headers["Location"], token=token).json() == document
    listed = web.get(f"/api/v1/volunteers/{volunteer_id}/certificates", token=token).json()
    assert [item["number"] for item in listed] == [number]

    printed = web.get(issued.headers["Location"] + "/pdf", token=token)
    assert printed.status_code == 200 and printed.headers["Content-Type"] == "application/pdf"
    assert printed.headers["Content-Disposition"] == f'attachment; filename="{number}.pdf"'
    assert printed.content.startswith(b"%PDF-")
    text = PdfReader(io.BytesIO(printed.content)).pages[0].extract_text()
    assert "志愿服务记录证明" in text and NAME in text and code in text

    by_code = web.get(f"/api/v1/certificates/{number}/verify", params={"code": code.lower()})  # no token
    assert by_code.status_code == 200 and by_code.json()["valid"] is True
    assert by_code.json()["certificate"] == document["certificate"]
    by_document = web.post("/api/v1/certificates/verify", json=document)
    assert by_document.status_code == 200 and by_document.json()["valid"] is True

    # a third party needs nothing but the published key
    keys = web.get("/api/v1/certificates/keys").json()
    jwk = next(key for key in keys["keys"] if key["kid"] == document["certificate"]["key_id"])
    public_key = Ed25519PublicKey.from_public_bytes(from_b64url(jwk["x"]))
    public_key.verify(from_b64url(document["signature"]), canonical(document["certificate"]))

    tampered = {**document, "certificate": {**document["certificate"], "total_hours": "55.00"}}
    refused = web.post("/api/v1/certificates/verify", json=tampered).json()
    assert (refused["valid"], refused["reason"]) == (False, "certificate.signature_invalid")
    assert refused["certificate"] is None
    wrong = web.get(f"/api/v1/certificates/{number}/verify", params={"code": "AAAA-AAAA-AAAA-AAAA"}).json()
    assert (wrong["valid"], wrong["reason"]) == (False, "certificate.not_verified")


def test_certificates_are_refused_outside_the_volunteer_s_scope(volunteer, web, tokens, tree):
    volunteer_id, token = volunteer
    location = web.post(f"/api/v1/volunteers/{volunteer_id}/certificates", json=PERIOD, token=token).headers["Location"]
    own_admin = tokens("cert-a", "center_admin", tree["a"])
    assert web.post(f"/api/v1/volunteers/{volunteer_id}/certificates", json=PERIOD, token=own_admin).status_code == 201
    assert web.get(location, token=own_admin).status_code == 200

    callers = {
        "another center's admin": (tokens("cert-b", "center_admin", tree["b"]), "scope.outside"),
        "another volunteer": (tokens("cert-other", "volunteer"), "scope.role"),
        "a team leader": (tokens("cert-leader", "team_leader", tree["a1"]), "scope.role"),  # not theirs
    }
    for who, (other, code) in callers.items():
        attempts = {
            "issue": web.post(f"/api/v1/volunteers/{volunteer_id}/certificates", json=PERIOD, token=other),
            "list": web.get(f"/api/v1/volunteers/{volunteer_id}/certificates", token=other),
            "json": web.get(location, token=other),
            "pdf": web.get(location + "/pdf", token=other),
        }
        for what, response in attempts.items():
            assert (response.status_code, response.json()["code"]) == (403, code), (who, what, response.text)
    assert web.get(location + "/pdf").status_code == 401
