"""The series entrypoints of the activities service (a mixin of ActivitiesService): create a
recurring series and generate its occurrences, generate again, change "this and the
following" occurrences, end a series, and read series.

An occurrence is an ordinary activity: it is made, published, changed and cancelled by the
catalog's changes (catalog/changes.py), so that it behaves and publishes its events as any
activity; one occurrence alone is changed with `update_activity`, and keeps its
`occurrence_start`, so generating again never makes it twice. The organizers of a series are
those of its activities (organizers.py). The contract: services/activities/contract/series.py.
"""

from datetime import date

from services.activities.catalog import changes
from services.activities.catalog import domain as catalog
from services.activities.catalog import repository as activities_repo
from services.activities.contract import series as contract
from services.activities.organizers import Organizers
from services.activities.series import domain
from services.activities.series import repository as repo
from services.activities.series.models import Series
from services.chassis.actors import load_actor
from services.chassis.clock import iso, utcnow
from services.chassis.db import save, state
from services.chassis.errors import Conflict
from services.chassis.rpc import command, rpc
from services.chassis.schemas import load, load_id, load_page

# a second generation of one occurrence: only when two generations race past the series' lock
UNIQUE = {"uq_activities_series_occurrence": Conflict("series.generating", "该系列正在生成活动，请稍后重试。")}
STALE = {"series": Conflict("series.version_conflict", "系列已被他人修改，请刷新后重试。")}

_series = contract.SeriesSchema()
_EVENT_TIMES = ("first_starts_at", "generated_until", "updated_at")


def _series_id(value):
    return load_id(value, "series_id")


class SeriesEntrypoints:
    @command
    def create_series(self, data, actor):
        """A series and its occurrences up to a year ahead (published if asked)."""
        actor = load_actor(actor)
        values = load(contract.SeriesCreateSchema, data)
        organizers = Organizers(self.centers)
        with self.db.read() as session:  # scope first: an outsider learns nothing of the center
            organizers.require(session, actor, values["organizer_center_id"], values["team_id"])
        organizers.reach.active_center(values["organizer_center_id"], "organizer_center_id")
        now = utcnow()
        through = domain.generation_end(now)
        fields = domain.new_series(values, actor.account_id, now, through)
        with self.db.unit_of_work() as uow:
            series = Series(**fields)
            uow.session.add(series)
            uow.flush()
            _generate(uow, series, through, actor.account_id, now)
            _emit(uow, series, contract.SERIES_CREATED)
            return _view(uow.session, series)

    @command
    def generate_series(self, series_id, data, actor):
        """Generate the occurrences up to a day (a year ahead by default) that do not exist yet."""
        actor = load_actor(actor)
        until = load(contract.GenerateSchema, data)["until"]
        series_id = _series_id(series_id)
        self._require_series_organizer(actor, series_id)
        with self.db.unit_of_work() as uow:
            series = repo.get_series(uow.session, series_id, lock=True)  # one generation at a time
            before = state(series)
            domain.require_active(before)
            now = utcnow()
            through = domain.generation_end(now, until)
            generated = _generate(uow, series, through, actor.account_id, now)
            changed = domain.extended(before, through)
            if changed is not None:
                _save(uow, series, before, changed, now)
                _emit(
                    uow,
                    series,
                    contract.SERIES_CHANGED,
                    changed=["generated_until"],
                    from_occurrence_start=None,
                    generated=generated,
                    updated=0,
                )
            return _outcome(uow.session, series, generated=generated)

    @command
    def update_series_from(self, series_id, activity_id, data, actor, expected_version=None):
        """Change this occurrence and the following ones: the template of those still to be
        generated, and each draft or published occurrence from this one on (those under way,
        over or cancelled are left as they are)."""
        actor = load_actor(actor)
        requested = load(contract.SeriesChangeSchema, data)
        series_id = _series_id(series_id)
        activity_id = load_id(activity_id, "activity_id")
        self._require_series_organizer(actor, series_id, requested.get("team_id"))
        with self.db.unit_of_work() as uow:
            series = repo.get_series(uow.session, series_id, lock=True)
            if expected_version is not None and expected_version != series.version:
                raise STALE["series"]
            before = state(series)
            anchor = activities_repo.get_activity(uow.session, activity_id)
            now = utcnow()
            changed = domain.change_from(before, state(anchor), requested, actor.account_id, now)
            updated = skipped = 0
            for activity in repo.occurrences_from(uow.session, series_id, anchor.occurrence_start, lock=True):
                if activity.status not in catalog.EDITABLE:
                    skipped += 1
                    continue
                change = catalog.changes(state(activity), domain.occurrence_changes(requested, activity.starts_at), now)
                if change is not None:
                    seats = activities_repo.seats_of(uow.session, activity.id, lock=True)
                    changes.change(uow, activity, seats, change, now)
                    updated += 1
            if changed is not None:
                _save(uow, series, before, changed, now)
                _emit(
                    uow,
                    series,
                    contract.SERIES_CHANGED,
                    changed=domain.changed_names(before, changed),
                    from_occurrence_start=iso(anchor.occurrence_start),
                    generated=0,
                    updated=updated,
                )
            return _outcome(uow.session, series, updated=updated, skipped=skipped)

    @command
    def end_series(self, series_id, data, actor):
        """End a series: its open occurrences from a day on (today by default) are cancelled
        with the reason, as the catalog cancels an activity; it generates no more."""
        actor = load_actor(actor)
        values = load(contract.EndSeriesSchema, data)
        series_id = _series_id(series_id)
        self._require_series_organizer(actor, series_id)
        with self.db.unit_of_work() as uow:
            series = repo.get_series(uow.session, series_id, lock=True)
            before = state(series)
            now = utcnow()
            changed = domain.end(before, values["reason"])
            day = domain.cancelled_from(values["starts_from"], now)
            cancelled = 0
            for activity in repo.open_occurrences_from(uow.session, series_id, domain.day_start(day), lock=True):
                seats = activities_repo.seats_of(uow.session, activity.id, lock=True)
                changes.cancel(uow, activity, seats, values["reason"], actor.account_id, now)
                cancelled += 1
            _save(uow, series, before, changed, now)
            _emit(
                uow,
                series,
                contract.SERIES_ENDED,
                reason=values["reason"],
                cancelled_from=day.isoformat(),
                cancelled=cancelled,
            )
            return _outcome(uow.session, series, cancelled=cancelled)

    @rpc
    def get_series(self, series_id, actor):
        """A series that publishes its occurrences is everyone's to read; one of drafts, its
        organizers' only (as drafts are)."""
        actor = load_actor(actor)
        series_id = _series_id(series_id)
        with self.db.read() as session:
            series = repo.get_series(session, series_id)
            if not series.publish and not Organizers(self.centers).may_organize(
                session, actor, series.organizer_center_id, series.team_id
            ):
                raise domain.not_found(series_id)
            return _view(session, series)

    @rpc
    def list_series(self, filters, page, page_size, actor):
        """Series newest first; those of drafts only for the admins whose scope holds them."""
        actor = load_actor(actor)
        query, page, page_size = load_page(contract.SeriesListQuerySchema, filters, page, page_size)
        centers, drafts_of = Organizers(self.centers).listing(actor, query)
        with self.db.read() as session:
            rows, total = repo.list_series(session, query, page, page_size, centers=centers, drafts_of=drafts_of)
            counts = repo.occurrence_counts(session, [row.id for row in rows])
            items = [_series_view(row, counts.get(row.id, 0)) for row in rows]
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    # --- helpers --------------------------------------------------------------------------

    def _require_series_organizer(self, actor, series_id, new_team_id=None):
        """The actor organizes the series (and the team a change names). Asked outside any
        unit of work: it may ask the centers service."""
        organizers = Organizers(self.centers)
        with self.db.read() as session:
            series = repo.get_series(session, series_id)
            organizers.require(session, actor, series.organizer_center_id, series.team_id)
            if new_team_id is not None and new_team_id != series.team_id:
                organizers.require(session, actor, series.organizer_center_id, new_team_id)


