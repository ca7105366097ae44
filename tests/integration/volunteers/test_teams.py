"""Teams (志愿服务队) of the volunteers service in-process on the real broker, on SQLite and
PostgreSQL, with the centers service answering the scope questions. The outbox shows what
each change emitted; every team event is checked against the published contract."""

import json

import jsonschema
import pytest
import sqlalchemy as sa

from services.chassis.actors import Actor
from services.chassis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.chassis.events import validate_event
from services.volunteers.contract.teams import EVENT_SCHEMAS
from services.volunteers.service import VolunteersService
from tests.support.actors import COUNTY, center_admin

OUTBOX = VolunteersService.db.metadata.tables["outbox"]


@pytest.fixture
def team_events(engine):
    """`team_events()`: the team events emitted since the last call, oldest first, each a
    valid CloudEvent whose data matches its schema."""
    seen = {"id": 0}

    def read():
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(OUTBOX.c.id, OUTBOX.c.payload)
                .where(OUTBOX.c.id > seen["id"], OUTBOX.c.event_type.like("team.%"))
                .order_by(OUTBOX.c.id)
            ).all()
        if rows:
            seen["id"] = rows[-1].id
        documents = [json.loads(row.payload) for row in rows]
        for document in documents:
            assert validate_event(document) == []
            jsonschema.validate(
                document["data"], EVENT_SCHEMAS[document["type"]], format_checker=jsonschema.FormatChecker()
            )
        return documents

    return read


@pytest.fixture
def people(tree, add_volunteer):
    """Volunteers at station a1, each linked to an account: {name: (volunteer id, actor)}."""
    found = {}
    for number, name in enumerate(("leader", "zhang", "li", "wang"), start=101):
        role = "team_leader" if name == "leader" else "volunteer"
        found[name] = (add_volunteer(tree["a1"], account_id=number, name=name), Actor(str(number), role).as_payload())
    return found


@pytest.fixture
def team(volunteers, tree, people):
    return volunteers.create_team(
        {
            "center_id": tree["a"],
            "name": "东阳镇文明旅游志愿服务队",
            "kind": "civilized_tourism",
            "description": "景区引导、文明劝导",
            "leader_volunteer_id": people["leader"][0],
        },
        center_admin(tree["a"]),
    )


def refused(error_class, code, call, *args, **kwargs):
    with pytest.raises(error_class) as excinfo:
        call(*args, **kwargs)
    assert excinfo.value.code == code, excinfo.value
    return excinfo.value


def roster_ids(volunteers, team_id, actor=COUNTY, **page):
    return [member["volunteer_id"] for member in volunteers.team_roster(team_id, actor, **page)["items"]]


# --- creating and changing teams ---------------------------------------------------------------


def test_a_new_team_has_its_leader_as_its_only_member(volunteers, team, people, tree, team_events):
    leader_id = people["leader"][0]
    assert team["kind_label"] == "文明旅游" and team["leader_volunteer_id"] == leader_id
    assert team["leader_name"] == "leader" and team["member_count"] == 1 and team["version"] == 1
    assert volunteers.get_team(team["id"]) == team
    roster = volunteers.team_roster(team["id"], COUNTY)
    assert [(m["volunteer_id"], m["role"], m["joined_via"]) for m in roster["items"]] == [
        (leader_id, "leader", "leader")
    ]
    created, joined = team_events()
    assert created["type"] == "team.created" and created["subject"] == str(team["id"])
    assert created["data"]["member_count"] == 1 and created["data"]["center_id"] == tree["a"]
    assert joined["type"] == "team.member_joined" and joined["data"]["via"] == "leader"
    assert joined["data"]["volunteer_id"] == leader_id and joined["data"]["account_id"] == 101


def test_names_are_unique_per_center(volunteers, team, tree, people):
    again = {"center_id": tree["a"], "name": team["name"], "kind": "lecture", "leader_volunteer_id": people["li"][0]}
    error = refused(Conflict, "team.name_taken", volunteers.create_team, again, COUNTY)
    assert "name" in error.fields
    assert volunteers.create_team({**again, "center_id": tree["a1"]}, COUNTY)["name"] == team["name"]


