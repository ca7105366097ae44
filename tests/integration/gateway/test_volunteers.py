"""Volunteers through the gateway: self sign-up with an account, staff registration, who
sees whose private data, reveals in the audit log, export and erasure."""

import pytest

from services.volunteers.contract.registration import PRIVACY_STATEMENT_VERSION
from tests.support.people import id_number, phone

PASSWORD = "volunteer-pass-2026"


@pytest.fixture
def tree(volunteer_tree):
    return volunteer_tree


def registration(station_id, serial):
    return {
        "name": "李志愿",
        "id_number": id_number(serial),
        "phone": phone(serial),
        "service_categories": ["education"],
        "home_station_id": station_id,
        "privacy_consent": {"version": PRIVACY_STATEMENT_VERSION},
    }


def sign_in(web, username):
    response = web.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_a_person_signs_up_sees_their_data_exports_and_erases_it(tree, web, tokens):
    body = {**registration(tree["a1"], 11), "username": "li.zhiyuan", "password": PASSWORD}
    created = web.post("/api/v1/volunteers/sign-up", json=body)
    assert created.status_code == 201, created.text
    volunteer = created.json()
    assert volunteer["channel"] == "self" and "id_number" not in volunteer  # not signed in yet: withheld

    again = web.post("/api/v1/volunteers/sign-up", json={**body, "username": "li.again"})
    assert again.status_code == 409 and again.json()["code"] == "volunteer.id_number_registered"
    refused_login = web.post("/api/v1/auth/token", json={"username": "li.again", "password": PASSWORD})
    assert refused_login.status_code == 401  # no account was made for the refused registration

    token = sign_in(web, "li.zhiyuan")
    mine = web.get("/api/v1/me/volunteer", token=token).json()
    assert mine["id"] == volunteer["id"] and mine["phone"] == "138****0011"

    exported = web.get("/api/v1/me/volunteer/export", token=token)
    assert exported.status_code == 200 and exported.headers["Cache-Control"] == "no-store"
    assert exported.json()["volunteer"]["id_number"] == id_number(11)

    erased = web.post(
        f"/api/v1/volunteers/{volunteer['id']}/status",
        json={"status": "deregistered", "reason": "本人申请"},
        token=token,
    )
    assert erased.status_code == 200 and erased.json()["erased"] is True and erased.json()["name"] is None


def test_private_data_reaches_only_its_owner_and_staff_in_scope(tree, web, tokens, county_token):
    created = web.post(
        "/api/v1/volunteers", json=registration(tree["a1"], 12), token=tokens("a", "center_admin", tree["a"])
    )
    assert created.status_code == 201, created.text
    volunteer_path = f"/api/v1/volunteers/{created.json()['id']}"

    assert web.get(volunteer_path).status_code == 401
    assert web.get(volunteer_path, token=tokens("v2", "volunteer")).status_code == 403
    assert web.get(volunteer_path, token=tokens("b", "center_admin", tree["b"])).status_code == 403
    seen = web.get(volunteer_path, token=tokens("tl", "team_leader", tree["a"])).json()
    assert seen["id_number"] == id_number(12)[:4] + "*" * 10 + id_number(12)[-4:]

    ask = {"fields": ["id_number"], "reason": "核实身份"}
    assert (
        web.post(volunteer_path + "/reveal", json=ask, token=tokens("b", "center_admin", tree["b"])).status_code == 403
    )
    assert (
        web.post(volunteer_path + "/reveal", json=ask, token=tokens("tl", "team_leader", tree["a"])).status_code == 403
    )
    revealed = web.post(volunteer_path + "/reveal", json=ask, token=tokens("a", "center_admin", tree["a"]))
    assert revealed.status_code == 200 and revealed.json()["id_number"] == id_number(12)
    assert "phone" not in revealed.json()

    audit = web.get("/api/v1/volunteer-audit", token=tokens("a", "center_admin", tree["a"])).json()["items"]
    assert [(entry["action"], entry["fields"]) for entry in audit] == [("reveal", ["id_number"])]
    assert web.get("/api/v1/volunteer-audit", token=tokens("b", "center_admin", tree["b"])).json()["items"] == []
    assert web.get("/api/v1/volunteer-audit", token=tokens("v2", "volunteer")).status_code == 403

    in_b = web.get("/api/v1/volunteers", token=tokens("b", "center_admin", tree["b"])).json()
    assert in_b["total"] == 0
    assert web.get("/api/v1/volunteers", token=county_token).json()["total"] == 1
    assert web.get("/api/v1/volunteers", token=tokens("r", "resident")).status_code == 403


def test_staff_cannot_register_outside_their_subtree(tree, web, tokens):
    refused = web.post(
        "/api/v1/volunteers", json=registration(tree["a1"], 13), token=tokens("b", "center_admin", tree["b"])
    )
    assert refused.status_code == 403 and refused.json()["code"] == "scope.outside"
    bad = web.post(
        "/api/v1/volunteers",
        json={**registration(tree["a1"], 13), "phone": "12345678"},
        token=tokens("a", "center_admin", tree["a"]),
    )
    assert bad.status_code == 422 and bad.json()["code"] == "phone.format" and "phone" in bad.json()["errors"]
