"""One database per service: engines, units of work, the outbox and processed-event tables.

`Store` works anywhere (service, migrations, scripts, tests); `Database` is the nameko
dependency that gives each worker a `Store` view and runs the outbox relay.
"""

import json
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from nameko.extensions import DependencyProvider
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from .clock import utcnow
from .config import amqp_uri, setting
from .errors import Conflict, InvalidInput, WenmingError
from .events import make_event
from .outbox import OutboxRelay

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# SQLite hands out a deleted row's id again unless the table is AUTOINCREMENT; consumers key
# their copies by id, so an id must never name two things. (PostgreSQL never reuses them.)
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class UtcDateTime(sa.TypeDecorator):
    """A UTC timestamp that comes back timezone-aware on SQLite too (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def declarative_base():
    """A fresh DeclarativeBase for one service, its metadata already holding the chassis tables."""

    class Base(DeclarativeBase):
        metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    _add_chassis_tables(Base.metadata)
    return Base


def _add_chassis_tables(metadata):
    sa.Table(
        "outbox",
        metadata,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("unrouted", sa.Boolean, nullable=False, default=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Index("ix_outbox_pending", "sent_at", "id"),
    )
    sa.Table(
        "idempotency_keys",
        metadata,
        # the caller's key, scoped by the caller ("<account>/<key>"): one command per key
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("command", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),  # the command's JSON result
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "processed_events",
        metadata,
        sa.Column("handler", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


POSTGRESQL_TIMEOUTS = {
    "lock_timeout": "5s",
    "statement_timeout": "30s",
    "idle_in_transaction_session_timeout": "60s",
}


def make_engine(url, pool_size=10):
    if url.startswith("sqlite"):
        # SQLite allows one writer: one connection per process, and greenthreads queue for it
        # in the (green) pool instead of spinning in SQLite's busy handler, which would block
        # the eventlet hub.
        engine = sa.create_engine(
            url,
            pool_size=1,
            max_overflow=0,
            pool_timeout=30,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    engine = sa.create_engine(url, pool_size=pool_size, max_overflow=5, pool_pre_ping=True)

    @sa.event.listens_for(engine, "connect")
    def _bounded_waits(dbapi_connection, _record):
        # No session waits for ever: a lock held by a transaction stuck on the network (a
        # relay waiting on a dead broker connection) costs others seconds, not hours.
        cursor = dbapi_connection.cursor()
        for name, value in POSTGRESQL_TIMEOUTS.items():
            cursor.execute(f"SET {name} = '{value}'")
        cursor.close()
        dbapi_connection.commit()

    return engine


@dataclass(frozen=True)
class Conflicts:
    """The domain errors a service's database failures stand for, declared once per service:
    a violated unique constraint by its name, a stale optimistic-lock version by its table.
    The unit of work raises a fresh copy of the matching error; anything else propagates."""

    unique: Mapping[str, WenmingError] = field(default_factory=dict)
    stale: Mapping[str, WenmingError] = field(default_factory=dict)

    def for_integrity_error(self, error, metadata):
        name = violated_constraint(error, metadata)
        return _fresh(self.unique.get(name) or CHASSIS_UNIQUE.get(name))

    def for_stale_tables(self, tables):
        for table in sorted(tables):
            if table in self.stale:
                return _fresh(self.stale[table])
        return None


# Two requests with one idempotency key raced: the first committed, this one changed nothing.
CHASSIS_UNIQUE = {
    "pk_idempotency_keys": Conflict(
        "idempotency.in_flight", "使用该 Idempotency-Key 的请求已在处理，请稍后以同一请求重试以取得结果"
    ),
}


def _fresh(error):
    return None if error is None else type(error)(error.code, error.message, error.fields)


def violated_constraint(error, metadata):
    """The name of the unique constraint an IntegrityError violated, or None.

    PostgreSQL reports the name itself (pg8000 passes the server's error fields; `n` is the
    constraint); SQLite names only "table.column, ...", matched against `metadata`."""
    detail = error.orig.args[0] if error.orig is not None and error.orig.args else None
    if isinstance(detail, dict):
        return detail.get("n")
    message = str(detail or "")
    prefix = "UNIQUE constraint failed: "
    if not message.startswith(prefix):
        return None
    columns = message[len(prefix) :]
    for table in metadata.tables.values():
        for constraint in table.constraints:
            named_unique = isinstance(constraint, sa.UniqueConstraint | sa.PrimaryKeyConstraint) and constraint.name
            if named_unique and columns == ", ".join(f"{table.name}.{column.name}" for column in constraint.columns):
                return constraint.name
    return None


def state(entity):
    """The stored fields of a row as the plain dict a service's domain rules work on."""
    return {column.key: getattr(entity, column.key) for column in sa.inspect(type(entity)).column_attrs}


