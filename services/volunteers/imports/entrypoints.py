"""The imports entrypoints of the volunteers service (a mixin of VolunteersService): the upload,
the run's progress and report, and the timer that works through unfinished runs.

The upload reads the file (its form checked, its rows counted and packed), stores the rows
encrypted and returns the run at once, queued. The timer then takes runs in order, a batch of
BATCH_ROWS rows per unit of work: the rows' checks (CPU, and the centers service once per run
and call) run before the transaction, which asks once which ID numbers are taken, registers
the new volunteers (`enrolment.add_volunteers`: their numbers reserved in one statement),
writes the report's rows and the run's counters. A restart, or a failure, resumes at
`processed_rows`; on PostgreSQL replicas share runs batch by batch.
"""

import base64
import itertools
import logging
import time
from collections import deque

import eventlet
from nameko.timer import timer

from services.chassis.actors import Actor, load_actor
from services.chassis.clock import utcnow
from services.chassis.errors import InvalidInput, NotFound, ServiceUnavailable, WenmingError
from services.chassis.rpc import command, rpc
from services.chassis.schemas import load, load_id
from services.chassis.scope import Reach
from services.volunteers import access, enrolment
from services.volunteers.contract.imports import (
    VOLUNTEER_IMPORT_FINISHED,
    ImportCreateSchema,
    ImportReportSchema,
    ImportRowPageSchema,
    ImportRowQuerySchema,
    ImportSchema,
)
from services.volunteers.contract.registration import RegistrationSchema
from services.volunteers.imports import domain, parsing
from services.volunteers.imports import repository as repo
from services.volunteers.imports.models import ImportRun
from services.volunteers.privacy import UndecryptableToken

log = logging.getLogger(__name__)

UNIQUE = {}  # constraint name -> Conflict (services.chassis.db.Conflicts)
STALE = {}  # table name -> Conflict

BATCH_ROWS = 500  # rows per unit of work
POLL_SECONDS = 1.0  # how soon an upload is taken up
TICK_SECONDS = 5.0  # work of one timer call: a stopping service waits for it, so it stays short
YIELD_EVERY = 50  # rows checked between two chances for the service's other greenthreads to run

_import = ImportSchema()
_page = ImportRowPageSchema()
_report = ImportReportSchema()


def _import_id(value):
    return load_id(value, "import_id")


def _timestamp(moment):
    return moment.isoformat().replace("+00:00", "Z")


def _rows_binding(import_id):
    """What binds the stored rows' token to their run (privacy.FieldCipher)."""
    return f"volunteer_import:{import_id}:rows".encode()


def skip(rows, count):
    """Advance the iterator `rows` past `count` items."""
    deque(itertools.islice(rows, count), maxlen=0)


def cooperatively(rows):
    """`rows`, letting the hub run other greenthreads now and then: reading and checking a
    large file is CPU work that would otherwise hold up every RPC the service serves."""
    for count, row in enumerate(rows, start=1):
        if count % YIELD_EVERY == 0:
            eventlet.sleep(0)
        yield row


def import_view(run):
    failure = None if run.failure_code is None else {"code": run.failure_code, "message": run.failure_message}
    return _import.dump(
        {
            "id": run.id,
            "center_id": run.center_id,
            "file_name": run.file_name,
            "kind": run.kind,
            "status": run.status,
            "total_rows": run.total_rows,
            "processed_rows": run.processed_rows,
            "imported": run.imported,
            "skipped_duplicates": run.skipped_duplicates,
            "refused": run.refused,
            "ignored_columns": run.ignored_columns,
            "privacy_consent_version": run.privacy_consent_version,
            "actor_account_id": run.actor_account_id,
            "failure": failure,
            "created_at": run.created_at,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
        }
    )


def row_view(row):
    return {
        "row_number": row.row_number,
        "outcome": row.outcome,
        "volunteer_id": row.volunteer_id,
        "volunteer_number": row.volunteer_number,
        "code": row.code,
        "errors": row.errors or {},
    }


