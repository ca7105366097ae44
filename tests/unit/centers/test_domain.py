"""The centers rules, tested as plain functions over small values (no broker, no database)."""

from datetime import UTC, date, datetime

import pytest

from services.centers import domain
from services.centers.domain import Node
from services.chassis.actors import Actor
from services.chassis.errors import Conflict, InvalidInput, PermissionDenied

# A small county: center 1 → institutes 2, 3 → stations 4 (under 2), 5 (under 3) → point 6.
CENTER = Node(1, None, "center", "active", "/1/")
INST_A = Node(2, 1, "institute", "active", "/1/2/")
INST_B = Node(3, 1, "institute", "active", "/1/3/")
STATION_A = Node(4, 2, "station", "active", "/1/2/4/")
STATION_B = Node(5, 3, "station", "active", "/1/3/5/")
POINT = Node(6, 4, "point", "active", "/1/2/4/6/")
CLOSED_INST = Node(7, 1, "institute", "closed", "/1/7/")

COUNTY = Actor("a1", "county_admin")
ADMIN_A = Actor("a2", "center_admin", scope_center_id=2)
VOLUNTEER = Actor("a3", "volunteer")


def code_of(excinfo):
    return excinfo.value.code


# --- paths -----------------------------------------------------------------------------


def test_paths():
    assert domain.child_path(None, 1) == "/1/"
    assert domain.child_path(STATION_A, 9) == "/1/2/4/9/"
    assert domain.path_ids("/1/2/4/") == [1, 2, 4]
    assert POINT.ancestor_ids == [1, 2, 4]
    assert CENTER.ancestor_ids == []


def test_contains_is_by_whole_ids_not_string_prefix():
    center_12 = Node(12, None, "center", "active", "/12/")
    assert CENTER.contains(POINT) and INST_A.contains(INST_A)
    assert not CENTER.contains(center_12)
    assert not INST_A.contains(INST_B)


# --- levels ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "level, parent", [("center", None), ("institute", CENTER), ("station", INST_A), ("point", STATION_A)]
)
def test_each_level_under_the_level_above(level, parent):
    domain.check_parent(level, parent)


@pytest.mark.parametrize(
    "level, parent, code",
    [
        ("center", CENTER, "center.parent_level_invalid"),
        ("institute", None, "center.parent_required"),
        ("institute", INST_A, "center.parent_level_invalid"),
        ("station", CENTER, "center.parent_level_invalid"),
        ("point", INST_A, "center.parent_level_invalid"),
        ("point", None, "center.parent_required"),
    ],
)
def test_wrong_parent_level_names_parent_id(level, parent, code):
    with pytest.raises(InvalidInput) as excinfo:
        domain.check_parent(level, parent)
    assert code_of(excinfo) == code
    assert list(excinfo.value.fields) == ["parent_id"]


def test_closed_center_accepts_no_children():
    with pytest.raises(Conflict) as excinfo:
        domain.check_parent("station", CLOSED_INST)
    assert code_of(excinfo) == "center.closed_parent"


def test_suspended_center_still_accepts_children():
    domain.check_parent("station", Node(8, 1, "institute", "suspended", "/1/8/"))


# --- moving ----------------------------------------------------------------------------


def test_move_station_to_another_institute():
    assert domain.check_move(STATION_A, INST_B) is True


def test_move_to_current_parent_is_a_no_op():
    assert domain.check_move(STATION_A, INST_A) is False


@pytest.mark.parametrize("new_parent", [INST_A, STATION_A, POINT])
def test_move_into_itself_or_below_is_a_cycle(new_parent):
    with pytest.raises(Conflict) as excinfo:
        domain.check_move(INST_A, new_parent)
    assert code_of(excinfo) == "center.cycle"


def test_move_keeps_level_rules():
    with pytest.raises(InvalidInput) as excinfo:
        domain.check_move(STATION_A, CENTER)
    assert code_of(excinfo) == "center.parent_level_invalid"


def test_move_under_closed_center_refused():
    with pytest.raises(Conflict) as excinfo:
        domain.check_move(STATION_A, CLOSED_INST)
    assert code_of(excinfo) == "center.closed_parent"


# --- scope -----------------------------------------------------------------------------


@pytest.mark.parametrize("node", [CENTER, INST_A, INST_B, POINT])
def test_county_admin_may_change_anything(node):
    domain.authorize_change(COUNTY, node)


@pytest.mark.parametrize("node", [INST_A, STATION_A, POINT])
def test_center_admin_may_change_its_subtree(node):
    domain.authorize_change(ADMIN_A, node)


@pytest.mark.parametrize("node", [CENTER, INST_B, STATION_B])
def test_center_admin_may_not_change_outside_its_subtree(node):
    with pytest.raises(PermissionDenied) as excinfo:
        domain.authorize_change(ADMIN_A, node)
    assert code_of(excinfo) == "scope.outside"