def _generate(uow, series, through, by, now):
    """Make the occurrences due before `through` (published if the series publishes them);
    how many."""
    current = state(series)
    due = domain.due_starts(current, repo.occurrence_starts(uow.session, series.id), through, now)
    for start in due:
        activity, _ = changes.add_activity(uow, domain.occurrence(current, start, by, now))
        if series.publish:
            changes.move(uow, activity, catalog.publish(state(activity), now), now)
    return len(due)


def _save(uow, series, before, changed, now):
    save(series, catalog.versioned(before, changed, now))
    uow.flush()  # the version check: a concurrent change fails here as series.version_conflict


def _emit(uow, series, event_type, **extra):
    """Publish a change of a series that publishes its occurrences; a series of drafts is its
    organizers' own, as drafts are, and publishes nothing."""
    if not series.publish:
        return
    data = {name: getattr(series, name) for name in contract.SERIES_PROPERTIES if name != "occurrences"}
    data.update({name: iso(data[name]) for name in _EVENT_TIMES})
    data["occurrences"] = repo.occurrence_counts(uow.session, [series.id]).get(series.id, 0)
    uow.emit(event_type, subject=str(series.id), data={**data, **extra})


def _series_view(series, occurrences):
    exdates = [date.fromisoformat(day) for day in series.exdates]
    return _series.dump({**state(series), "exdates": exdates, "occurrences": occurrences})


def _view(session, series):
    return _series_view(series, repo.occurrence_counts(session, [series.id]).get(series.id, 0))


def _outcome(session, series, generated=0, updated=0, skipped=0, cancelled=0):
    """What a command on a series did (SeriesOutcomeSchema)."""
    return {
        "series": _view(session, series),
        "generated": generated,
        "updated": updated,
        "skipped": skipped,
        "cancelled": cancelled,
    }
