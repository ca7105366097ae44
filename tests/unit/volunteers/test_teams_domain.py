"""The rules of teams in plain Python: who may, the team's fields, applications."""

from datetime import UTC, datetime

import pytest

from services.chassis.actors import Actor
from services.chassis.errors import Conflict, InvalidInput, PermissionDenied
from services.volunteers.domain import TEAM_KINDS
from services.volunteers.teams import domain
from services.volunteers.teams.domain import Standing

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
COUNTY = Actor("1", "county_admin")
ADMIN = Actor("2", "center_admin", 5)
VOLUNTEER = Actor("3", "volunteer")
LEADER = Actor("4", "team_leader")
RESIDENT = Actor("6", "resident")


def team(**fields):
    return {
        "id": 1,
        "center_id": 5,
        "name": "东阳镇文明旅游志愿服务队",
        "kind": "civilized_tourism",
        "local_kind_name": None,
        "description": None,
        "leader_volunteer_id": 40,
        "status": "active",
        "status_reason": None,
        "member_count": 1,
        "version": 1,
        **fields,
    }


def application(**fields):
    return {"id": 9, "team_id": 1, "volunteer_id": 41, "status": "pending", "reason": None, **fields}


def refused(error_class, code, call, *args, **kwargs):
    with pytest.raises(error_class) as excinfo:
        call(*args, **kwargs)
    assert excinfo.value.code == code
    return excinfo.value


# --- who may -------------------------------------------------------------------------------------


def test_team_admins_are_admins_whose_scope_holds_the_center():
    domain.require_team_admin(Standing(COUNTY, within=True))
    domain.require_team_admin(Standing(ADMIN, within=True))
    refused(PermissionDenied, "scope.outside", domain.require_team_admin, Standing(ADMIN, within=False))
    refused(PermissionDenied, "scope.role", domain.require_team_admin, Standing(VOLUNTEER, volunteer_id=40))


def test_the_leader_or_an_admin_of_the_scope_decides():
    domain.require_leader_or_admin(Standing(LEADER, volunteer_id=40), team())
    domain.require_leader_or_admin(Standing(VOLUNTEER, volunteer_id=40), team())  # the link decides, not the role
    domain.require_leader_or_admin(Standing(ADMIN, within=True), team())
    refused(PermissionDenied, "scope.outside", domain.require_leader_or_admin, Standing(ADMIN), team())
    refused(
        PermissionDenied, "team.not_leader", domain.require_leader_or_admin, Standing(LEADER, volunteer_id=41), team()
    )
    refused(PermissionDenied, "team.not_leader", domain.require_leader_or_admin, Standing(VOLUNTEER), team())


def test_the_roster_is_for_members_the_leader_and_admins_of_the_scope():
    domain.require_roster_reader(Standing(VOLUNTEER, volunteer_id=41), team(), is_member=True)
    domain.require_roster_reader(Standing(COUNTY, within=True), team(), is_member=False)
    refused(PermissionDenied, "team.roster_forbidden", domain.require_roster_reader, Standing(VOLUNTEER), team(), False)
    refused(PermissionDenied, "scope.outside", domain.require_roster_reader, Standing(ADMIN), team(), False)


@pytest.mark.parametrize("actor", [COUNTY, ADMIN, RESIDENT])
def test_only_volunteers_act_as_themselves(actor):
    refused(PermissionDenied, "scope.role", domain.require_self_role, actor)


@pytest.mark.parametrize("actor", [VOLUNTEER, LEADER])
def test_volunteers_and_team_leaders_act_as_themselves(actor):
    domain.require_self_role(actor)


# --- the team's fields ---------------------------------------------------------------------------


def test_a_new_team_is_active_with_its_leader_counted():
    values = {"center_id": 5, "name": "宣讲队", "kind": "lecture", "local_kind_name": None, "description": None}
    state = domain.new_team({**values, "leader_volunteer_id": 40}, NOW)
    assert state["status"] == "active" and state["member_count"] == 1 and state["version"] == 1
    assert state["created_at"] == state["updated_at"] == NOW


def test_every_kind_has_a_label_and_a_local_kind_shows_its_own_name():
    assert [item["kind"] for item in domain.team_kinds()] == list(TEAM_KINDS)
    assert domain.kind_label("lecture", None) == "宣讲"
    assert domain.kind_label("local", "扶贫") == "扶贫"


@pytest.mark.parametrize(
    ("kind", "local_kind_name", "code", "field"),
    [
        ("dancing", None, "team.kind_invalid", "kind"),
        ("local", None, "team.local_kind_required", "local_kind_name"),
        ("lecture", "扶贫", "team.local_kind_unexpected", "local_kind_name"),
    ],
)
def test_kinds_are_checked(kind, local_kind_name, code, field):
    error = refused(InvalidInput, code, domain.check_kind, kind, local_kind_name)
    assert field in error.fields