def test_scope_compares_whole_ids():
    admin_of_1 = Actor("a", "center_admin", scope_center_id=1)
    with pytest.raises(PermissionDenied):
        domain.authorize_change(admin_of_1, Node(12, None, "center", "active", "/12/"))


@pytest.mark.parametrize("actor", [VOLUNTEER, Actor("x", "resident"), Actor("x", "center_admin", scope_center_id=None)])
def test_other_roles_may_do_nothing(actor):
    for check in (
        lambda: domain.authorize_change(actor, POINT),
        lambda: domain.authorize_create(actor, STATION_A),
        lambda: domain.authorize_move(actor, POINT, STATION_A),
    ):
        with pytest.raises(PermissionDenied) as excinfo:
            check()
        assert code_of(excinfo) == "scope.role"


def test_create_scope():
    domain.authorize_create(COUNTY, None)
    domain.authorize_create(ADMIN_A, INST_A)
    domain.authorize_create(ADMIN_A, STATION_A)
    for parent in (None, CENTER, INST_B):
        with pytest.raises(PermissionDenied):
            domain.authorize_create(ADMIN_A, parent)


def test_move_scope():
    domain.authorize_move(COUNTY, STATION_A, INST_B)
    domain.authorize_move(ADMIN_A, POINT, STATION_A)
    refused = [
        (INST_A, CENTER),  # its own scope root
        (STATION_B, INST_A),  # from outside
        (STATION_A, INST_B),  # to outside
    ]
    for node, new_parent in refused:
        with pytest.raises(PermissionDenied) as excinfo:
            domain.authorize_move(ADMIN_A, node, new_parent)
        assert code_of(excinfo) == "scope.outside"


# --- status ----------------------------------------------------------------------------


def test_status_needs_reason_unless_active():
    assert domain.status_change("active", None, "suspended", " 装修 ") == ("suspended", "装修")
    assert domain.status_change("suspended", "装修", "active", "ignored") == ("active", None)
    assert domain.status_change("suspended", "装修", "closed", "撤并") == ("closed", "撤并")
    for reason in (None, "", "   "):
        with pytest.raises(InvalidInput) as excinfo:
            domain.status_change("active", None, "closed", reason)
        assert code_of(excinfo) == "center.reason_required"
        assert list(excinfo.value.fields) == ["reason"]


def test_same_status_and_reason_is_a_no_op():
    assert domain.status_change("active", None, "active", None) is None
    assert domain.status_change("suspended", "装修", "suspended", "装修") is None
    assert domain.status_change("suspended", "装修", "suspended", "停电") == ("suspended", "停电")


def test_unknown_status():
    with pytest.raises(InvalidInput) as excinfo:
        domain.status_change("active", None, "deleted", "x")
    assert list(excinfo.value.fields) == ["status"]


# --- versions and fields ---------------------------------------------------------------


def test_version_check():
    domain.check_version(3, 3)
    with pytest.raises(Conflict) as excinfo:
        domain.check_version(3, 2)
    assert code_of(excinfo) == "center.version_conflict"


def test_fields_valid():
    domain.check_center_fields(
        {
            "longitude": 112.7,
            "latitude": 37.7,
            "households_served": 10,
            "residents_served": 30,
            "opened_on": date(2020, 1, 1),
        },
        today=date(2024, 1, 1),
    )
    domain.check_center_fields({}, today=date(2024, 1, 1))


def test_fields_invalid_across_fields():
    with pytest.raises(InvalidInput) as excinfo:
        domain.check_center_fields(
            {"longitude": 112.7, "households_served": 10, "residents_served": 3, "opened_on": date(2025, 1, 1)},
            today=date(2024, 1, 1),
        )
    assert code_of(excinfo) == "center.fields_invalid"
    assert set(excinfo.value.fields) == {"latitude", "residents_served", "opened_on"}


def test_changed_fields():
    current = {"name": "甲", "address": None, "platforms": ["theory"]}
    assert domain.changed_fields(current, {"name": "甲", "address": "路", "platforms": ["theory"]}) == {"address": "路"}


def test_accepts_venues():
    domain.check_accepts_venues(Node(8, 1, "institute", "suspended", "/1/8/"))
    with pytest.raises(Conflict):
        domain.check_accepts_venues(CLOSED_INST)


# --- statistics and ordering -----------------------------------------------------------


def test_rollup_fills_missing_levels_and_rounds_area():
    stats = domain.rollup(2, [("institute", 1, 100, 300, 771.63), ("station", 2, 50, None, 155.0000001)], 4)
    assert stats == {
        "center_id": 2,
        "count_by_level": {"center": 0, "institute": 1, "station": 2, "point": 0},
        "households_served": 150,
        "residents_served": 300,
        "floor_area_m2": 926.63,
        "venue_count": 4,
    }


