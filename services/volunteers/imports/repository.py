"""The SQL of imports: runs, the report's rows, and which ID numbers a batch finds registered.
Functions take a SQLAlchemy session from the chassis (unit of work or read session)."""

import sqlalchemy as sa

from services.chassis.db import insert_rows
from services.chassis.errors import NotFound
from services.volunteers.imports.models import ImportRow, ImportRun
from services.volunteers.models import Volunteer

UNFINISHED = ("queued", "running")


def get_run(session, import_id):
    run = session.get(ImportRun, import_id)
    if run is None:
        raise NotFound("import.not_found", f"导入任务 {import_id} 不存在。")
    return run


def detached_run(session, import_id):
    """The run `import_id` as it is now, readable after the session ends (a read session's
    rollback would otherwise expire it): for checks and work outside any transaction."""
    run = get_run(session, import_id)
    session.expunge(run)
    return run


def next_unfinished(session, after_id=0):
    """The id of the oldest run still to do, after `after_id` (a run another replica holds
    is passed over by `claim`, and the loop goes on to the next)."""
    return session.scalar(
        sa.select(ImportRun.id)
        .where(ImportRun.status.in_(UNFINISHED), ImportRun.id > after_id)
        .order_by(ImportRun.id)
        .limit(1)
    )


def claim(session, import_id):
    """The unfinished run `import_id`, locked for this transaction, or None when it finished
    or (PostgreSQL) another replica is working on it: one batch at a time per run."""
    statement = sa.select(ImportRun).where(ImportRun.id == import_id, ImportRun.status.in_(UNFINISHED))
    if session.bind.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return session.scalars(statement).first()


def registered(session, hashes):
    """{ID-number lookup hash: (volunteer number, home station id)} of those of `hashes`
    already registered: one query per batch."""
    if not hashes:
        return {}
    rows = session.execute(
        sa.select(Volunteer.id_number_hash, Volunteer.volunteer_number, Volunteer.home_station_id).where(
            Volunteer.id_number_hash.in_(hashes)
        )
    )
    return {row.id_number_hash: (row.volunteer_number, row.home_station_id) for row in rows}


def add_rows(session, import_id, outcomes):
    """The report's rows of a batch, in one statement."""
    rows = [
        {
            "import_id": import_id,
            "row_number": outcome.row_number,
            "outcome": outcome.outcome,
            "volunteer_id": outcome.volunteer_id,
            "volunteer_number": outcome.volunteer_number,
            "code": outcome.code,
            "errors": outcome.errors,
        }
        for outcome in outcomes
    ]
    insert_rows(session, ImportRow.__table__, rows)


def rows_page(session, import_id, outcome, page, page_size):
    conditions = [ImportRow.import_id == import_id]
    if outcome is not None:
        conditions.append(ImportRow.outcome == outcome)
    total = session.scalar(sa.select(sa.func.count()).select_from(ImportRow).where(*conditions))
    rows = session.scalars(
        sa.select(ImportRow)
        .where(*conditions)
        .order_by(ImportRow.row_number)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return rows, total


def all_rows(session, import_id):
    return session.scalars(
        sa.select(ImportRow).where(ImportRow.import_id == import_id).order_by(ImportRow.row_number)
    ).all()
