"""Points and love supermarkets (爱心超市): points accounts, goods, redemptions.

A points account belongs to a holder named by kind and id (`volunteer` now; `household` once
civilized households earn points too), so that the ledger, the goods and the redemption rules
know nothing of who holds the account. Volunteers earn points from the activities service's
`attendance.confirmed` events, once per attendance, at the activity's rate (per hour or flat);
they spend them on goods of a center's supermarket. No balance and no stock ever goes below
zero, however many redemptions run at once.
"""

from marshmallow import fields, validate

from services.chassis import event_schemas as js
from services.chassis.schemas import (
    Flag,
    PartialSchema,
    StrictSchema,
    Text,
    between,
    described,
    id_field,
    length,
    one_of,
    page_field,
    page_size_field,
)

HOLDER_KINDS = ("volunteer", "household")
VOLUNTEER_HOLDER = "volunteer"
ENTRY_KINDS = ("earned", "redeemed", "refunded")
REDEMPTION_STATUSES = ("completed", "cancelled")

MAX_PRICE = 100_000  # points for one item
MAX_STOCK = 1_000_000  # items of one kind on a center's shelf
MAX_REDEEM_QUANTITY = 10  # items of one kind in one redemption
MAX_POINTS_PER_ATTENDANCE = 100_000  # more than this from one attendance is bad data, never credited


def _quantity(description, low, high, **kwargs):
    return fields.Integer(strict=True, validate=between(low, high), **described(description), **kwargs)


class GoodsCreateSchema(StrictSchema):
    name = Text(required=True, validate=length(1, 50), **described("What the item is, e.g. 大米 5kg."))
    description = Text(
        multiline=True, allow_none=True, load_default=None, validate=length(1, 500), **described("Details.")
    )
    price = _quantity(f"Price in points, 1 to {MAX_PRICE}.", 1, MAX_PRICE, required=True)
    stock = _quantity(f"Items on the shelf, 0 to {MAX_STOCK}; 0 by default.", 0, MAX_STOCK, load_default=0)


class GoodsUpdateSchema(PartialSchema):
    """Descriptive changes and withdrawal (`active: false`); stock moves by `change_stock` only,
    so that a change never overwrites what redemptions took meanwhile."""

    name = Text(validate=length(1, 50), **described("What the item is."))
    description = Text(multiline=True, allow_none=True, validate=length(1, 500), **described("Details."))
    price = _quantity(f"Price in points, 1 to {MAX_PRICE}.", 1, MAX_PRICE)
    active = Flag(**described("false withdraws the item from the shelf (no redemption), true puts it back."))


class StockChangeSchema(StrictSchema):
    delta = fields.Integer(
        strict=True,
        required=True,
        validate=[between(-MAX_STOCK, MAX_STOCK), validate.NoneOf([0], error="不能为 0。")],
        **described(
            f"Items added to the shelf (restocking), or removed when negative (damaged, expired); "
            f"the stock stays within 0 to {MAX_STOCK}."
        ),
    )


class RedeemSchema(StrictSchema):
    quantity = _quantity(
        f"Items taken, 1 to {MAX_REDEEM_QUANTITY}; 1 by default.", 1, MAX_REDEEM_QUANTITY, load_default=1
    )
    volunteer_id = id_field(
        "At the counter: the volunteer who redeems, for an admin of the goods' center scope. "
        "Left out, the caller redeems for themself."
    )


class CancellationSchema(StrictSchema):
    reason = Text(required=True, validate=length(2, 200), **described("Why (e.g. 误操作); refunds points and stock."))


class PointsQuerySchema(StrictSchema):
    """A page of an account's history, newest first (numbers given as text are accepted)."""

    page = page_field()
    page_size = page_size_field()


class GoodsListQuerySchema(StrictSchema):
    active = fields.Boolean(
        **described("Only items on the shelf (true) or only withdrawn ones (false); both if left out.")
    )
    page = page_field()
    page_size = page_size_field()


class RedemptionListQuerySchema(StrictSchema):
    volunteer_id = id_field("Only this volunteer's redemptions.", strict=False)
    status = fields.String(validate=one_of(REDEMPTION_STATUSES), **described(", ".join(REDEMPTION_STATUSES) + "."))
    page = page_field()
    page_size = page_size_field()


# --- views -----------------------------------------------------------------------------------


class PointsEntrySchema(StrictSchema):
    id = fields.Integer()
    delta = fields.Integer(**described("Points added (positive) or spent (negative)."))
    balance_after = fields.Integer(**described("The balance right after this entry."))
    kind = fields.String(**described(", ".join(ENTRY_KINDS) + "."))
    reference = fields.String(
        **described("What it is for: attendance:<id>, redemption:<id> or refund:<id>; one entry per reference.")
    )
    note = fields.String(allow_none=True, **described("The activity's title, or the goods taken."))
    at = fields.DateTime()