def test_changes_keep_only_what_differs():
    assert domain.team_changes(team(), {"name": team()["name"]}) is None
    assert domain.team_changes(team(), {"name": "新名称", "description": None}) == {"name": "新名称"}


def test_leaving_the_local_kind_drops_its_name_and_entering_it_needs_one():
    local = team(kind="local", local_kind_name="扶贫")
    assert domain.team_changes(local, {"kind": "lecture"}) == {"kind": "lecture", "local_kind_name": None}
    refused(
        InvalidInput, "team.local_kind_unexpected", domain.team_changes, local, {"kind": "arts", "local_kind_name": "x"}
    )
    refused(InvalidInput, "team.local_kind_required", domain.team_changes, team(), {"kind": "local"})
    assert domain.team_changes(team(), {"kind": "local", "local_kind_name": "扶贫"}) == {
        "kind": "local",
        "local_kind_name": "扶贫",
    }


def test_a_dissolved_team_is_not_changed():
    refused(Conflict, "team.dissolved", domain.team_changes, team(status="dissolved"), {"name": "x"})


def test_every_change_adds_one_to_the_version():
    assert domain.versioned(team(version=3), {"name": "x"}, NOW) == {"name": "x", "version": 4, "updated_at": NOW}


def test_dissolving_needs_a_reason_and_reactivating_clears_it():
    refused(InvalidInput, "team.reason_required", domain.status_change, team(), "dissolved", None)
    assert domain.status_change(team(), "dissolved", "合并") == {"status": "dissolved", "status_reason": "合并"}
    dissolved = team(status="dissolved", status_reason="合并")
    assert domain.status_change(dissolved, "dissolved", "合并") is None
    assert domain.status_change(dissolved, "dissolved", "撤销") == {"status_reason": "撤销"}
    assert domain.status_change(dissolved, "active", "ignored") == {"status": "active", "status_reason": None}
    assert domain.status_change(team(), "active", None) is None


def test_the_leader_must_be_active():
    domain.require_active_leader("active")
    error = refused(InvalidInput, "team.leader_inactive", domain.require_active_leader, "suspended")
    assert "leader_volunteer_id" in error.fields


# --- members and applications --------------------------------------------------------------------


@pytest.mark.parametrize("status", ["suspended", "deregistered"])
def test_only_active_volunteers_join(status):
    refused(Conflict, "team.volunteer_inactive", domain.require_joinable, status)


def test_the_leader_hands_over_before_leaving():
    domain.require_not_leader("member")
    refused(Conflict, "team.leader_must_hand_over", domain.require_not_leader, "leader")


@pytest.mark.parametrize(
    ("the_team", "status", "is_member", "has_pending", "code"),
    [
        (team(status="dissolved"), "active", False, False, "team.dissolved"),
        (team(), "suspended", False, False, "team.volunteer_inactive"),
        (team(), "active", True, False, "team.already_member"),
        (team(), "active", False, True, "team.application_pending"),
    ],
)
def test_who_may_apply(the_team, status, is_member, has_pending, code):
    refused(Conflict, code, domain.require_may_apply, the_team, status, is_member, has_pending)


def test_an_active_volunteer_outside_the_team_may_apply():
    domain.require_may_apply(team(), "active", is_member=False, has_pending=False)


def test_a_decision_closes_a_pending_application_and_a_retry_changes_nothing():
    changed = domain.decision(application(), "rejected", "人数已满", LEADER, NOW)
    assert changed == {"status": "rejected", "reason": "人数已满", "decided_by": "4", "decided_at": NOW}
    assert domain.decision(application(status="rejected"), "rejected", "人数已满", LEADER, NOW) is None


@pytest.mark.parametrize(
    ("closed", "wanted"), [("approved", "rejected"), ("rejected", "approved"), ("withdrawn", "approved")]
)
def test_a_closed_application_is_not_decided_again(closed, wanted):
    refused(Conflict, "team.application_closed", domain.decision, application(status=closed), wanted, None, COUNTY, NOW)


def test_only_the_applicant_withdraws():
    assert domain.withdrawal(application(), 41, VOLUNTEER, NOW)["status"] == "withdrawn"
    refused(PermissionDenied, "team.not_applicant", domain.withdrawal, application(), 42, VOLUNTEER, NOW)
    refused(Conflict, "team.application_closed", domain.withdrawal, application(status="approved"), 41, VOLUNTEER, NOW)