@pytest.mark.parametrize(
    ("change", "error_class", "code", "field"),
    [
        ({"kind": "dancing"}, InvalidInput, "team.kind_invalid", "kind"),
        ({"kind": "local"}, InvalidInput, "team.local_kind_required", "local_kind_name"),
        ({"center_id": 999_999}, InvalidInput, "center.not_found", "center_id"),
        ({"leader_volunteer_id": 999_999}, InvalidInput, "volunteer.not_found", "leader_volunteer_id"),
        ({"leader": "suspended"}, InvalidInput, "team.leader_inactive", "leader_volunteer_id"),
        ({"name": " "}, InvalidInput, "input.invalid", "name"),
    ],
)
def test_bad_teams_are_refused_and_nothing_is_written(
    volunteers, tree, add_volunteer, team_events, change, error_class, code, field
):
    data = {
        "center_id": tree["a"],
        "name": "宣讲队",
        "kind": "lecture",
        "leader_volunteer_id": add_volunteer(tree["a"]),
    }
    change = dict(change)
    if change.pop("leader", None):
        data["leader_volunteer_id"] = add_volunteer(tree["a"], status="suspended")
    error = refused(error_class, code, volunteers.create_team, {**data, **change}, COUNTY)
    assert field in error.fields
    assert volunteers.list_teams()["total"] == 0 and team_events() == []


def test_teams_are_made_and_changed_by_admins_of_their_scope_only(volunteers, tree, people, team):
    data = {"center_id": tree["a1"], "name": "法律队", "kind": "legal", "leader_volunteer_id": people["li"][0]}
    refused(PermissionDenied, "scope.outside", volunteers.create_team, data, center_admin(tree["b"]))
    refused(PermissionDenied, "scope.role", volunteers.create_team, data, people["leader"][1])
    refused(
        PermissionDenied, "scope.outside", volunteers.update_team, team["id"], {"name": "x"}, center_admin(tree["b"])
    )
    refused(PermissionDenied, "scope.role", volunteers.update_team, team["id"], {"name": "x"}, people["leader"][1])
    assert volunteers.create_team(data, center_admin(tree["a"]))["center_id"] == tree["a1"]
    assert volunteers.get_team(team["id"])["version"] == 1


def test_a_new_leader_joins_and_the_former_stays_a_member(volunteers, team, people, team_events):
    team_events()
    zhang_id = people["zhang"][0]
    changed = volunteers.update_team(team["id"], {"leader_volunteer_id": zhang_id, "description": None}, COUNTY)
    assert changed["leader_volunteer_id"] == zhang_id and changed["member_count"] == 2 and changed["version"] == 2
    roles = {m["volunteer_id"]: m["role"] for m in volunteers.team_roster(team["id"], COUNTY)["items"]}
    assert roles == {zhang_id: "leader", people["leader"][0]: "member"}
    joined, updated = team_events()
    assert joined["type"] == "team.member_joined" and joined["data"]["role"] == "leader"
    assert updated["type"] == "team.updated" and updated["data"]["changed"] == ["description", "leader_volunteer_id"]
    assert updated["data"]["previous_leader_volunteer_id"] == people["leader"][0]
    assert updated["data"]["member_count"] == 2
    # the same change again is no change: no version, no event
    assert volunteers.update_team(team["id"], {"leader_volunteer_id": zhang_id}, COUNTY)["version"] == 2
    assert team_events() == []
    # handed over, the former leader may leave
    assert volunteers.leave_team(team["id"], people["leader"][1]) is None
    assert volunteers.get_team(team["id"])["member_count"] == 1


def test_dissolving_rejects_pending_applications_and_closes_the_team(volunteers, team, people, team_events):
    application = volunteers.apply_to_team(team["id"], {"note": None}, people["zhang"][1])
    team_events()
    refused(
        InvalidInput, "team.reason_required", volunteers.set_team_status, team["id"], {"status": "dissolved"}, COUNTY
    )
    dissolved = volunteers.set_team_status(team["id"], {"status": "dissolved", "reason": "队伍合并"}, COUNTY)
    assert dissolved["status"] == "dissolved" and dissolved["status_reason"] == "队伍合并"
    updated, decided = team_events()
    assert updated["data"]["changed"] == ["status", "status_reason"]
    assert decided["type"] == "team.application_decided" and decided["subject"] == str(application["id"])
    assert decided["data"]["status"] == "rejected" and decided["data"]["reason"] == "队伍合并"
    assert decided["data"]["account_id"] == 102
    refused(Conflict, "team.dissolved", volunteers.apply_to_team, team["id"], {}, people["li"][1])
    refused(
        Conflict, "team.dissolved", volunteers.add_team_member, team["id"], {"volunteer_id": people["li"][0]}, COUNTY
    )
    refused(Conflict, "team.dissolved", volunteers.update_team, team["id"], {"name": "x"}, COUNTY)
    reactivated = volunteers.set_team_status(team["id"], {"status": "active", "reason": None}, COUNTY)
    assert reactivated["status"] == "active" and reactivated["status_reason"] is None and reactivated["version"] == 3


