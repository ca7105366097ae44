"""The ledger entrypoints of the activities service (a mixin of ActivitiesService): an
activity's files (photos and materials), its ledger (活动台账), recording the activity, and
the export of a center subtree's ledgers to .xlsx.

Thin, as in every service: load the input, read the rows, let `domain` decide, write the
change, its file and its events in one unit of work (the file is removed again if the
transaction fails: storage.py). Organizers (access.py) handle an activity's ledger and
files, and only they read its files back; admins of a subtree export it. The contract:
services/activities/contract/ledger.py.
"""

import base64
from datetime import timedelta

import eventlet

from services.activities import views
from services.activities.catalog import changes
from services.activities.catalog import repository as activities_repo
from services.activities.contract import catalog as catalog_contract
from services.activities.contract import ledger as contract
from services.activities.ledger import domain, export
from services.activities.ledger import repository as repo
from services.activities.ledger.models import ActivityFile, Ledger
from services.activities.ledger.storage import FileStore
from services.activities.organizers import Organizers
from services.chassis.actors import load_actor
from services.chassis.clock import iso, utcnow
from services.chassis.db import save, state
from services.chassis.errors import Conflict, NotFound
from services.chassis.rpc import TimedServiceRpc, command, rpc
from services.chassis.schemas import load, load_id
from services.chassis.scope import Reach

STALE = {"ledgers": Conflict("ledger.version_conflict", "台账已被他人修改，请刷新后重试。")}
YIELD_EVERY = 200  # rows of an export written between two turns of the other greenthreads

_ledger = contract.LedgerSchema()
_file = contract.ActivityFileSchema()


def _activity_id(value):
    return load_id(value, "activity_id")


