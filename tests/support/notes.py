"""Two small services built on the chassis exactly as real services use it (the chassis
and fault tests run them): one that changes state and emits events through the outbox, one
that applies them idempotently."""

import sqlalchemy as sa

from services.chassis.consumer import PoisonEvent, reliable_event_handler
from services.chassis.db import Database, declarative_base
from services.chassis.errors import InvalidInput
from services.chassis.observability import Observability
from services.chassis.rpc import command, rpc

Base = declarative_base()

notes = sa.Table(
    "notes",
    Base.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("text", sa.String(200), nullable=False),
)
applied = sa.Table(
    "applied",
    Base.metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(64), nullable=False),
)


class NotesService:
    name = "notes"
    db = Database(Base)
    observability = Observability()

    @command
    def add(self, text):
        """A note and its event; a text starting with "refuse" is refused after the insert."""
        return self._insert(text)

    @command
    def add_once(self, text):
        """`add`, unless a note with this text exists (a read before the write)."""
        with self.db.read() as session:
            existing = session.execute(sa.select(notes.c.id).where(notes.c.text == text)).scalar()
        return existing if existing is not None else self._insert(text)

    def _insert(self, text):
        with self.db.unit_of_work() as uow:
            note_id = uow.session.execute(notes.insert().values(text=text)).inserted_primary_key[0]
            uow.emit("note.added", subject=str(note_id), data={"id": note_id, "text": text})
            if text.startswith("refuse"):
                raise InvalidInput("note.refused", "拒绝")
        return note_id

    @rpc
    def texts(self):
        with self.db.read() as session:
            return list(session.execute(sa.select(notes.c.text).order_by(notes.c.id)).scalars())


class LedgerService:
    """Applies note events once each; a note whose text starts with 'fail' always fails."""

    name = "ledger"
    db = Database(Base)
    observability = Observability()

    @reliable_event_handler("notes", "note.added", max_attempts=3, base_delay_seconds=0.05)
    def on_note_added(self, event):
        text = event["data"]["text"]
        if text.startswith("poison"):
            raise PoisonEvent("unusable")
        if text.startswith("fail"):
            raise RuntimeError("this note always fails")
        with self.db.unit_of_work() as uow:
            if uow.claim_event("ledger.on_note_added", event["id"]):
                uow.session.execute(applied.insert().values(event_id=event["id"], subject=event["subject"]))