# --- applications --------------------------------------------------------------------------------


def test_the_leader_approves_and_the_applicant_joins(volunteers, team, people, team_events):
    team_events()
    zhang_id, zhang = people["zhang"]
    application = volunteers.apply_to_team(team["id"], {"note": "学过导游"}, zhang)
    assert application["status"] == "pending" and application["volunteer_id"] == zhang_id
    refused(Conflict, "team.application_pending", volunteers.apply_to_team, team["id"], {}, zhang)
    refused(
        PermissionDenied, "team.not_leader", volunteers.approve_team_application, team["id"], application["id"], zhang
    )
    approved = volunteers.approve_team_application(team["id"], application["id"], people["leader"][1])
    assert approved["status"] == "approved" and approved["decided_by"] == "101"
    # a retry changes nothing
    assert volunteers.approve_team_application(team["id"], application["id"], people["leader"][1]) == approved
    assert volunteers.get_team(team["id"])["member_count"] == 2
    assert roster_ids(volunteers, team["id"]) == [people["leader"][0], zhang_id]
    submitted, decided, joined = team_events()
    assert submitted["type"] == "team.application_submitted"
    assert submitted["data"]["leader_volunteer_id"] == people["leader"][0]
    assert decided["data"]["status"] == "approved" and decided["data"]["reason"] is None
    assert joined["data"]["via"] == "approved" and joined["data"]["member_count"] == 2
    refused(Conflict, "team.already_member", volunteers.apply_to_team, team["id"], {}, zhang)
    refused(
        Conflict,
        "team.application_closed",
        volunteers.reject_team_application,
        team["id"],
        application["id"],
        {"reason": "x"},
        COUNTY,
    )


def test_a_rejection_needs_a_reason_and_the_volunteer_may_apply_again(volunteers, team, people, tree, team_events):
    li = people["li"][1]
    application = volunteers.apply_to_team(team["id"], {}, li)
    admin = center_admin(tree["a"])
    refused(InvalidInput, "input.invalid", volunteers.reject_team_application, team["id"], application["id"], {}, admin)
    rejected = volunteers.reject_team_application(team["id"], application["id"], {"reason": "人数已满"}, admin)
    assert rejected["status"] == "rejected" and rejected["reason"] == "人数已满"
    decided = team_events()[-1]["data"]
    assert (decided["status"], decided["reason"], decided["decided_by"]) == (
        "rejected",
        "人数已满",
        f"admin-{tree['a']}",
    )
    assert volunteers.apply_to_team(team["id"], {}, li)["status"] == "pending"
    assert volunteers.get_team(team["id"])["member_count"] == 1


def test_only_the_leader_or_admins_of_the_scope_decide(volunteers, team, people, tree):
    application = volunteers.apply_to_team(team["id"], {}, people["wang"][1])
    decide = volunteers.approve_team_application
    refused(PermissionDenied, "scope.outside", decide, team["id"], application["id"], center_admin(tree["b"]))
    refused(PermissionDenied, "team.not_leader", decide, team["id"], application["id"], people["li"][1])
    other = {"center_id": tree["a"], "name": "科普队", "kind": "science", "leader_volunteer_id": people["li"][0]}
    other_id = volunteers.create_team(other, COUNTY)["id"]
    refused(NotFound, "team.application_not_found", decide, other_id, application["id"], COUNTY)
    refused(NotFound, "team.application_not_found", decide, team["id"], application["id"] + 1, COUNTY)
    refused(PermissionDenied, "team.not_leader", volunteers.list_team_applications, team["id"], people["wang"][1])
    page = volunteers.list_team_applications(team["id"], people["leader"][1], {"status": "pending"})
    assert [item["id"] for item in page["items"]] == [application["id"]] and page["items"][0][
        "volunteer_name"
    ] == "wang"
    assert decide(team["id"], application["id"], center_admin(tree["county"]))["status"] == "approved"


def test_the_applicant_withdraws_and_no_one_else(volunteers, team, people, team_events):
    application = volunteers.apply_to_team(team["id"], {}, people["wang"][1])
    withdraw = volunteers.withdraw_team_application
    refused(PermissionDenied, "team.not_applicant", withdraw, team["id"], application["id"], people["li"][1])
    team_events()
    assert withdraw(team["id"], application["id"], people["wang"][1])["status"] == "withdrawn"
    (withdrawn,) = team_events()
    assert withdrawn["type"] == "team.application_withdrawn" and withdrawn["data"]["volunteer_id"] == people["wang"][0]
    refused(
        Conflict, "team.application_closed", volunteers.approve_team_application, team["id"], application["id"], COUNTY
    )


