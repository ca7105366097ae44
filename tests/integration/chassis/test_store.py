"""The unit of work, outbox rows and processed-event records on SQLite and PostgreSQL."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.chassis.clock import utcnow
from services.chassis.db import POSTGRESQL_TIMEOUTS, Conflicts, Store, declarative_base
from services.chassis.errors import Conflict
from tests.support.notes import Base, notes


@pytest.fixture
def store(database_url):
    store = Store(database_url, Base.metadata, source="notes")
    Base.metadata.create_all(store.engine)
    yield store
    store.dispose()


def outbox_rows(store):
    with store.read() as session:
        return session.execute(sa.select(store.outbox)).all()


def test_state_and_event_commit_together(store):
    with store.unit_of_work(request_id="req-1") as uow:
        uow.session.execute(notes.insert().values(text="你好"))
        event = uow.emit("note.added", subject="1", data={"text": "你好"})
    [row] = outbox_rows(store)
    assert row.event_id == event["id"] and row.sent_at is None
    assert json.loads(row.payload)["requestid"] == "req-1"
    assert store.outbox_backlog() == 1


def test_a_failed_unit_of_work_leaves_neither_state_nor_event(store):
    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        uow.session.execute(notes.insert().values(text="x"))
        uow.emit("note.added", subject="1", data={})
        raise RuntimeError("boom")
    assert outbox_rows(store) == []
    with store.read() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(notes)).scalar_one() == 0


def test_claim_event_is_true_once_per_handler(store):
    with store.unit_of_work() as uow:
        assert uow.claim_event("ledger.h", "e-1") is True
    with store.unit_of_work() as uow:
        assert uow.claim_event("ledger.h", "e-1") is False
        assert uow.claim_event("other.h", "e-1") is True


def test_the_age_of_the_oldest_unsent_event_is_known(store):
    assert store.oldest_unsent_age() == 0.0
    with store.unit_of_work() as uow:
        uow.emit("note.added", subject="1", data={})
    with store.engine.begin() as connection:
        connection.execute(sa.update(store.outbox).values(created_at=utcnow() - timedelta(seconds=90)))
    assert 89 <= store.oldest_unsent_age() < 120


def test_postgresql_sessions_never_wait_for_ever(postgres_url):
    store = Store(postgres_url, Base.metadata, source="notes")
    try:
        with store.engine.connect() as connection:
            settings = {name: connection.execute(sa.text(f"SHOW {name}")).scalar_one() for name in POSTGRESQL_TIMEOUTS}
    finally:
        store.dispose()
    assert settings == {"lock_timeout": "5s", "statement_timeout": "30s", "idle_in_transaction_session_timeout": "1min"}


def test_committed_events_wake_the_relay(store):
    woken = []
    store.on_events_committed(lambda: woken.append(True))
    with store.unit_of_work() as uow:
        uow.session.execute(notes.insert().values(text="quiet"))
    assert woken == []
    with store.unit_of_work() as uow:
        uow.emit("note.added", subject="1", data={})
    assert woken == [True]


def test_prune_forgets_only_what_is_past_retention(store):
    from datetime import timedelta

    with store.unit_of_work() as uow:
        uow.emit("note.added", subject="old", data={})
        uow.emit("note.added", subject="unsent", data={})
        uow.claim_event("ledger.h", "e-old")
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(store.outbox).where(store.outbox.c.id == 1).values(sent_at=sa.func.current_timestamp())
        )
    keys = store.metadata.tables["idempotency_keys"]
    with store.engine.begin() as connection:
        for key, age in (("old", timedelta(days=2)), ("recent", timedelta(0))):
            connection.execute(
                keys.insert().values(key=key, command="add", fingerprint="f", outcome="1", created_at=utcnow() - age)
            )
    store.prune(timedelta(seconds=-60), timedelta(days=1), timedelta(days=1))  # the sent one is "older"
    rows = outbox_rows(store)
    assert [r.sent_at for r in rows] == [None]  # an unsent event is never pruned
    with store.unit_of_work() as uow:
        assert uow.claim_event("ledger.h", "e-old") is False  # still inside its retention
        assert uow.session.execute(sa.select(keys.c.key)).scalars().all() == ["recent"]


# A versioned row with a named unique constraint, as services declare them.
ConflictBase = declarative_base()


class Tag(ConflictBase):
    __tablename__ = "tags"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    code = sa.Column(sa.String(20), nullable=False)
    version = sa.Column(sa.Integer, nullable=False)
    __table_args__ = (sa.UniqueConstraint("code", name="uq_tags_code"),)
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


TAG_CONFLICTS = Conflicts(
    unique={"uq_tags_code": Conflict("tag.code_taken", "编码已被使用。", {"code": ["编码已被使用。"]})},
    stale={"tags": Conflict("tag.version_conflict", "数据已被他人修改。")},
)


@pytest.fixture
def tag_store(database_url):
    store = Store(database_url, ConflictBase.metadata, source="tags", conflicts=TAG_CONFLICTS)
    ConflictBase.metadata.create_all(store.engine)
    with store.unit_of_work() as uow:
        uow.session.add(Tag(code="a", version=1))
    yield store
    store.dispose()


def test_a_named_unique_constraint_becomes_the_declared_conflict(tag_store):
    for flush_early in (True, False):  # raised by an explicit flush or by the commit
        with pytest.raises(Conflict) as refused, tag_store.unit_of_work() as uow:
            uow.session.add(Tag(code="a", version=1))
            if flush_early:
                uow.flush()
        assert (refused.value.code, refused.value.fields) == ("tag.code_taken", {"code": ["编码已被使用。"]})


def test_a_stale_version_becomes_the_declared_conflict(tag_store):
    with tag_store.unit_of_work() as uow:
        tag = uow.session.scalars(sa.select(Tag)).one()
        # the row changes behind the loaded object's back, as a concurrent writer would change it
        uow.session.execute(sa.update(Tag.__table__).values(version=2))
        tag.code, tag.version = "b", 2
        with pytest.raises(Conflict) as refused:
            uow.flush()
        assert refused.value.code == "tag.version_conflict"
        uow.session.rollback()


def test_failures_nobody_declared_propagate_unchanged(database_url):
    store = Store(database_url, ConflictBase.metadata, source="tags")
    ConflictBase.metadata.create_all(store.engine)
    try:
        with pytest.raises(sa.exc.IntegrityError), store.unit_of_work() as uow:
            uow.session.add_all([Tag(code="x", version=1), Tag(code="x", version=1)])
    finally:
        store.dispose()
