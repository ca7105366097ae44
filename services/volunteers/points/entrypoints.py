"""Points and love supermarkets: the entrypoints (a mixin of VolunteersService).

Rules: `points/domain.py`; storage: `points/repository.py`; contract: `contract/points.py`.
Scope checks ask the centers service (`Reach`) before a unit of work opens, so no
transaction (on SQLite: the one connection) waits on an RPC.
"""

from services.chassis.actors import load_actor
from services.chassis.clock import utcnow
from services.chassis.consumer import PoisonEvent, reliable_event_handler
from services.chassis.errors import Conflict, InvalidInput, NotFound
from services.chassis.rpc import command, rpc
from services.chassis.schemas import load, load_id
from services.chassis.scope import Reach
from services.volunteers import access
from services.volunteers import domain as volunteer_rules
from services.volunteers import repository as volunteers
from services.volunteers.contract.hours import ACTIVITIES, ATTENDANCE_CONFIRMED
from services.volunteers.contract.points import (
    GOODS_ADDED,
    GOODS_CHANGED,
    MAX_STOCK,
    POINTS_EARNED,
    POINTS_REDEEMED,
    POINTS_REFUNDED,
    VOLUNTEER_HOLDER,
    CancellationSchema,
    GoodsCreateSchema,
    GoodsListQuerySchema,
    GoodsSchema,
    GoodsUpdateSchema,
    PointsAccountSchema,
    PointsEntrySchema,
    PointsQuerySchema,
    RedeemSchema,
    RedemptionListQuerySchema,
    RedemptionSchema,
    StockChangeSchema,
)
from services.volunteers.points import domain
from services.volunteers.points import repository as repo
from services.volunteers.points.models import Goods, Redemption

UNIQUE = {
    "uq_goods_center_name": Conflict("goods.name_taken", "该阵地已有同名物品。", {"name": ["同名物品已存在。"]}),
}
STALE = {}  # balances and stocks change by conditional UPDATEs, goods under a row lock

EARN_HANDLER = "volunteers.earn_points_for_attendance"  # its claims of processed events

_account = PointsAccountSchema()
_entry = PointsEntrySchema()
_goods = GoodsSchema()
_redemption = RedemptionSchema()