def test_only_active_volunteers_with_a_profile_join(volunteers, team, people, tree, add_volunteer):
    add_volunteer(tree["a1"], account_id=300, status="suspended")
    suspended = Actor("300", "volunteer").as_payload()
    refused(Conflict, "team.volunteer_inactive", volunteers.apply_to_team, team["id"], {}, suspended)
    stranger = Actor("999", "volunteer").as_payload()
    refused(PermissionDenied, "volunteer.no_profile", volunteers.apply_to_team, team["id"], {}, stranger)
    refused(PermissionDenied, "scope.role", volunteers.apply_to_team, team["id"], {}, COUNTY)
    refused(NotFound, "team.not_found", volunteers.apply_to_team, team["id"] + 1, {}, people["li"][1])


def test_an_admin_adds_a_volunteer_directly_and_their_application_is_approved(
    volunteers, team, people, tree, team_events
):
    li_id, li = people["li"]
    application = volunteers.apply_to_team(team["id"], {}, li)
    team_events()
    member = volunteers.add_team_member(team["id"], {"volunteer_id": li_id}, center_admin(tree["a"]))
    assert member["volunteer_id"] == li_id and member["role"] == "member" and member["joined_via"] == "added"
    decided, joined = team_events()
    assert decided["subject"] == str(application["id"]) and decided["data"]["status"] == "approved"
    assert joined["data"]["via"] == "added"
    refused(Conflict, "team.already_member", volunteers.add_team_member, team["id"], {"volunteer_id": li_id}, COUNTY)
    error = refused(
        InvalidInput, "volunteer.not_found", volunteers.add_team_member, team["id"], {"volunteer_id": 999_999}, COUNTY
    )
    assert "volunteer_id" in error.fields
    refused(
        PermissionDenied,
        "scope.outside",
        volunteers.add_team_member,
        team["id"],
        {"volunteer_id": people["wang"][0]},
        center_admin(tree["b"]),
    )


def test_concurrent_approvals_lose_no_count(volunteers, team, tree, add_volunteer):
    applications = []
    for account_id in range(500, 512):
        add_volunteer(tree["b1"], account_id=account_id)
        actor = Actor(str(account_id), "volunteer").as_payload()
        applications.append(volunteers.apply_to_team(team["id"], {}, actor)["id"])
    replies = [volunteers.approve_team_application.call_async(team["id"], item, COUNTY) for item in applications]
    assert {reply.result()["status"] for reply in replies} == {"approved"}
    count = volunteers.get_team(team["id"])["member_count"]
    assert count == 1 + len(applications) == volunteers.team_roster(team["id"], COUNTY)["total"]


# --- members leaving -------------------------------------------------------------------------------


def test_members_leave_or_are_removed_but_the_leader_hands_over_first(volunteers, team, people, tree, team_events):
    for name in ("zhang", "li"):
        volunteers.add_team_member(team["id"], {"volunteer_id": people[name][0]}, COUNTY)
    team_events()
    refused(Conflict, "team.leader_must_hand_over", volunteers.leave_team, team["id"], people["leader"][1])
    leader_id = people["leader"][0]
    refused(
        Conflict,
        "team.leader_must_hand_over",
        volunteers.remove_team_member,
        team["id"],
        leader_id,
        {"reason": "x"},
        COUNTY,
    )

    assert volunteers.leave_team(team["id"], people["zhang"][1]) is None
    refused(Conflict, "team.not_member", volunteers.leave_team, team["id"], people["zhang"][1])
    (left,) = team_events()
    assert left["type"] == "team.member_left" and left["data"]["reason"] == "left" and left["data"]["member_count"] == 2
    assert left["data"]["explanation"] is None and left["data"]["by"] == "102"

    li_id = people["li"][0]
    remove = volunteers.remove_team_member
    refused(PermissionDenied, "team.not_leader", remove, team["id"], li_id, {"reason": "x"}, people["wang"][1])
    refused(PermissionDenied, "scope.outside", remove, team["id"], li_id, {"reason": "x"}, center_admin(tree["b"]))
    refused(InvalidInput, "input.invalid", remove, team["id"], li_id, {}, people["leader"][1])
    assert remove(team["id"], li_id, {"reason": "长期未参加活动"}, people["leader"][1]) is None
    refused(NotFound, "team.member_not_found", remove, team["id"], li_id, {"reason": "x"}, COUNTY)
    (removed,) = team_events()
    assert removed["data"]["reason"] == "removed" and removed["data"]["explanation"] == "长期未参加活动"
    assert removed["data"]["volunteer_id"] == li_id and removed["data"]["by"] == "101"
    assert volunteers.get_team(team["id"])["member_count"] == 1
    assert roster_ids(volunteers, team["id"]) == [leader_id]