def save(entity, changed):
    """Set the fields `changed` (from the domain rules) on a row."""
    for key, value in changed.items():
        setattr(entity, key, value)


def locked(session, statement):
    """`statement` FOR UPDATE on PostgreSQL (SQLite has one writer and ignores row locks)."""
    return statement.with_for_update() if session.bind.dialect.name == "postgresql" else statement


def insert_rows(session, table, rows):
    """Insert `rows` (dicts with the same keys) into `table` in one statement. On PostgreSQL
    the rows travel as one JSON parameter (json_populate_recordset): pg8000 rewrites a
    statement's text character by character, and a multi-row VALUES of hundreds of rows cost
    it more than the database's work; SQLite's executemany stays in process."""
    if not rows:
        return
    if session.bind.dialect.name != "postgresql":
        session.execute(table.insert(), rows)
        return
    columns = ", ".join(rows[0])
    session.execute(
        sa.text(
            f"INSERT INTO {table.name} ({columns}) SELECT {columns}"
            f" FROM json_populate_recordset(NULL::{table.name}, CAST(:rows AS json))"
        ),
        {"rows": json.dumps(rows, default=_json_value)},
    )


def _json_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class UnitOfWork:
    """One transaction: the state change, the events it raises and the events it consumed."""

    def __init__(self, session, metadata, source, request_id=None, conflicts=None):
        self.session = session
        self._metadata = metadata
        self._outbox = metadata.tables["outbox"]
        self._processed = metadata.tables["processed_events"]
        self._source = source
        self._request_id = request_id
        self._conflicts = conflicts or Conflicts()
        self.emitted = []

    def flush(self):
        """Write pending changes now (to get ids), with failures as the service's conflicts."""
        with self.conflicts_as_errors():
            self.session.flush()

    @contextmanager
    def conflicts_as_errors(self):
        versioned = {
            obj.__table__.name for obj in (*self.session.dirty, *self.session.deleted) if hasattr(obj, "__table__")
        }
        try:
            yield
        except StaleDataError:
            error = self._conflicts.for_stale_tables(versioned)
            if error is None:
                raise
            raise error from None
        except IntegrityError as integrity_error:
            error = self._conflicts.for_integrity_error(integrity_error, self._metadata)
            if error is None:
                raise
            raise error from None

    def emit(self, event_type, subject, data, *, schema_version=1):
        (event,) = self.emit_many(event_type, [(subject, data)], schema_version=schema_version)
        return event

    def emit_many(self, event_type, items, *, schema_version=1):
        """Events of one type, one per (subject, data) of `items`, written in one statement:
        a batch (an import) emits hundreds, and a statement per event cost more than the rest."""
        version, request_id = schema_version, self._request_id
        events = [
            make_event(self._source, event_type, subject, data, schema_version=version, request_id=request_id)
            for subject, data in items
        ]
        now = utcnow()
        insert_rows(
            self.session,
            self._outbox,
            [
                {
                    "event_id": event["id"],
                    "event_type": event_type,
                    "payload": json.dumps(event, ensure_ascii=False),
                    "created_at": now,
                    "attempts": 0,
                    "unrouted": False,
                }
                for event in events
            ],
        )
        self.emitted.extend(events)
        return events

    def claim_event(self, handler, event_id):
        """Record that `handler` applies `event_id` in this transaction; False if it already did.

        Two replicas racing on one event both pass the check, but the primary key lets only
        one commit; the other's transaction fails and its retry finds the record.
        """
        table = self._processed
        already = self.session.execute(
            sa.select(table.c.event_id).where(table.c.handler == handler, table.c.event_id == event_id)
        ).first()
        if already:
            return False
        self.session.execute(table.insert().values(handler=handler, event_id=event_id, processed_at=utcnow()))
        return True


