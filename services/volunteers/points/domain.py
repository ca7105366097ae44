"""The rules of points and love supermarkets, in plain Python.

Points from an attendance: floor(hours × rate) for a per-hour rule, the rate itself for a flat
award, none for `none`; computed in decimals, since 2.3 h × 10 in binary floating point is
22.999… An attendance earns once: the first revision that earns any points is credited, and
later revisions (an organizer's correction of the hours) and redeliveries change nothing.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from services.activities.contract.common import MAX_HOURS_PER_ENTRY, POINTS_RULE_KINDS
from services.chassis.errors import Conflict, InvalidInput
from services.volunteers.contract.points import (
    ENTRY_KINDS,
    MAX_POINTS_PER_ATTENDANCE,
    MAX_STOCK,
    REDEMPTION_STATUSES,
)

EARNED, REDEEMED, REFUNDED = ENTRY_KINDS
COMPLETED, CANCELLED = REDEMPTION_STATUSES
NOTE_LENGTH = 200


@dataclass(frozen=True)
class Earning:
    """What an `attendance.confirmed` event credits."""

    attendance_id: int
    activity_id: int
    volunteer_id: int
    points: int
    note: str

    @property
    def reference(self):
        return f"attendance:{self.attendance_id}"


def points_for(hours, rule_kind, rate):
    if rule_kind == "per_hour":
        return math.floor(_decimal(hours) * _decimal(rate))
    if rule_kind == "flat":
        return math.floor(_decimal(rate))
    return 0


def _decimal(number):
    return Decimal(str(number))  # the number as written, not its binary approximation


def earning(data):
    """The Earning of an `attendance.confirmed` event's data; InvalidInput naming each field
    that no retry can fix (the handler dead-letters the event)."""
    problems = {}
    if not isinstance(data, dict):
        raise InvalidInput("attendance.invalid", "出勤事件数据无效", {"data": ["必须是对象。"]})
    ids = {name: data.get(name) for name in ("attendance_id", "activity_id", "volunteer_id")}
    for name, value in ids.items():
        if not _is_whole(value) or value < 1:
            problems[name] = ["必须是正整数。"]
    hours = data.get("hours")
    if not _is_number(hours) or not 0 <= hours <= MAX_HOURS_PER_ENTRY:
        problems["hours"] = [f"必须是 0 到 {MAX_HOURS_PER_ENTRY} 之间的数字。"]
    rule = data.get("points_rule")
    rule = rule if isinstance(rule, dict) else {}
    if rule.get("kind") not in POINTS_RULE_KINDS:
        problems["points_rule.kind"] = ["必须是 " + "、".join(POINTS_RULE_KINDS) + " 之一。"]
    if not _is_number(rule.get("rate")) or rule["rate"] < 0:
        problems["points_rule.rate"] = ["必须是不小于 0 的数字。"]
    if problems:
        raise InvalidInput("attendance.invalid", "出勤事件数据无效", problems)
    points = points_for(hours, rule["kind"], rule["rate"])
    if points > MAX_POINTS_PER_ATTENDANCE:
        raise InvalidInput(
            "attendance.points_too_many",
            "单次出勤积分过多",
            {"points_rule.rate": [f"一次出勤最多 {MAX_POINTS_PER_ATTENDANCE} 积分。"]},
        )
    title = data.get("activity_title")
    note = title[:NOTE_LENGTH] if isinstance(title, str) and title else None
    return Earning(ids["attendance_id"], ids["activity_id"], ids["volunteer_id"], points, note)


def _is_whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# --- redemption ----------------------------------------------------------------------------


def redemption_reference(redemption_id):
    return f"redemption:{redemption_id}"


def refund_reference(redemption_id):
    return f"refund:{redemption_id}"


def redemption_note(goods_name, quantity):
    return f"兑换 {goods_name} ×{quantity}"[:NOTE_LENGTH]


def refund_note(goods_name, quantity):
    return f"取消兑换 {goods_name} ×{quantity}"[:NOTE_LENGTH]


def cost(price, quantity):
    return price * quantity


def goods_refusal(active, stock, quantity):
    """Why goods (as they are now) could not give `quantity` items: withdrawn or out of stock."""
    if not active:
        return Conflict("goods.withdrawn", "该物品已下架，不能兑换。")
    return Conflict(
        "goods.out_of_stock",
        f"库存不足：剩余 {stock} 件，需要 {quantity} 件。",
        {"quantity": [f"库存仅剩 {stock} 件。"]},
    )


def insufficient_balance(balance, needed):
    return Conflict(
        "points.insufficient_balance",
        f"积分不足：需要 {needed} 积分，当前余额 {balance} 积分。",
        {"quantity": [f"余额仅够兑换 {balance} 积分的物品。"]},
    )


def require_cancellable(status):
    if status != COMPLETED:
        raise Conflict("redemption.cancelled", "该兑换记录已取消。")


# --- goods ---------------------------------------------------------------------------------


def require_open_center(status):
    """Goods are put on the shelf of an active center only."""
    if status != "active":
        raise Conflict("center.inactive", "阵地已暂停或关闭，不能上架物品。")


def goods_changes(current, changes):
    """The fields `changes` actually change (an empty dict: nothing to do)."""
    return {name: value for name, value in changes.items() if current[name] != value}


def stock_refusal(stock, delta):
    """Why a stock change of `delta` cannot apply to `stock`."""
    if stock + delta < 0:
        return Conflict(
            "goods.stock_negative",
            f"库存不能少于 0：当前 {stock} 件，不能减少 {-delta} 件。",
            {"delta": [f"最多减少 {stock} 件。"]},
        )
    return Conflict(
        "goods.stock_too_large",
        f"库存不能超过 {MAX_STOCK} 件。",
        {"delta": [f"最多增加 {MAX_STOCK - stock} 件。"]},
    )


def require_version(expected, actual):
    if expected is not None and expected != actual:
        raise version_conflict()


def version_conflict():
    return Conflict("goods.version_conflict", "数据已被他人修改，请刷新后重试。")