def test_rollup_of_nothing():
    assert domain.rollup(9, [], 0)["count_by_level"] == dict.fromkeys(domain.LEVELS, 0)


def test_depth_first_orders_by_numeric_ids():
    nodes = [
        Node(10, 1, "institute", "active", "/1/10/"),
        POINT,
        STATION_A,
        INST_A,
        CENTER,
        Node(9, 2, "station", "active", "/1/2/9/"),
    ]
    ordered = domain.depth_first(nodes, CENTER.path)
    assert [(depth, node.id) for depth, node in ordered] == [(0, 1), (1, 2), (2, 4), (3, 6), (2, 9), (1, 10)]


# --- commands: state + input + clock -> new state and events ----------------------------

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def stored_institute(**overrides):
    """Institute A (id 2) as the store gives it to the domain."""
    return {
        "id": 2,
        "parent_id": 1,
        "level": "institute",
        "status": "active",
        "status_reason": None,
        "path": "/1/2/",
        "code": "inst-a",
        "name": "甲实践所",
        "opened_on": None,
        "version": 3,
        "created_at": NOW,
        "updated_at": NOW,
        **overrides,
    }


def test_create_starts_active_at_version_1_and_raises_created():
    values = {"code": "st-9", "name": "九站", "level": "station", "parent_id": 2}
    change = domain.create_center(COUNTY, values, INST_A, NOW)
    assert change.state == {
        **values,
        "status": "active",
        "status_reason": None,
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }
    assert [event.type for event in change.events] == ["center.created"]


def test_create_checks_fields_against_the_clock_given():
    values = {"code": "st-9", "name": "九站", "level": "station", "parent_id": 2, "opened_on": date(2026, 11, 29)}
    with pytest.raises(InvalidInput):
        domain.create_center(COUNTY, values, INST_A, NOW)
    assert domain.create_center(COUNTY, values, INST_A, LATER).state["opened_on"] == date(2026, 11, 29)


def test_update_bumps_the_version_once_and_stamps_the_time():
    change = domain.update_center(COUNTY, stored_institute(), {"name": "新名", "code": "inst-a"}, None, LATER)
    assert change.state == stored_institute(name="新名", version=4, updated_at=LATER)
    assert [event.type for event in change.events] == ["center.updated"]


def test_an_update_that_changes_nothing_is_no_change():
    assert domain.update_center(COUNTY, stored_institute(), {"name": "甲实践所"}, 3, LATER) is None


def test_update_refuses_a_stale_expected_version_and_outsiders():
    with pytest.raises(Conflict):
        domain.update_center(COUNTY, stored_institute(), {"name": "新名"}, 2, LATER)
    with pytest.raises(PermissionDenied):
        domain.update_center(
            Actor("b", "center_admin", scope_center_id=3), stored_institute(), {"name": "新名"}, None, LATER
        )


def test_move_gives_the_new_path_and_the_previous_parent():
    station = stored_institute(id=4, level="station", parent_id=2, path="/1/2/4/")
    change = domain.move_center(COUNTY, station, INST_B, LATER)
    assert (change.state["parent_id"], change.state["path"], change.state["version"]) == (3, "/1/3/4/", 4)
    assert change.events[0].type == "center.moved" and change.events[0].extra == {"previous_parent_id": 2}
    assert domain.move_center(COUNTY, station, INST_A, LATER) is None


def test_status_change_carries_the_previous_status():
    change = domain.set_status(COUNTY, stored_institute(), "suspended", "装修", LATER)
    assert (change.state["status"], change.state["status_reason"]) == ("suspended", "装修")
    assert change.events[0].extra == {"previous_status": "active"}
    assert domain.set_status(COUNTY, stored_institute(), "active", None, LATER) is None


def test_venue_commands():
    institute = stored_institute()
    added = domain.add_venue(COUNTY, institute, {"name": "法律援助室", "kind": "legal_aid"})
    assert added.state == {"name": "法律援助室", "kind": "legal_aid", "center_id": 2, "version": 1}
    venue = {**added.state, "id": 7}
    updated = domain.update_venue(COUNTY, institute, venue, {"name": "法律服务室"})
    assert updated.state["version"] == 2 and updated.events[0].type == "venue.updated"
    assert domain.update_venue(COUNTY, institute, venue, {"name": "法律援助室"}) is None
    assert domain.remove_venue(COUNTY, institute, venue).events[0].type == "venue.removed"
    with pytest.raises(Conflict):
        domain.add_venue(COUNTY, stored_institute(status="closed"), {"name": "室", "kind": "other"})