class PointsEntryPageSchema(StrictSchema):
    items = fields.List(fields.Nested(PointsEntrySchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class PointsAccountSchema(StrictSchema):
    """An account and a page of its history (balance history = the entries' balance_after).
    A holder who never earned has balance 0 and no entries."""

    holder_kind = fields.String(**described(", ".join(HOLDER_KINDS) + "."))
    holder_id = fields.Integer(**described("The volunteer's (or household's) id."))
    balance = fields.Integer(**described("Points available; never below 0."))
    entries = fields.Nested(PointsEntryPageSchema, **described("The history, newest first."))


class GoodsSchema(StrictSchema):
    id = fields.Integer()
    center_id = fields.Integer(**described("The center whose love supermarket holds it."))
    name = fields.String()
    description = fields.String(allow_none=True)
    price = fields.Integer(**described("Points per item."))
    stock = fields.Integer(**described("Items on the shelf; never below 0."))
    active = fields.Boolean(**described("false: withdrawn, not redeemable."))
    version = fields.Integer(**described("Starts at 1; +1 on every change, stock changes included."))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class GoodsPageSchema(StrictSchema):
    items = fields.List(fields.Nested(GoodsSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class RedemptionSchema(StrictSchema):
    id = fields.Integer()
    holder_kind = fields.String()
    holder_id = fields.Integer()
    goods_id = fields.Integer()
    goods_name = fields.String(**described("The item's name when it was redeemed."))
    center_id = fields.Integer()
    quantity = fields.Integer()
    points = fields.Integer(**described("Points spent: price × quantity."))
    status = fields.String(**described(", ".join(REDEMPTION_STATUSES) + "."))
    actor_account_id = fields.String(**described("Who redeemed: the volunteer, or the admin at the counter."))
    at = fields.DateTime()
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


class RedemptionPageSchema(StrictSchema):
    items = fields.List(fields.Nested(RedemptionSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


# --- events ----------------------------------------------------------------------------------

POINTS_EARNED = "points.earned"
POINTS_REDEEMED = "points.redeemed"
POINTS_REFUNDED = "points.refunded"
GOODS_ADDED = "goods.added"
GOODS_CHANGED = "goods.changed"

_ACCOUNT_PROPERTIES = {
    "account_id": js.ID,
    "holder_kind": js.one_of(HOLDER_KINDS),
    "holder_id": js.ID,
    "balance": js.COUNT,
    "at": js.TIMESTAMP,
}
_REDEMPTION_PROPERTIES = {
    **_ACCOUNT_PROPERTIES,
    "redemption_id": js.ID,
    "goods_id": js.ID,
    "goods_name": js.TEXT,
    "center_id": js.ID,
    "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_REDEEM_QUANTITY},
    "points": {"type": "integer", "minimum": 1},
    "stock": js.COUNT,
}
GOODS_PROPERTIES = {
    "id": js.ID,
    "center_id": js.ID,
    "name": js.TEXT,
    "description": js.nullable(js.TEXT),
    "price": {"type": "integer", "minimum": 1, "maximum": MAX_PRICE},
    "stock": js.COUNT,
    "active": {"type": "boolean"},
    "version": js.VERSION,
    "updated_at": js.TIMESTAMP,
}

EVENT_SCHEMAS = {
    POINTS_EARNED: js.event_object(
        {
            **_ACCOUNT_PROPERTIES,
            "points": {"type": "integer", "minimum": 1},
            "entry_id": js.ID,
            "reference": js.TEXT,
            "attendance_id": js.ID,
            "activity_id": js.ID,
        },
        "A holder earned points for a confirmed attendance (once per attendance); balance is after it.",
    ),
    POINTS_REDEEMED: js.event_object(
        _REDEMPTION_PROPERTIES,
        "A holder spent points on goods of a center's love supermarket; balance and stock are after it.",
    ),
    POINTS_REFUNDED: js.event_object(
        {**_REDEMPTION_PROPERTIES, "reason": js.TEXT},
        "A redemption was cancelled: its points went back to the account and its items to the shelf.",
    ),
    GOODS_ADDED: js.event_object(GOODS_PROPERTIES, "Goods were put on a center's love supermarket shelf."),
    GOODS_CHANGED: js.event_object(
        GOODS_PROPERTIES, "Goods were changed, withdrawn, put back or restocked (not sent for each redemption)."
    ),
}
