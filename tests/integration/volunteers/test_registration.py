"""Registration, profile, status, transfers and private data, through the service's RPC on
the real broker, on SQLite and PostgreSQL."""

import json
from datetime import date

import pytest
import sqlalchemy as sa

from services.chassis.actors import Actor
from services.chassis.errors import Conflict, InvalidInput, PermissionDenied
from services.volunteers.contract.registration import PRIVACY_STATEMENT_VERSION
from services.volunteers.models import Volunteer
from tests.support.actors import COUNTY, center_admin
from tests.support.people import id_number, phone

CONSENT = {"version": PRIVACY_STATEMENT_VERSION}


def registration(station_id, serial=1, **extra):
    return {
        "name": "王小红",
        "id_number": id_number(serial),
        "phone": phone(serial),
        "skills": ["书法", "急救", "书法"],
        "service_categories": ["health", "culture"],
        "available_times": ["weekend"],
        "home_station_id": station_id,
        "privacy_consent": CONSENT,
        **extra,
    }


def volunteer_actor(account_id):
    return Actor(str(account_id), "volunteer").as_payload()


def events(engine, event_type=None):
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT event_type, payload FROM outbox ORDER BY id")).all()
    return [json.loads(row.payload) for row in rows if event_type in (None, row.event_type)]


def test_staff_register_a_volunteer_whose_private_data_leaves_only_masked(volunteers, tree, engine):
    created = volunteers.register(registration(tree["a1"]), center_admin(tree["a"]))
    number = id_number(1)
    assert created["id_number"] == number[:4] + "*" * 10 + number[-4:]
    assert created["phone"] == "138****0001"
    assert created["volunteer_number"] == f"JZXY-{date.today().year}-000001"
    assert created["skills"] == ["书法", "急救"] and created["service_categories"] == ["culture", "health"]
    assert created["sex"] == "male" and created["birth_date"] == "1990-05-17"
    assert created["channel"] == "staff" and created["status"] == "active"
    (registered,) = events(engine, "volunteer.registered")
    text = json.dumps(registered, ensure_ascii=False)
    assert number not in text and phone(1) not in text and "王小红" not in text
    with engine.connect() as connection:
        stored = connection.execute(sa.select(Volunteer.id_number_token, Volunteer.phone_token)).one()
    assert number not in stored.id_number_token and stored.id_number_token.startswith("v1.k1.")


def test_a_second_registration_of_an_id_number_is_refused(volunteers, tree):
    volunteers.register(registration(tree["a1"]), COUNTY)
    with pytest.raises(Conflict) as refused:
        volunteers.register(registration(tree["b1"], phone=phone(9)), COUNTY)
    assert refused.value.code == "volunteer.id_number_registered" and "id_number" in refused.value.fields
    with pytest.raises(Conflict):
        volunteers.check_registration(registration(tree["b1"]))


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (
            {"id_number": id_number(1)[:17] + "0" if id_number(1)[17] != "0" else id_number(1)[:17] + "1"},
            "id_number.check_digit",
            "id_number",
        ),
        ({"phone": "12345"}, "phone.format", "phone"),
        ({"id_number": id_number(3, born=date(2015, 1, 1))}, "volunteer.guardian_required", "guardian"),
        ({"privacy_consent": {"version": "2020-01"}}, "input.invalid", "privacy_consent.version"),
        ({"home_station_id": 999_999}, "center.not_found", "home_station_id"),
    ],
)
def test_bad_registrations_are_refused_with_their_field(volunteers, tree, change, code, field):
    with pytest.raises(InvalidInput) as refused:
        volunteers.register(registration(tree["a1"], **change), COUNTY)
    assert refused.value.code == code and field in refused.value.fields
    assert volunteers.list_volunteers({}, COUNTY)["total"] == 0


def test_a_minor_registers_with_a_consenting_guardian(volunteers, tree):
    guardian = {"name": "王大明", "relation": "父亲", "phone": "139 0000 1111", "consented": True}
    minor = registration(tree["a1"], id_number=id_number(4, born=date(2014, 3, 3)), guardian=guardian)
    created = volunteers.register(minor, COUNTY)
    assert created["guardian"] == {"name": "王大明", "relation": "父亲"}


def test_staff_outside_the_station_cannot_register_there(volunteers, tree):
    with pytest.raises(PermissionDenied) as refused:
        volunteers.register(registration(tree["a1"]), center_admin(tree["b"]))
    assert refused.value.code == "scope.outside"


def test_a_volunteer_registers_themself_and_edits_their_profile(volunteers, tree, engine):
    me = volunteer_actor(501)
    created = volunteers.register(registration(tree["a2"]), me)
    assert created["account_id"] == 501 and created["channel"] == "self"
    assert volunteers.get_my_volunteer(me)["id"] == created["id"]
    changed = volunteers.update_profile(created["id"], {"phone": "+86 139 1234 5678", "skills": ["摄影"]}, me)
    assert changed["phone"] == "139****5678" and changed["skills"] == ["摄影"] and changed["version"] == 2
    with pytest.raises(PermissionDenied):
        volunteers.update_profile(created["id"], {"skills": []}, volunteer_actor(502))
    with pytest.raises(PermissionDenied):
        volunteers.get_volunteer(created["id"], volunteer_actor(502))


def test_a_reveal_is_for_admins_of_the_scope_and_is_audited(volunteers, tree):
    created = volunteers.register(registration(tree["a1"]), COUNTY)
    ask = {"fields": ["id_number", "phone"], "reason": "核实身份"}
    with pytest.raises(PermissionDenied):
        volunteers.reveal(created["id"], ask, center_admin(tree["b"]))
    revealed = volunteers.reveal(created["id"], ask, center_admin(tree["a"]))
    assert revealed["id_number"] == id_number(1) and revealed["phone"] == phone(1)
    (entry,) = volunteers.privacy_audit({}, center_admin(tree["a"]))["items"]
    assert entry["action"] == "reveal" and entry["fields"] == ["id_number", "phone"] and entry["reason"] == "核实身份"
    assert entry["actor_account_id"] == f"admin-{tree['a']}"
    assert volunteers.privacy_audit({}, center_admin(tree["b"]))["items"] == []


