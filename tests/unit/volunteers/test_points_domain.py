"""The plain rules of points and love supermarkets: points of an attendance, the checks of
its event data, and the refusals of redemptions and stock changes."""

import pytest

from services.chassis.errors import Conflict, InvalidInput
from services.volunteers.contract.points import MAX_POINTS_PER_ATTENDANCE, MAX_STOCK
from services.volunteers.points import domain


def attendance(**changes):
    data = {
        "attendance_id": 31,
        "revision": 1,
        "activity_id": 7,
        "activity_title": "文明交通劝导",
        "organizer_center_id": 3,
        "team_id": None,
        "volunteer_id": 12,
        "served_on": "2026-11-28",
        "hours": 2.5,
        "points_rule": {"kind": "per_hour", "rate": 10},
        "confirmed_at": "2026-11-28T10:00:00Z",
    }
    data.update(changes)
    return data


# --- points of an attendance ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "kind", "rate", "points"),
    [
        (2.5, "per_hour", 10, 25),
        (2.5, "per_hour", 1, 2),  # floor: half an hour at 1 point an hour earns nothing more
        (2.3, "per_hour", 10, 23),  # 2.3 * 10 is 22.999... in binary floating point
        (0.7, "per_hour", 3, 2),  # 2.1
        (8, "per_hour", 0.5, 4),
        (24, "per_hour", 10, 240),
        (0, "per_hour", 10, 0),
        (2.5, "flat", 20, 20),  # a flat award, whatever the hours
        (0, "flat", 20, 20),
        (3, "flat", 7.9, 7),
        (2.5, "none", 10, 0),
    ],
)
def test_points_for_an_attendance(hours, kind, rate, points):
    assert domain.points_for(hours, kind, rate) == points


def test_an_attendance_event_gives_its_earning():
    earning = domain.earning(attendance())
    assert earning == domain.Earning(attendance_id=31, activity_id=7, volunteer_id=12, points=25, note="文明交通劝导")
    assert earning.reference == "attendance:31"


def test_the_revision_does_not_enter_the_reference():
    # corrections of an attendance never credit it twice: the reference names the attendance only
    assert domain.earning(attendance(revision=3, hours=4)).reference == domain.earning(attendance()).reference


def test_a_long_title_is_cut_to_the_note_length():
    assert len(domain.earning(attendance(activity_title="长" * 500)).note) == domain.NOTE_LENGTH


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"attendance_id": 0}, "attendance_id"),
        ({"attendance_id": "31"}, "attendance_id"),
        ({"activity_id": None}, "activity_id"),
        ({"volunteer_id": True}, "volunteer_id"),
        ({"volunteer_id": -4}, "volunteer_id"),
        ({"hours": -1}, "hours"),
        ({"hours": 24.5}, "hours"),
        ({"hours": "2"}, "hours"),
        ({"hours": float("nan")}, "hours"),
        ({"points_rule": {"kind": "per_minute", "rate": 1}}, "points_rule.kind"),
        ({"points_rule": {"kind": "flat"}}, "points_rule.rate"),
        ({"points_rule": {"kind": "flat", "rate": -1}}, "points_rule.rate"),
        ({"points_rule": None}, "points_rule.kind"),
    ],
)
def test_bad_attendance_data_names_the_field(changes, field):
    with pytest.raises(InvalidInput) as refused:
        domain.earning(attendance(**changes))
    assert refused.value.code == "attendance.invalid"
    assert field in refused.value.fields


def test_attendance_data_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidInput):
        domain.earning(["not", "an", "object"])


def test_more_points_than_one_attendance_may_earn_are_refused():
    rate = MAX_POINTS_PER_ATTENDANCE + 1
    with pytest.raises(InvalidInput) as refused:
        domain.earning(attendance(points_rule={"kind": "flat", "rate": rate}))
    assert refused.value.code == "attendance.points_too_many"
    assert domain.earning(attendance(points_rule={"kind": "flat", "rate": rate - 1})).points == rate - 1


# --- redemptions and stock -----------------------------------------------------------------


def test_refusals_of_goods_say_why():
    assert domain.goods_refusal(False, 10, 1).code == "goods.withdrawn"
    out = domain.goods_refusal(True, 2, 3)
    assert (out.code, out.fields) == ("goods.out_of_stock", {"quantity": ["库存仅剩 2 件。"]})
    assert "2" in out.message and "3" in out.message
    poor = domain.insufficient_balance(15, 20)
    assert isinstance(poor, Conflict) and poor.code == "points.insufficient_balance"
    assert "20" in poor.message and "15" in poor.message


def test_a_redemption_costs_price_times_quantity_and_is_noted():
    assert domain.cost(30, 3) == 90
    assert domain.redemption_reference(45) == "redemption:45"
    assert domain.refund_reference(45) == "refund:45"
    assert domain.redemption_note("大米 5kg", 2) == "兑换 大米 5kg ×2"
    assert domain.refund_note("大米 5kg", 2) == "取消兑换 大米 5kg ×2"


def test_only_a_completed_redemption_can_be_cancelled():
    domain.require_cancellable("completed")
    with pytest.raises(Conflict) as refused:
        domain.require_cancellable("cancelled")
    assert refused.value.code == "redemption.cancelled"


def test_stock_refusals_say_which_bound():
    assert domain.stock_refusal(3, -4).code == "goods.stock_negative"
    assert domain.stock_refusal(3, -4).fields == {"delta": ["最多减少 3 件。"]}
    too_many = domain.stock_refusal(MAX_STOCK - 5, 6)
    assert too_many.code == "goods.stock_too_large" and too_many.fields == {"delta": ["最多增加 5 件。"]}


def test_goods_changes_keep_only_what_differs():
    current = {"name": "大米", "price": 30, "active": True}
    assert domain.goods_changes(current, {"name": "大米", "price": 25, "active": True}) == {"price": 25}
    assert domain.goods_changes(current, dict(current)) == {}


def test_goods_go_on_the_shelf_of_an_active_center_only():
    domain.require_open_center("active")
    for status in ("suspended", "closed"):
        with pytest.raises(Conflict) as refused:
            domain.require_open_center(status)
        assert refused.value.code == "center.inactive"


def test_an_expected_version_must_be_the_current_one():
    domain.require_version(None, 4)
    domain.require_version(4, 4)
    with pytest.raises(Conflict) as refused:
        domain.require_version(3, 4)
    assert refused.value.code == "goods.version_conflict"
