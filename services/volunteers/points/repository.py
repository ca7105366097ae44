"""The SQL of points and love supermarkets.

Balances and stocks change only through conditional UPDATEs (`... WHERE balance >= :cost`,
`... WHERE stock >= :quantity`) whose RETURNING clause says whether they applied and what the
row holds after them. That is what keeps them at or above zero under any concurrency, on
both databases: PostgreSQL re-checks the condition against the newest row once the row lock
is granted, and SQLite runs one writer at a time.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from services.chassis.db import locked
from services.chassis.errors import NotFound
from services.volunteers.points.models import Goods, PointAccount, PointEntry, Redemption

_accounts = PointAccount.__table__
_goods = Goods.__table__


# --- accounts and entries ------------------------------------------------------------------


def find_account(session, holder_kind, holder_id):
    return session.scalars(
        sa.select(PointAccount).where(PointAccount.holder_kind == holder_kind, PointAccount.holder_id == holder_id)
    ).first()


def open_account(session, holder_kind, holder_id, now):
    """The id of the holder's account, created (balance 0) if it has none. Two first credits
    at once both insert; ON CONFLICT DO NOTHING lets one row win without failing the other."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(_accounts)
        .values(holder_kind=holder_kind, holder_id=holder_id, balance=0, version=1, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["holder_kind", "holder_id"])
    )
    return session.scalar(
        sa.select(_accounts.c.id).where(_accounts.c.holder_kind == holder_kind, _accounts.c.holder_id == holder_id)
    )


def _change_balance(session, account_id, delta, now, *condition):
    return session.scalar(
        sa.update(_accounts)
        .where(_accounts.c.id == account_id, *condition)
        .values(balance=_accounts.c.balance + delta, version=_accounts.c.version + 1, updated_at=now)
        .returning(_accounts.c.balance)
    )


def credit(session, account_id, points, kind, reference, note, now):
    """Add `points` and their ledger entry; the entry (its `balance_after` is the new balance)."""
    balance = _change_balance(session, account_id, points, now)
    return add_entry(session, account_id, points, balance, kind, reference, note, now)


def debit(session, account_id, points, now):
    """Take `points` if the balance holds them: the balance after, or None (nothing taken)."""
    return _change_balance(session, account_id, -points, now, _accounts.c.balance >= points)


def has_entry(session, account_id, reference):
    return (
        session.scalar(
            sa.select(PointEntry.id).where(PointEntry.account_id == account_id, PointEntry.reference == reference)
        )
        is not None
    )


def add_entry(session, account_id, delta, balance_after, kind, reference, note, now):
    entry = PointEntry(
        account_id=account_id,
        delta=delta,
        balance_after=balance_after,
        kind=kind,
        reference=reference,
        note=note,
        at=now,
    )
    session.add(entry)
    return entry


def entries_page(session, account_id, page, page_size):
    condition = PointEntry.account_id == account_id
    total = session.scalar(sa.select(sa.func.count()).select_from(PointEntry).where(condition))
    rows = session.scalars(
        sa.select(PointEntry)
        .where(condition)
        .order_by(PointEntry.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return rows, total


def all_entries(session, account_id):
    return session.scalars(
        sa.select(PointEntry).where(PointEntry.account_id == account_id).order_by(PointEntry.id)
    ).all()


# --- goods ---------------------------------------------------------------------------------


def get_goods(session, goods_id, *, lock=False):
    statement = sa.select(Goods).where(Goods.id == goods_id)
    goods = session.scalars(locked(session, statement) if lock else statement).first()
    if goods is None:
        raise NotFound("goods.not_found", f"物品 {goods_id} 不存在。")
    return goods


def goods_page(session, center_id, active, page, page_size):
    conditions = [Goods.center_id == center_id]
    if active is not None:
        conditions.append(Goods.active.is_(active))
    total = session.scalar(sa.select(sa.func.count()).select_from(Goods).where(*conditions))
    rows = session.scalars(
        sa.select(Goods).where(*conditions).order_by(Goods.id).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return rows, total


def _change_stock(session, goods_id, delta, now, *condition):
    return session.execute(
        sa.update(_goods)
        .where(_goods.c.id == goods_id, *condition)
        .values(stock=_goods.c.stock + delta, version=_goods.c.version + 1, updated_at=now)
        .returning(_goods.c.price, _goods.c.stock, _goods.c.name, _goods.c.center_id)
    ).first()


def take_stock(session, goods_id, quantity, now):
    """Take `quantity` items of active goods if the shelf holds them: (price, stock, name,
    center_id) after, or None (nothing taken)."""
    return _change_stock(session, goods_id, -quantity, now, _goods.c.active.is_(True), _goods.c.stock >= quantity)


def return_stock(session, goods_id, quantity, now):
    """Put `quantity` items back on the shelf (a cancelled redemption): the row after."""
    return _change_stock(session, goods_id, quantity, now)


def change_stock(session, goods_id, delta, high, now):
    """Add `delta` (negative: remove) if the stock stays within 0 … `high`: the row after, or None."""
    return _change_stock(session, goods_id, delta, now, _goods.c.stock + delta >= 0, _goods.c.stock + delta <= high)


# --- redemptions ---------------------------------------------------------------------------


def get_redemption(session, redemption_id, *, lock=False):
    statement = sa.select(Redemption).where(Redemption.id == redemption_id)
    redemption = session.scalars(locked(session, statement) if lock else statement).first()
    if redemption is None:
        raise NotFound("redemption.not_found", f"兑换记录 {redemption_id} 不存在。")
    return redemption


def redemptions_page(session, center_id, holder, status, page, page_size):
    """A page of a center's redemptions, newest first; `holder` (kind, id) and `status` filter."""
    conditions = [Redemption.center_id == center_id]
    if holder is not None:
        conditions.extend((Redemption.holder_kind == holder[0], Redemption.holder_id == holder[1]))
    if status is not None:
        conditions.append(Redemption.status == status)
    total = session.scalar(sa.select(sa.func.count()).select_from(Redemption).where(*conditions))
    rows = session.scalars(
        sa.select(Redemption)
        .where(*conditions)
        .order_by(Redemption.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return rows, total


def redemptions_of(session, account_id):
    return session.scalars(
        sa.select(Redemption).where(Redemption.account_id == account_id).order_by(Redemption.id)
    ).all()