class Store:
    def __init__(self, url, metadata, source, *, pool_size=10, conflicts=None):
        self.url = url
        self.metadata = metadata
        self.source = source
        self.conflicts = conflicts
        self.engine = make_engine(url, pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.outbox = metadata.tables["outbox"]
        self._after_commit = []

    @property
    def is_postgresql(self):
        return self.engine.dialect.name == "postgresql"

    def on_events_committed(self, callback):
        self._after_commit.append(callback)

    @contextmanager
    def unit_of_work(self, request_id=None):
        session = self.sessions()
        uow = UnitOfWork(session, self.metadata, self.source, request_id, self.conflicts)
        try:
            yield uow
            with uow.conflicts_as_errors():
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if uow.emitted:
            for callback in self._after_commit:
                callback()

    @contextmanager
    def read(self):
        session = self.sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def ping(self):
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    def outbox_backlog(self):
        with self.engine.connect() as connection:
            return connection.execute(
                sa.select(sa.func.count()).select_from(self.outbox).where(self.outbox.c.sent_at.is_(None))
            ).scalar_one()

    def oldest_unsent_age(self):
        """Seconds since the oldest event still waiting in the outbox was written (0: none)."""
        with self.engine.connect() as connection:
            oldest = connection.execute(
                sa.select(sa.func.min(self.outbox.c.created_at)).where(self.outbox.c.sent_at.is_(None))
            ).scalar_one()
        if oldest is None:
            return 0.0
        if oldest.tzinfo is None:  # SQLite drops the zone
            oldest = oldest.replace(tzinfo=utcnow().tzinfo)
        return max(0.0, (utcnow() - oldest).total_seconds())

    def prune(self, outbox_retention, processed_retention, idempotency_retention):
        """Forget published events, processed-event records and idempotency keys older than
        their retention (timedeltas). Processed records must outlive any redelivery, so
        theirs is longer."""
        processed = self.metadata.tables["processed_events"]
        keys = self.metadata.tables["idempotency_keys"]
        now = utcnow()
        with self.engine.begin() as connection:
            connection.execute(sa.delete(self.outbox).where(self.outbox.c.sent_at < now - outbox_retention))
            connection.execute(sa.delete(processed).where(processed.c.processed_at < now - processed_retention))
            connection.execute(sa.delete(keys).where(keys.c.created_at < now - idempotency_retention))

    def dispose(self):
        self.engine.dispose()


class DatabaseAccess:
    """What a worker sees: units of work stamped with the request id, and read sessions."""

    def __init__(self, store, context_data):
        self._store = store
        self._context_data = context_data
        self._command_uow = None  # the unit of work a `command` holds open around its method

    def unit_of_work(self):
        if self._command_uow is not None:
            return _joined(self._command_uow)
        return self._store.unit_of_work(request_id=self._context_data.get("request_id"))

    def run_once(self, key, command, fingerprint, run):
        """`run()` and its outcome under the idempotency `key`, in one transaction with the
        change it makes (the method's own unit of work joins this one); the stored outcome
        when `key` was already used for the same request; `idempotency.key_reused` when it
        was used for another."""
        keys = self._store.metadata.tables["idempotency_keys"]
        with self._store.unit_of_work(request_id=self._context_data.get("request_id")) as uow:
            stored = uow.session.execute(sa.select(keys).where(keys.c.key == key)).first()
            if stored is not None:
                if (stored.command, stored.fingerprint) != (command, fingerprint):
                    raise InvalidInput("idempotency.key_reused", "该 Idempotency-Key 已用于另一个不同的请求")
                return json.loads(stored.outcome)
            self._command_uow = uow
            try:
                outcome = run()
            finally:
                self._command_uow = None
            uow.session.execute(
                keys.insert().values(
                    key=key,
                    command=command,
                    fingerprint=fingerprint,
                    outcome=json.dumps(outcome, ensure_ascii=False),
                    created_at=utcnow(),
                )
            )
            return outcome

    def read(self):
        if self._command_uow is not None:
            # inside a command the read sees its transaction, and waits for no second
            # connection (SQLite has one: asking for it here waited for ever)
            return _joined_session(self._command_uow)
        return self._store.read()


@contextmanager
def _joined(uow):
    """The enclosing unit of work, which commits or rolls back for both."""
    yield uow


@contextmanager
def _joined_session(uow):
    yield uow.session


class Database(DependencyProvider):
    """The service's own database (DATABASE_URL) plus the relay that drains its outbox.
    `conflicts` names the domain errors its constraint and version failures stand for."""

    def __init__(self, base, conflicts=None):
        self.metadata = base.metadata
        self.conflicts = conflicts

    def setup(self):
        url = setting("DATABASE_URL")
        if not url:
            raise RuntimeError("DATABASE_URL is not configured")
        pool_size = int(setting("max_workers", 10)) + 2  # every worker plus the relay
        self.store = Store(
            url, self.metadata, self.container.service_name, pool_size=pool_size, conflicts=self.conflicts
        )
        self.relay = OutboxRelay(
            self.store,
            amqp_uri(),
            self.container.service_name,
            poll_seconds=float(setting("OUTBOX_POLL_SECONDS", 2)),
        )
        self.store.on_events_committed(self.relay.wake)

    def start(self):
        self.container.spawn_managed_thread(self.relay.run, identifier="outbox_relay")

    def stop(self):
        self.relay.stop()
        self.store.dispose()

    def kill(self):
        self.relay.stop()

    def get_dependency(self, worker_ctx):
        return DatabaseAccess(self.store, worker_ctx.context_data)

    # read by Observability: readiness and gauges
    def health_check(self):
        self.store.ping()

    def observed_gauges(self):
        yield (
            "wenming_outbox_backlog",
            "Events written to the outbox and not yet published",
            self.store.outbox_backlog(),
            {},
        )
        yield (
            "wenming_outbox_oldest_unsent_age_seconds",
            "Age of the oldest event written to the outbox and not yet published",
            self.store.oldest_unsent_age(),
            {},
        )