class PointEntrypoints:
    # --- earning -------------------------------------------------------------------------------

    @reliable_event_handler(ACTIVITIES, ATTENDANCE_CONFIRMED)
    def earn_points_for_attendance(self, event):
        """Credit the points of a confirmed attendance, once per attendance whatever its revision
        (a correction of the hours does not change points already earned)."""
        try:
            earning = domain.earning(event["data"])
        except InvalidInput as error:
            raise PoisonEvent(f"{error.code}: {error.fields}") from None
        with self.db.unit_of_work() as uow:
            if not uow.claim_event(EARN_HANDLER, event["id"]) or earning.points == 0:
                return
            session, now = uow.session, utcnow()
            try:
                volunteers.get_volunteer(session, earning.volunteer_id)
            except NotFound:
                raise PoisonEvent(f"volunteer {earning.volunteer_id} does not exist") from None
            account_id = repo.open_account(session, VOLUNTEER_HOLDER, earning.volunteer_id, now)
            if repo.has_entry(session, account_id, earning.reference):
                return  # another revision of this attendance was credited
            entry = repo.credit(
                session, account_id, earning.points, domain.EARNED, earning.reference, earning.note, now
            )
            uow.flush()
            uow.emit(
                POINTS_EARNED,
                subject=str(account_id),
                data={
                    **_account_event(account_id, VOLUNTEER_HOLDER, earning.volunteer_id, entry.balance_after, now),
                    "points": earning.points,
                    "entry_id": entry.id,
                    "reference": earning.reference,
                    "attendance_id": earning.attendance_id,
                    "activity_id": earning.activity_id,
                },
            )

    # --- accounts ------------------------------------------------------------------------------

    @rpc
    def get_my_points(self, actor, filters=None):
        """The calling volunteer's balance and a page of their history."""
        actor = load_actor(actor)
        query = load(PointsQuerySchema, filters or {}, code="query.invalid")
        with self.db.read() as session:
            volunteer_id = volunteers.volunteer_of_account(session, actor.account_id).id
            return _account_view(session, volunteer_id, query)

    @rpc
    def get_volunteer_points(self, volunteer_id, actor, filters=None):
        """A volunteer's balance and history: the volunteer, or admins of their home station's scope."""
        actor = load_actor(actor)
        volunteer_id = load_id(volunteer_id, "volunteer_id")
        query = load(PointsQuerySchema, filters or {}, code="query.invalid")
        with self.db.read() as session:
            volunteer = volunteers.get_volunteer(session, volunteer_id)
            account_id, station_id = volunteer.account_id, volunteer.home_station_id
        if not access.is_self(actor, account_id):
            Reach(self.centers).require_admin_of(actor, station_id)
        with self.db.read() as session:
            return _account_view(session, volunteer_id, query)

    # --- goods ---------------------------------------------------------------------------------

    @command
    def add_goods(self, center_id, data, actor):
        """Put goods on the shelf of an active center: admins of its scope."""
        actor = load_actor(actor)
        values = load(GoodsCreateSchema, data)
        center = self.centers.get_center(load_id(center_id, "center_id"))  # NotFound: center.not_found
        Reach(self.centers).require_admin_of(actor, center["id"])
        domain.require_open_center(center["status"])
        now = utcnow()
        with self.db.unit_of_work() as uow:
            goods = Goods(center_id=center["id"], active=True, version=1, created_at=now, updated_at=now, **values)
            uow.session.add(goods)
            return _emit_goods(uow, goods, GOODS_ADDED)

    @command
    def update_goods(self, goods_id, changes, actor, expected_version=None):
        """Rename, describe, reprice, withdraw (`active: false`) or put back: admins of the
        goods' center scope; `expected_version` guards against a change made meanwhile."""
        actor = load_actor(actor)
        changes = load(GoodsUpdateSchema, changes)
        goods_id = load_id(goods_id, "goods_id")
        if expected_version is not None:
            expected_version = load_id(expected_version, "expected_version")
        self._require_admin_of_goods(actor, goods_id)
        with self.db.unit_of_work() as uow:
            goods = repo.get_goods(uow.session, goods_id, lock=True)
            domain.require_version(expected_version, goods.version)
            new = domain.goods_changes({name: getattr(goods, name) for name in changes}, changes)
            if not new:
                return _goods.dump(goods)
            for name, value in new.items():
                setattr(goods, name, value)
            goods.version += 1
            goods.updated_at = utcnow()
            return _emit_goods(uow, goods, GOODS_CHANGED)

    @command
    def change_stock(self, goods_id, data, actor):
        """Restock (positive `delta`) or remove items (negative): admins of the goods' center
        scope. Added to what the shelf holds now, so redemptions meanwhile are not overwritten."""
        actor = load_actor(actor)
        delta = load(StockChangeSchema, data)["delta"]
        goods_id = load_id(goods_id, "goods_id")
        self._require_admin_of_goods(actor, goods_id)
        with self.db.unit_of_work() as uow:
            if repo.change_stock(uow.session, goods_id, delta, MAX_STOCK, utcnow()) is None:
                raise domain.stock_refusal(repo.get_goods(uow.session, goods_id).stock, delta)
            return _emit_goods(uow, repo.get_goods(uow.session, goods_id), GOODS_CHANGED)

    @rpc
    def get_goods(self, goods_id):
        with self.db.read() as session:
            return _goods.dump(repo.get_goods(session, load_id(goods_id, "goods_id")))

    @rpc
    def list_goods(self, center_id, filters=None):
        """A center's catalogue (anyone signed in), by id; `active` filters."""
        query = load(GoodsListQuerySchema, filters or {}, code="query.invalid")
        center_id = load_id(center_id, "center_id")
        self.centers.get_center(center_id)  # NotFound for an unknown center rather than an empty shelf
        page, page_size = query["page"], query["page_size"]
        with self.db.read() as session:
            rows, total = repo.goods_page(session, center_id, query.get("active"), page, page_size)
            return {"items": _goods.dump(rows, many=True), "total": total, "page": page, "page_size": page_size}

    # --- redemptions ---------------------------------------------------------------------------

    @command
    def redeem(self, goods_id, data, actor):
        """Spend points on goods: a volunteer for themself, or an admin of the goods' center
        scope at the counter for `volunteer_id`. Stock and balance are taken by conditional
        UPDATEs in one transaction: either both or neither, and neither below zero."""
        actor = load_actor(actor)
        values = load(RedeemSchema, data)
        goods_id = load_id(goods_id, "goods_id")
        quantity = values["quantity"]
        volunteer_id = self._redeeming_volunteer(actor, goods_id, values.get("volunteer_id"))
        with self.db.unit_of_work() as uow:
            session, now = uow.session, utcnow()
            taken = repo.take_stock(session, goods_id, quantity, now)
            if taken is None:
                goods = repo.get_goods(session, goods_id)
                raise domain.goods_refusal(goods.active, goods.stock, quantity)
            points = domain.cost(taken.price, quantity)
            account = repo.find_account(session, VOLUNTEER_HOLDER, volunteer_id)
            balance = None if account is None else repo.debit(session, account.id, points, now)
            if balance is None:  # the stock taken above rolls back with this refusal
                raise domain.insufficient_balance(0 if account is None else account.balance, points)
            redemption = Redemption(
                account_id=account.id,
                holder_kind=VOLUNTEER_HOLDER,
                holder_id=volunteer_id,
                goods_id=goods_id,
                goods_name=taken.name,
                center_id=taken.center_id,
                quantity=quantity,
                points=points,
                status=domain.COMPLETED,
                actor_account_id=actor.account_id,
                at=now,
            )
            session.add(redemption)
            uow.flush()
            reference = domain.redemption_reference(redemption.id)
            note = domain.redemption_note(taken.name, quantity)
            repo.add_entry(session, account.id, -points, balance, domain.REDEEMED, reference, note, now)
            uow.emit(
                POINTS_REDEEMED, subject=str(account.id), data=_redemption_event(redemption, balance, taken.stock, now)
            )
            return _redemption.dump(redemption)

    @command
    def cancel_redemption(self, redemption_id, data, actor):
        """Undo a redemption (a mistake at the counter): admins of its center's scope. The
        points go back to the account and the items to the shelf, even if withdrawn since."""
        actor = load_actor(actor)
        reason = load(CancellationSchema, data)["reason"]
        redemption_id = load_id(redemption_id, "redemption_id")
        with self.db.read() as session:
            center_id = repo.get_redemption(session, redemption_id).center_id
        Reach(self.centers).require_admin_of(actor, center_id)
        with self.db.unit_of_work() as uow:
            session, now = uow.session, utcnow()
            redemption = repo.get_redemption(session, redemption_id, lock=True)
            domain.require_cancellable(redemption.status)
            restocked = repo.return_stock(session, redemption.goods_id, redemption.quantity, now)
            refund = repo.credit(
                session,
                redemption.account_id,
                redemption.points,
                domain.REFUNDED,
                domain.refund_reference(redemption.id),
                domain.refund_note(redemption.goods_name, redemption.quantity),
                now,
            )
            redemption.status = domain.CANCELLED
            redemption.cancelled_at, redemption.cancel_reason, redemption.cancelled_by = now, reason, actor.account_id
            uow.flush()
            uow.emit(
                POINTS_REFUNDED,
                subject=str(redemption.account_id),
                data={**_redemption_event(redemption, refund.balance_after, restocked.stock, now), "reason": reason},
            )
            return _redemption.dump(redemption)

    @rpc
    def list_redemptions(self, center_id, actor, filters=None):
        """A center's redemptions, newest first: admins of its scope."""
        actor = load_actor(actor)
        query = load(RedemptionListQuerySchema, filters or {}, code="query.invalid")
        center_id = load_id(center_id, "center_id")
        self.centers.get_center(center_id)  # NotFound for an unknown center
        Reach(self.centers).require_admin_of(actor, center_id)
        holder = (VOLUNTEER_HOLDER, query["volunteer_id"]) if "volunteer_id" in query else None
        page, page_size = query["page"], query["page_size"]
        with self.db.read() as session:
            rows, total = repo.redemptions_page(session, center_id, holder, query.get("status"), page, page_size)
            return {"items": _redemption.dump(rows, many=True), "total": total, "page": page, "page_size": page_size}

    # --- helpers -------------------------------------------------------------------------------

    def _require_admin_of_goods(self, actor, goods_id):
        with self.db.read() as session:
            center_id = repo.get_goods(session, goods_id).center_id
        Reach(self.centers).require_admin_of(actor, center_id)

    def _redeeming_volunteer(self, actor, goods_id, volunteer_id):
        """The id of the volunteer who redeems: the caller, or `volunteer_id` for an admin of
        the goods' center scope; they must be active."""
        with self.db.read() as session:
            center_id = repo.get_goods(session, goods_id).center_id
            if volunteer_id is None:
                volunteer = volunteers.volunteer_of_account(session, actor.account_id)
            else:
                volunteer = volunteers.get_volunteer(session, volunteer_id)
            volunteer_id, account_id, status = volunteer.id, volunteer.account_id, volunteer.status
        if not access.is_self(actor, account_id):
            Reach(self.centers).require_admin_of(actor, center_id)
        volunteer_rules.require_active(status)
        return volunteer_id