class LedgerEntrypoints:
    # Only the export asks the volunteers service (the names of teams), and only for rows
    # with a team: a sheet offices read shows names, and this service keeps no team names.
    volunteers = TimedServiceRpc("volunteers")

    # --- files -----------------------------------------------------------------------------

    @command
    def add_activity_file(self, activity_id, data, actor):
        """A photo or a material of the activity, its type told by its content; stored under
        its id (and SHA-256), in the unit of work of its row."""
        actor = load_actor(actor)
        upload = domain.upload(load(contract.FileUploadSchema, data))
        activity_id = _activity_id(activity_id)
        Organizers(self.centers).require_of(self.db, actor, activity_id)
        store = FileStore.configured()
        with self.db.unit_of_work() as uow:
            # the activity locked: uploads, removals and recording take their turns, so the
            # count of files holds and a recorded activity gets none
            activity = activities_repo.get_activity(uow.session, activity_id, lock=True)
            domain.require_files_open(activity.status)
            domain.require_room(repo.count_files(uow.session, activity_id))
            row = ActivityFile(
                activity_id=activity_id,
                kind=upload.kind,
                filename=upload.filename,
                content_type=upload.content_type,
                size=upload.size,
                sha256=upload.sha256,
                uploaded_by=actor.account_id,
                uploaded_at=utcnow(),
            )
            uow.session.add(row)
            uow.flush()
            store.write(uow, row, upload.data)
            return _file.dump(state(row))

    @rpc
    def list_activity_files(self, activity_id, actor):
        actor = load_actor(actor)
        activity_id = _activity_id(activity_id)
        with self.db.read() as session:
            self._organized(session, actor, activity_id)
            return _file.dump(repo.files_of(session, activity_id), many=True)

    @rpc
    def get_activity_file(self, activity_id, file_id, actor):
        """{"filename", "content_type" (as told by the content), "size", "sha256", "content":
        base64}: the gateway answers the file itself."""
        actor = load_actor(actor)
        activity_id, file_id = _activity_id(activity_id), load_id(file_id, "file_id")
        with self.db.read() as session:
            self._organized(session, actor, activity_id)
            row = repo.get_file(session, activity_id, file_id)
            data = FileStore.configured().read(row)
            view = _file.dump(state(row))
        return {**view, "content": base64.b64encode(data).decode("ascii")}

    @command
    def delete_activity_file(self, activity_id, file_id, actor):
        """Remove a file before the activity is recorded; its bytes go once that is committed."""
        actor = load_actor(actor)
        activity_id, file_id = _activity_id(activity_id), load_id(file_id, "file_id")
        Organizers(self.centers).require_of(self.db, actor, activity_id)
        with self.db.unit_of_work() as uow:
            activity = activities_repo.get_activity(uow.session, activity_id, lock=True)
            domain.require_removable(activity.status)
            row = repo.get_file(uow.session, activity_id, file_id)
            FileStore.configured().remove_when_committed(uow, row)
            uow.session.delete(row)
        return None

    # --- the ledger ------------------------------------------------------------------------

    @command
    def file_ledger(self, activity_id, data, actor, expected_version=None):
        """File the ledger of a completed activity, or change it until the activity is
        recorded (`expected_version`: the If-Match of a change)."""
        actor = load_actor(actor)
        values = load(contract.LedgerFileSchema, data)
        activity_id = _activity_id(activity_id)
        Organizers(self.centers).require_of(self.db, actor, activity_id)
        with self.db.unit_of_work() as uow:
            activity = activities_repo.get_activity(uow.session, activity_id, lock=True)
            ledger = repo.get_ledger(uow.session, activity_id)
            if expected_version is not None and expected_version != (ledger and ledger.version):
                raise STALE["ledgers"]
            changed = domain.filing(activity.status, _state(ledger), values, actor.account_id, utcnow())
            if changed is not None:
                if ledger is None:
                    ledger = Ledger(activity_id=activity_id, **changed)
                    uow.session.add(ledger)
                else:
                    save(ledger, changed)
                uow.flush()
                uow.emit(contract.LEDGER_FILED, subject=str(activity_id), data=_filed_event(activity, ledger))
            return _ledger_view(uow.session, activity, ledger)

    @rpc
    def get_ledger(self, activity_id, actor):
        actor = load_actor(actor)
        with self.db.read() as session:
            activity = self._organized(session, actor, _activity_id(activity_id))
            return _ledger_view(session, activity, repo.require_ledger(session, activity.id))

    @command
    def record_activity(self, activity_id, actor):
        """completed → recorded, only with the ledger filed and at least one photo. The
        catalog's `changes.move` changes the status (and publishes nothing for it);
        `activity.recorded`, with the people served, is published here beside it."""
        actor = load_actor(actor)
        activity_id = _activity_id(activity_id)
        Organizers(self.centers).require_of(self.db, actor, activity_id)
        with self.db.unit_of_work() as uow:
            activity = activities_repo.get_activity(uow.session, activity_id, lock=True)
            ledger = repo.get_ledger(uow.session, activity_id)
            photos = repo.count_files(uow.session, activity_id, "photo")
            changes.move(uow, activity, domain.record(activity.status, _state(ledger), photos), utcnow())
            data = views.activity_event(activity, people_served=ledger.people_served)
            uow.emit(catalog_contract.ACTIVITY_RECORDED, subject=str(activity_id), data=data)
            return views.activity_view(activity, activities_repo.seats_of(uow.session, activity_id))

    # --- the export ------------------------------------------------------------------------

    @rpc
    def export_ledgers(self, center_id, query, actor):
        """The ledgers of the activities organized in a center's subtree that took place,
        starting in a period of Asia/Shanghai days, as the .xlsx sheet offices keep:
        {"filename", "content_type", "rows", "content": base64}. Admins of the subtree."""
        actor = load_actor(actor)
        center_id = load_id(center_id, "center_id")
        period = domain.export_period(load(contract.LedgerExportQuerySchema, query))
        Reach(self.centers).require_admin_of(actor, center_id)
        centers = {center["id"]: center["name"] for center in self.centers.get_subtree(center_id)}
        starts_from, starts_to = period["starts_from"], period["starts_to"]
        with self.db.read() as session:
            found = repo.export_rows(
                session,
                list(centers),
                activities_repo.local_day_start(starts_from),
                activities_repo.local_day_start(starts_to + timedelta(days=1)),
                contract.MAX_EXPORT_ROWS + 1,
            )
        domain.require_exportable(len(found))
        teams = self._team_names({row["activity"]["team_id"] for row in found} - {None})
        rows = (export.ledger_row(number, row, centers, teams) for number, row in _cooperatively(found))
        root = centers[center_id]
        content = export.workbook(export.title(root, starts_from, starts_to), rows)
        return {
            "filename": export.filename(root, starts_from, starts_to),
            "content_type": contract.XLSX,
            "rows": len(found),
            "content": base64.b64encode(content).decode("ascii"),
        }

    # --- helpers --------------------------------------------------------------------------

    def _organized(self, session, actor, activity_id):
        """The activity, if the actor organizes it (reads: the scope is asked in the session)."""
        activity = activities_repo.get_activity(session, activity_id)
        Organizers(self.centers).require(session, actor, activity.organizer_center_id, activity.team_id)
        return activity

    def _team_names(self, team_ids):
        names = {}
        for team_id in sorted(team_ids):
            try:
                names[team_id] = self.volunteers.get_team(team_id)["name"]
            except NotFound:
                continue  # the row names the team by its id
        return names


def _cooperatively(found):
    """(number, row) of `found`, letting the hub run other greenthreads now and then: writing
    10,000 rows is a second or two of CPU that would otherwise hold up every call the service
    serves."""
    for number, row in enumerate(found, start=1):
        if number % YIELD_EVERY == 0:
            eventlet.sleep(0)
        yield number, row


def _state(ledger):
    return None if ledger is None else state(ledger)


def _ledger_view(session, activity, ledger):
    files = repo.files_of(session, activity.id)
    counts = {kind: sum(1 for row in files if row.kind == kind) for kind in contract.FILE_KINDS}
    return _ledger.dump(
        {
            **state(ledger),
            "activity_status": activity.status,
            "photos": counts["photo"],
            "materials": counts["material"],
            "files": [state(row) for row in files],
        }
    )


def _filed_event(activity, ledger):
    return {
        "activity_id": activity.id,
        "organizer_center_id": activity.organizer_center_id,
        "team_id": activity.team_id,
        "platform": activity.platform,
        "starts_at": iso(activity.starts_at),
        "people_served": ledger.people_served,
        "version": ledger.version,
        "filed_at": iso(ledger.filed_at),
        "updated_at": iso(ledger.updated_at),
    }