def test_a_transfer_is_recorded_and_seen_by_both_stations(volunteers, tree, engine):
    created = volunteers.register(registration(tree["a1"]), COUNTY)
    with pytest.raises(PermissionDenied):
        volunteers.transfer(created["id"], {"to_station_id": tree["b1"], "reason": "搬迁"}, center_admin(tree["b"]))
    moved = volunteers.transfer(created["id"], {"to_station_id": tree["b1"], "reason": "搬迁"}, center_admin(tree["a"]))
    assert moved["home_station_id"] == tree["b1"]
    for admin in (center_admin(tree["a"]), center_admin(tree["b"])):
        (transfer,) = volunteers.list_transfers(created["id"], admin)
        assert (transfer["from_station_id"], transfer["to_station_id"]) == (tree["a1"], tree["b1"])
    (event,) = events(engine, "volunteer.transferred")
    assert event["data"]["previous_home_station_id"] == tree["a1"]


def test_deregistration_erases_personal_data_and_frees_the_id_number(volunteers, tree, engine):
    me = volunteer_actor(601)
    created = volunteers.register(registration(tree["a1"]), me)
    exported = volunteers.export_my_data(me)
    assert exported["volunteer"]["id_number"] == id_number(1) and exported["volunteer"]["phone"] == phone(1)
    gone = volunteers.set_status(created["id"], {"status": "deregistered", "reason": "本人申请"}, me)
    assert gone["erased"] is True and gone["name"] is None and gone["id_number"] is None
    assert gone["volunteer_number"] == created["volunteer_number"]
    with engine.connect() as connection:
        row = connection.execute(sa.select(Volunteer).where(Volunteer.id == created["id"])).one()
    assert row.id_number_token is None and row.phone_token is None and row.name is None
    assert volunteers.register(registration(tree["a1"]), COUNTY)["id"] != created["id"]
    actions = [entry["action"] for entry in volunteers.privacy_audit({}, COUNTY)["items"]]
    assert sorted(actions) == ["erase", "export"]


def test_suspension_needs_a_reason_and_an_admin(volunteers, tree):
    created = volunteers.register(registration(tree["a1"]), COUNTY)
    with pytest.raises(InvalidInput) as refused:
        volunteers.set_status(created["id"], {"status": "suspended"}, COUNTY)
    assert refused.value.code == "volunteer.reason_required"
    with pytest.raises(PermissionDenied):
        volunteers.set_status(created["id"], {"status": "suspended", "reason": "违规"}, center_admin(tree["b"]))
    assert (
        volunteers.set_status(created["id"], {"status": "suspended", "reason": "违规"}, COUNTY)["status"] == "suspended"
    )


def test_lists_are_limited_to_the_callers_scope(volunteers, tree):
    volunteers.register(registration(tree["a1"], 1), COUNTY)
    volunteers.register(registration(tree["b1"], 2), COUNTY)
    assert volunteers.list_volunteers({}, COUNTY)["total"] == 2
    (only,) = volunteers.list_volunteers({}, center_admin(tree["a"]))["items"]
    assert only["home_station_id"] == tree["a1"]
    assert volunteers.list_volunteers({"within": tree["b"]}, center_admin(tree["a"]))["total"] == 0
    with pytest.raises(PermissionDenied):
        volunteers.list_volunteers({}, volunteer_actor(700))


def test_deregistration_takes_the_volunteer_out_of_teams_and_their_export_shows_them(volunteers, tree, engine):
    leader = volunteers.register(registration(tree["a1"], 21), COUNTY)
    me = volunteer_actor(801)
    member = volunteers.register(registration(tree["a1"], 22), me)
    team = volunteers.create_team(
        {
            "center_id": tree["a"],
            "name": "文明旅游志愿服务队",
            "kind": "civilized_tourism",
            "leader_volunteer_id": leader["id"],
        },
        COUNTY,
    )
    volunteers.add_team_member(team["id"], {"volunteer_id": member["id"]}, COUNTY)
    (membership,) = volunteers.export_my_data(me)["teams"]["memberships"]
    assert membership["team_id"] == team["id"]

    volunteers.set_status(member["id"], {"status": "deregistered", "reason": "本人申请"}, me)
    roster = volunteers.team_roster(team["id"], COUNTY)
    assert [item["volunteer_id"] for item in roster["items"]] == [leader["id"]]
    (left,) = events(engine, "team.member_left")
    assert left["data"]["reason"] == "deregistered" and left["data"]["volunteer_id"] == member["id"]


def test_a_volunteers_export_holds_their_ledger(volunteers, tree):
    me = volunteer_actor(901)
    created = volunteers.register(registration(tree["a1"], 31), me)
    claim = {
        "activity_title": "社区清扫",
        "center_id": tree["a1"],
        "served_on": "2026-11-01",
        "hours": 3.5,
        "explanation": "组织者漏记，站长可证明。",
    }
    request = volunteers.submit_backfill(claim, me)
    volunteers.approve_backfill(request["id"], center_admin(tree["a"]))
    hours = volunteers.export_my_data(me)["hours"]
    assert (hours["total_hours"], hours["star_level"]) == (3.5, 0)
    (entry,) = hours["entries"]
    assert entry["volunteer_id"] == created["id"] and entry["source"] == "backfill"
    assert [backfill["status"] for backfill in hours["backfills"]] == ["approved"]