class ImportEntrypoints:
    # --- the upload and the reads -----------------------------------------------------------------

    @command
    def start_import(self, data, actor):
        """An admin whose scope holds `center_id` uploads a file; its form is checked now
        (InvalidInput naming `content`), its rows later. Returns the run, queued."""
        actor = load_actor(actor)
        values = load(ImportCreateSchema, data)
        if not access.is_admin(actor):
            raise access.admins_only()
        reach = Reach(self.centers)
        access.require_admin(actor, reach.within(actor, values["center_id"]))
        reach.active_center(values["center_id"], "center_id")
        content = parsing.file_bytes(values["content"], values["compression"])
        kind = parsing.kind_of(content, values["kind"])
        sheet = parsing.read_sheet(content, kind)
        packed, total = parsing.packed_rows(cooperatively(sheet.rows), sheet.fields)
        if total == 0:
            raise parsing.invalid_file("import.no_rows", "文件中只有表头，没有数据行。")
        with self.db.unit_of_work() as uow:
            run = ImportRun(
                center_id=values["center_id"],
                file_name=values["file_name"],
                kind=kind,
                ignored_columns=sheet.ignored,
                status="queued",
                total_rows=total,
                processed_rows=0,
                imported=0,
                skipped_duplicates=0,
                refused=0,
                failed_attempts=0,
                privacy_consent_version=values["privacy_consent"]["version"],
                actor_account_id=actor.account_id,
                actor_role=actor.role,
                created_at=utcnow(),
            )
            uow.session.add(run)
            uow.flush()  # the id, which the rows' token is bound to
            run.rows_token = self.personal_data.cipher.encrypt(base64.b64encode(packed).decode(), _rows_binding(run.id))
            return import_view(run)

    @rpc
    def get_import(self, import_id, actor):
        """A run: its status and counts, while it works and after (admins of its center's scope)."""
        return import_view(self._readable_run(import_id, actor))

    @rpc
    def list_import_rows(self, import_id, filters, actor):
        """A page of the run's report, in row order; `filters`: outcome, page, page_size."""
        query = load(ImportRowQuerySchema, filters or {})
        run = self._readable_run(import_id, actor)
        with self.db.read() as session:
            rows, total = repo.rows_page(session, run.id, query.get("outcome"), query["page"], query["page_size"])
            items = [row_view(row) for row in rows]
        return _page.dump({"items": items, "total": total, "page": query["page"], "page_size": query["page_size"]})

    @rpc
    def import_report(self, import_id, actor):
        """The whole report as CSV text (行号, 结果, 志愿者编号, 原因), for a spreadsheet."""
        run = self._readable_run(import_id, actor)
        with self.db.read() as session:
            content = domain.report_csv(repo.all_rows(session, run.id))
        return _report.dump({"file_name": domain.report_file_name(run.file_name), "content": content})

    def _readable_run(self, import_id, actor):
        actor = load_actor(actor)
        import_id = _import_id(import_id)
        if not access.is_admin(actor):
            raise access.admins_only()
        with self.db.read() as session:
            run = repo.detached_run(session, import_id)
        # asked after the session is closed: SQLite's one connection is not held over an RPC
        access.require_admin(actor, Reach(self.centers).within(actor, run.center_id))
        return run

    # --- the work ---------------------------------------------------------------------------------

    @timer(interval=POLL_SECONDS)
    def work_on_imports(self):
        """Runs still to do, oldest first, for TICK_SECONDS at most; the next call goes on."""
        deadline = time.monotonic() + TICK_SECONDS
        after = 0
        while time.monotonic() < deadline:
            with self.db.read() as session:
                import_id = repo.next_unfinished(session, after)
            if import_id is None:
                return
            self._work_on(import_id, deadline)
            after = import_id

    def _work_on(self, import_id, deadline):
        with self.db.read() as session:
            run = repo.detached_run(session, import_id)
        try:
            rows = self._rows_of(run)
            stations = domain.Stations(run.center_id, self.centers.get_subtree(run.center_id))
        except (InvalidInput, NotFound) as error:  # the file or the center is gone
            self._fail(import_id, error.code, error.message)
            return
        except ServiceUnavailable:
            log.warning("import %s waits: the centers service does not answer", import_id)
            return
        consent = {"version": run.privacy_consent_version, "accepted_at": _timestamp(run.created_at)}
        actor = Actor(run.actor_account_id, run.actor_role)
        position = 0  # rows taken from `rows`
        processed = run.processed_rows
        while time.monotonic() < deadline and processed is not None:
            skip(rows, processed - position)  # past what is done already (here, or by another replica)
            batch = list(itertools.islice(rows, BATCH_ROWS))
            position = processed + len(batch)
            checked, refused = self._check(batch, stations, consent)
            try:
                processed = self._save_batch(import_id, processed, len(batch), checked, refused, stations, actor)
            except Exception as error:
                log.warning("import %s: a batch at row %s failed", import_id, processed, exc_info=True)
                self._count_failure(import_id, error)
                return

    def _rows_of(self, run):
        """The run's data rows, as the upload stored them."""
        try:
            text = self.personal_data.cipher.decrypt(run.rows_token, _rows_binding(run.id))
        except (UndecryptableToken, TypeError):  # its key dropped from the configuration, or erased
            raise InvalidInput("import.file_unreadable", "导入文件已无法读取，请重新上传。") from None
        return parsing.unpacked_rows(base64.b64decode(text))

    def _check(self, batch, stations, consent):
        """The rows of `batch` that may register, as (row number, registration state), and
        the Outcomes of those refused: everything that needs no database."""
        today = utcnow().date()
        checked, refused = [], []
        for row in cooperatively(batch):
            try:
                station_id = stations.home_of(domain.station_ref(row.cells))
                values = load(RegistrationSchema, domain.registration_values(row, station_id, consent))
                checked.append((row.number, enrolment.registration(values, today)))
            except WenmingError as error:
                refused.append(domain.refused(row.number, error))
        return checked, refused

    def _save_batch(self, import_id, processed, size, checked, refused, stations, actor):
        """Register the batch's new volunteers and record every row, if the run still stands
        at `processed`; returns where it stands after (None: finished, or another replica holds it)."""
        with self.db.unit_of_work() as uow:
            run = repo.claim(uow.session, import_id)
            if run is None:
                return None
            if run.processed_rows != processed:  # another replica did this batch meanwhile
                return run.processed_rows
            now = utcnow()
            outcomes = refused + self._register(uow, run, checked, stations, actor, now)
            repo.add_rows(uow.session, run.id, outcomes)
            for counter, count in domain.counts(outcomes).items():
                setattr(run, counter, getattr(run, counter) + count)
            run.processed_rows += size
            run.failed_attempts = 0
            if run.started_at is None:
                run.status, run.started_at = "running", now
            if size == 0 or run.processed_rows >= run.total_rows:
                if run.processed_rows < run.total_rows:  # the stored rows end before the count: never expected
                    self._finish(uow, run, now, "import.file_unreadable", "导入文件已无法完整读取，请重新上传。")
                else:
                    self._finish(uow, run, now)
                return None
            return run.processed_rows

    def _register(self, uow, run, checked, stations, actor, now):
        """Outcomes of the checked rows: duplicates of registered ID numbers (one query) or of
        an earlier row of the batch, and the new volunteers, added in one go."""
        cipher = self.personal_data.cipher
        hashes = [cipher.lookup_hash(state["id_number"]) for _, state in checked]
        taken = repo.registered(uow.session, sorted(set(hashes)))
        outcomes, first_rows, new = [], {}, []
        for (number, state), lookup_hash in zip(checked, hashes, strict=True):
            if lookup_hash in taken:
                volunteer_number, station_id = taken[lookup_hash]
                shown = volunteer_number if station_id in stations.by_id else None
                outcomes.append(domain.already_registered(number, shown))
            elif lookup_hash in first_rows:
                outcomes.append(domain.repeated_in_file(number, first_rows[lookup_hash]))
            else:
                first_rows[lookup_hash] = number
                new.append((number, state))
        if new:
            volunteers = enrolment.add_volunteers(
                uow,
                self.personal_data,
                [state for _, state in new],
                channel="import",
                actor=actor,
                now=now,
                consent={"version": run.privacy_consent_version, "accepted_at": run.created_at},
            )
            for (number, _), volunteer in zip(new, volunteers, strict=True):
                outcomes.append(domain.imported(number, volunteer.id, volunteer.volunteer_number))
        return outcomes

    def _finish(self, uow, run, now, failure_code=None, failure_message=None):
        """The run's end: its rows dropped (they hold personal data), `volunteer_import.finished`."""
        run.status = "completed" if failure_code is None else "failed"
        run.failure_code, run.failure_message = failure_code, failure_message
        run.finished_at, run.rows_token = now, None
        uow.emit(
            VOLUNTEER_IMPORT_FINISHED,
            subject=str(run.id),
            data={
                "id": run.id,
                "center_id": run.center_id,
                "status": run.status,
                "total_rows": run.total_rows,
                "imported": run.imported,
                "skipped_duplicates": run.skipped_duplicates,
                "refused": run.refused,
                "actor_account_id": run.actor_account_id,
                "finished_at": _timestamp(now),
            },
        )

    def _fail(self, import_id, code, message):
        with self.db.unit_of_work() as uow:
            run = repo.claim(uow.session, import_id)
            if run is not None:
                self._finish(uow, run, utcnow(), code, message)

    def _count_failure(self, import_id, error):
        """A batch failed (a lost race for an ID number, the database, a bug): it is tried again
        on the next call, and after MAX_BATCH_FAILURES in a row the run fails."""
        with self.db.unit_of_work() as uow:
            run = repo.claim(uow.session, import_id)
            if run is None:
                return
            run.failed_attempts += 1
            if run.failed_attempts >= domain.MAX_BATCH_FAILURES:
                code = error.code if isinstance(error, WenmingError) else "import.batch_failed"
                message = f"第 {run.processed_rows + 1} 行起的一批数据多次处理失败，导入已停止。"
                self._finish(uow, run, utcnow(), code, message)