# --- reading -------------------------------------------------------------------------------------


def test_the_roster_pages_leader_first_and_is_for_members_the_leader_and_admins(volunteers, team, people, tree):
    for name in ("wang", "zhang", "li"):
        volunteers.add_team_member(team["id"], {"volunteer_id": people[name][0]}, COUNTY)
    everyone = [people[name][0] for name in ("leader", "wang", "zhang", "li")]
    assert roster_ids(volunteers, team["id"], page=1, page_size=3) == everyone[:3]
    page = volunteers.team_roster(team["id"], COUNTY, page=2, page_size=3)
    assert [m["volunteer_id"] for m in page["items"]] == everyone[3:] and page["total"] == 4
    assert page["items"][0]["volunteer_number"].startswith("TEST-") and page["items"][0]["name"] == "li"
    for reader in (people["zhang"][1], people["leader"][1], center_admin(tree["a"])):
        assert len(roster_ids(volunteers, team["id"], reader)) == 4
    outsider = Actor("777", "volunteer").as_payload()
    refused(PermissionDenied, "team.roster_forbidden", volunteers.team_roster, team["id"], outsider)
    refused(PermissionDenied, "scope.outside", volunteers.team_roster, team["id"], center_admin(tree["b"]))
    refused(InvalidInput, "input.invalid", volunteers.team_roster, team["id"], COUNTY, page_size=201)


def test_lists_filter_by_center_subtree_kind_status_and_name(volunteers, tree, add_volunteer):
    leader = add_volunteer(tree["a1"])
    made = {}
    for key, center, kind, extra in (
        ("lecture_a", "a", "lecture", {}),
        ("arts_a1", "a1", "arts", {}),
        ("local_b1", "b1", "local", {"local_kind_name": "扶贫"}),
    ):
        data = {"center_id": tree[center], "name": f"{key} 志愿服务队", "kind": kind, "leader_volunteer_id": leader}
        made[key] = volunteers.create_team({**data, **extra}, COUNTY)["id"]
    volunteers.set_team_status(made["arts_a1"], {"status": "dissolved", "reason": "合并"}, COUNTY)

    def ids(**filters):
        return [item["id"] for item in volunteers.list_teams(filters)["items"]]

    assert ids() == [made["lecture_a"], made["arts_a1"], made["local_b1"]]
    assert ids(within=tree["a"]) == [made["lecture_a"], made["arts_a1"]]
    assert ids(within=tree["b"]) == [made["local_b1"]] and ids(within=999_999) == []
    assert ids(center_id=tree["a1"]) == [made["arts_a1"]]
    assert ids(kind="local") == [made["local_b1"]] and ids(status="active") == [made["lecture_a"], made["local_b1"]]
    assert ids(q="ARTS") == [made["arts_a1"]] and ids(q="%") == []
    page = volunteers.list_teams({}, 2, 2)
    assert [item["id"] for item in page["items"]] == [made["local_b1"]] and page["total"] == 3
    assert page["items"][0]["kind_label"] == "扶贫"
    refused(InvalidInput, "input.invalid", volunteers.list_teams, {"status": "gone"})
    assert [kind["label"] for kind in volunteers.team_kinds()][:2] == ["宣讲", "文艺"]


def test_my_teams_lists_memberships_and_applications(volunteers, team, people, tree):
    other = volunteers.create_team(
        {"center_id": tree["b"], "name": "支教队", "kind": "teaching", "leader_volunteer_id": people["wang"][0]}, COUNTY
    )
    zhang_id, zhang = people["zhang"]
    volunteers.add_team_member(team["id"], {"volunteer_id": zhang_id}, COUNTY)
    application = volunteers.apply_to_team(other["id"], {"note": "周末有空"}, zhang)
    mine = volunteers.my_teams(zhang)
    assert mine["volunteer_id"] == zhang_id
    assert [(item["team"]["id"], item["role"]) for item in mine["teams"]] == [(team["id"], "member")]
    assert [(item["id"], item["team_name"], item["note"]) for item in mine["applications"]] == [
        (application["id"], "支教队", "周末有空")
    ]
    assert volunteers.my_teams(people["leader"][1])["teams"][0]["role"] == "leader"
    refused(PermissionDenied, "scope.role", volunteers.my_teams, COUNTY)