def personal_export(session, volunteer_id):
    """What a volunteer's export of their data holds of points: balance, history, redemptions."""
    account = repo.find_account(session, VOLUNTEER_HOLDER, volunteer_id)
    if account is None:
        return {"balance": 0, "entries": [], "redemptions": []}
    return {
        "balance": account.balance,
        "entries": _entry.dump(repo.all_entries(session, account.id), many=True),
        "redemptions": _redemption.dump(repo.redemptions_of(session, account.id), many=True),
    }


def _account_view(session, volunteer_id, query):
    """A volunteer's account with a page of its history; balance 0 and no entries if they
    never earned (no account is opened by reading)."""
    account = repo.find_account(session, VOLUNTEER_HOLDER, volunteer_id)
    page, page_size = query["page"], query["page_size"]
    entries, total = repo.entries_page(session, account.id, page, page_size) if account else ([], 0)
    return _account.dump(
        {
            "holder_kind": VOLUNTEER_HOLDER,
            "holder_id": volunteer_id,
            "balance": account.balance if account else 0,
            "entries": {"items": entries, "total": total, "page": page, "page_size": page_size},
        }
    )


def _emit_goods(uow, goods, event_type):
    uow.flush()  # the id, and a name taken at this center surfaces as goods.name_taken
    view = _goods.dump(goods)
    uow.emit(event_type, subject=str(goods.id), data=view)
    return view


def _account_event(account_id, holder_kind, holder_id, balance, now):
    return {
        "account_id": account_id,
        "holder_kind": holder_kind,
        "holder_id": holder_id,
        "balance": balance,
        "at": now.isoformat(),
    }


def _redemption_event(redemption, balance, stock, now):
    return {
        **_account_event(redemption.account_id, redemption.holder_kind, redemption.holder_id, balance, now),
        "redemption_id": redemption.id,
        "goods_id": redemption.goods_id,
        "goods_name": redemption.goods_name,
        "center_id": redemption.center_id,
        "quantity": redemption.quantity,
        "points": redemption.points,
        "stock": stock,
    }
