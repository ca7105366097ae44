"""The hours entrypoints of the volunteers service (a mixin of VolunteersService): the
service-hour ledger. docs/volunteers-rpc.md "Hours" is the contract.

Every change to an entry moves its volunteer's total (`hour_totals`) in the same unit of
work, and announces a star level the first time the total reaches it. Scope: the
organizing center's admins decide back-fills, disputes and revocations; a volunteer's
hours are theirs and their home station's admins' to read.
"""

import base64

from services.chassis.actors import load_actor
from services.chassis.clock import utcnow
from services.chassis.consumer import PoisonEvent, reliable_event_handler
from services.chassis.errors import Conflict, NotFound, PermissionDenied
from services.chassis.rpc import command, rpc
from services.chassis.schemas import load, load_id
from services.chassis.scope import Reach
from services.volunteers import access
from services.volunteers import repository as volunteers_repo
from services.volunteers.contract.hours import (
    ACTIVITIES,
    ATTENDANCE_CONFIRMED,
    BACKFILL_DECIDED,
    DISPUTE_RAISED,
    DISPUTE_RESOLVED,
    HOURS_CREDITED,
    HOURS_REVOKED,
    STAR_LEVEL_REACHED,
    BackfillCreateSchema,
    BackfillListQuerySchema,
    BackfillSchema,
    CenterHoursSchema,
    DisputeCreateSchema,
    DisputeListQuerySchema,
    DisputeSchema,
    EntryListQuerySchema,
    HourEntrySchema,
    PeriodQuerySchema,
    RejectSchema,
    ResolveSchema,
    RevokeSchema,
    TeamHoursSchema,
    VolunteerHoursSchema,
)
from services.volunteers.contract.registration import SELF_ROLES
from services.volunteers.domain import require_active
from services.volunteers.hours import domain
from services.volunteers.hours import repository as repo
from services.volunteers.hours.models import BackfillPhoto, BackfillRequest, HourDispute, HourEntry
from services.volunteers.teams import repository as teams_repo

UNIQUE = {
    # two approvals of one request raced in two processes on SQLite, which has no row locks
    "uq_hour_entries_backfill_id": Conflict("backfill.already_decided", "该补录申请已处理。"),
}
STALE = {
    "hour_entries": Conflict("hour_entry.version_conflict", "记录已被他人修改，请刷新后重试。"),
    "backfill_requests": Conflict("backfill.version_conflict", "补录申请已被他人修改，请刷新后重试。"),
}

ATTENDANCE_HANDLER = "volunteers.hours_on_attendance_confirmed"

_entry = HourEntrySchema()
_backfill = BackfillSchema()
_dispute = DisputeSchema()
_volunteer_hours = VolunteerHoursSchema()
_team_hours = TeamHoursSchema()
_center_hours = CenterHoursSchema()


class HourEntrypoints:
    # --- attendance (from the activities service) ---------------------------------------------

    @reliable_event_handler(ACTIVITIES, ATTENDANCE_CONFIRMED)
    def hours_on_attendance_confirmed(self, event):
        """Credits the attendance's hours, once per event and once per revision: a revision
        at or below the entry's changes nothing, a newer one replaces its hours.

        An unusable event (bad data, a volunteer this service never had, an attendance that
        changes volunteer) is dead-lettered at once: volunteer ids come from this service,
        so no retry and no later event can make it right, and an operator sees it in the
        dead-letter queue instead of hours counted for nobody."""
        try:
            _credit_attendance(self.db, event["id"], domain.read_attendance(event.get("data")))
        except domain.UnusableAttendance as error:
            raise PoisonEvent(str(error)) from None

    # --- back-fills -----------------------------------------------------------------------

    @command
    def submit_backfill(self, data, actor):
        actor = load_actor(actor)
        values = load(BackfillCreateSchema, data)
        fields, photos = domain.backfill_request(values, utcnow())
        _require_volunteer_role(actor)
        Reach(self.centers).active_center(fields["center_id"], "center_id")
        with self.db.unit_of_work() as uow:
            volunteer = volunteers_repo.volunteer_of_account(uow.session, actor.account_id)
            require_active(volunteer.status)
            now = utcnow()
            request = BackfillRequest(
                volunteer_id=volunteer.id,
                status="pending",
                version=1,
                created_at=now,
                updated_at=now,
                **fields,
            )
            uow.session.add(request)
            uow.flush()
            for position, (content_type, image) in enumerate(photos, start=1):
                uow.session.add(
                    BackfillPhoto(backfill_id=request.id, position=position, content_type=content_type, data=image)
                )
            uow.flush()
            return _backfill_view(uow.session, request)

    @command
    def approve_backfill(self, backfill_id, actor):
        actor = load_actor(actor)
        backfill_id = load_id(backfill_id, "backfill_id")
        with self.db.unit_of_work() as uow:
            session = uow.session
            request = repo.get_backfill(session, backfill_id, lock=True)
            Reach(self.centers).require_admin_of(actor, request.center_id)
            status = domain.decide_backfill(request.status, approve=True)
            volunteer = volunteers_repo.get_volunteer(session, request.volunteer_id)
            now = utcnow()
            entry = HourEntry(
                volunteer_id=volunteer.id,
                source="backfill",
                backfill_id=request.id,
                revision=1,
                activity_id=request.activity_id,
                activity_title=request.activity_title,
                center_id=request.center_id,
                team_id=None,
                served_on=request.served_on,
                hours=request.hours,
                status=domain.CONFIRMED,
                version=1,
                created_at=now,
                updated_at=now,
            )
            session.add(entry)
            uow.flush()
            _change(request, now, status=status, decided_by=actor.account_id, decided_at=now, entry_id=entry.id)
            standing = _move_total(uow, volunteer, entry.hours, now)
            _emit_credit(uow, volunteer, entry, standing, entry.hours, "backfill")
            _emit_decision(uow, volunteer, request)
            return _backfill_view(session, request)

    @command
    def reject_backfill(self, backfill_id, data, actor):
        actor = load_actor(actor)
        reason = load(RejectSchema, data)["reason"]
        backfill_id = load_id(backfill_id, "backfill_id")
        with self.db.unit_of_work() as uow:
            session = uow.session
            request = repo.get_backfill(session, backfill_id, lock=True)
            Reach(self.centers).require_admin_of(actor, request.center_id)
            status = domain.decide_backfill(request.status, approve=False)
            volunteer = volunteers_repo.get_volunteer(session, request.volunteer_id)
            now = utcnow()
            _change(request, now, status=status, decision_reason=reason, decided_by=actor.account_id, decided_at=now)
            _emit_decision(uow, volunteer, request)
            return _backfill_view(session, request)

    @rpc
    def get_backfill(self, backfill_id, actor):
        actor = load_actor(actor)
        backfill_id = load_id(backfill_id, "backfill_id")
        with self.db.read() as session:
            request = _readable_backfill(session, self.centers, backfill_id, actor)
            return _backfill_view(session, request)

    @rpc
    def get_backfill_photo(self, backfill_id, position, actor):
        """{"content_type", "data": base64} of one photo of a back-fill request."""
        actor = load_actor(actor)
        backfill_id = load_id(backfill_id, "backfill_id")
        position = load_id(position, "position")
        with self.db.read() as session:
            _readable_backfill(session, self.centers, backfill_id, actor)
            photo = repo.get_photo(session, backfill_id, position)
            return {"content_type": photo.content_type, "data": base64.b64encode(photo.data).decode("ascii")}

    @rpc
    def list_backfills(self, actor, filters=None, page=1, page_size=20):
        """Back-fill requests of one status (pending by default): an admin's, organized in
        their scope; a volunteer's, their own."""
        actor = load_actor(actor)
        query = load(BackfillListQuerySchema, {**(filters or {}), "page": page, "page_size": page_size})
        with self.db.read() as session:
            volunteer_id, center_ids = _listing_scope(session, self.centers, actor)
            items, total = repo.backfills_page(session, query, volunteer_id, center_ids)
            photos = repo.photo_infos(session, [item.id for item in items])
            views = [{**_backfill.dump(item), "photos": photos[item.id]} for item in items]
            return _page_view(views, total, query)

    # --- disputes and revocation --------------------------------------------------------------

    @command
    def dispute_hour_entry(self, entry_id, data, actor):
        actor = load_actor(actor)
        reason = load(DisputeCreateSchema, data)["reason"]
        entry_id = load_id(entry_id, "entry_id")
        _require_volunteer_role(actor)
        with self.db.unit_of_work() as uow:
            session = uow.session
            volunteer = volunteers_repo.volunteer_of_account(session, actor.account_id)
            entry = repo.get_entry(session, entry_id, lock=True)
            status = domain.dispute(repo.entry_state(entry), volunteer.id)
            now = utcnow()
            dispute = HourDispute(
                entry_id=entry.id,
                volunteer_id=volunteer.id,
                center_id=entry.center_id,
                reason=reason,
                hours_before=entry.hours,
                status="open",
                raised_at=now,
            )
            session.add(dispute)
            _change(entry, now, status=status)
            uow.flush()
            standing = _move_total(uow, volunteer, -entry.hours, now)
            uow.emit(
                DISPUTE_RAISED,
                subject=str(dispute.id),
                data={**_volunteer_total(volunteer, standing), **_entry_data(entry), "dispute_id": dispute.id},
            )
            return _dispute_view(dispute, entry)

    @command
    def resolve_hour_dispute(self, entry_id, data, actor):
        actor = load_actor(actor)
        values = load(ResolveSchema, data)
        entry_id = load_id(entry_id, "entry_id")
        with self.db.unit_of_work() as uow:
            session = uow.session
            entry = repo.get_entry(session, entry_id, lock=True)
            Reach(self.centers).require_admin_of(actor, entry.center_id)
            hours = domain.resolution(repo.entry_state(entry), values["outcome"], values["corrected_hours"])
            dispute = repo.open_dispute(session, entry.id)
            volunteer = volunteers_repo.get_volunteer(session, entry.volunteer_id)
            now = utcnow()
            dispute.status = values["outcome"]
            dispute.corrected_hours = values["corrected_hours"]
            dispute.note = values["note"]
            dispute.resolved_by = actor.account_id
            dispute.resolved_at = now
            _change(entry, now, status=domain.CONFIRMED, hours=hours)
            uow.flush()
            standing = _move_total(uow, volunteer, hours, now)
            uow.emit(
                DISPUTE_RESOLVED,
                subject=str(dispute.id),
                data={
                    **_volunteer_total(volunteer, standing),
                    **_entry_data(entry),
                    "dispute_id": dispute.id,
                    "outcome": dispute.status,
                    "hours_before": float(dispute.hours_before),
                    "note": dispute.note,
                },
            )
            return _dispute_view(dispute, entry)

    @command
    def revoke_hour_entry(self, entry_id, data, actor):
        actor = load_actor(actor)
        reason = load(RevokeSchema, data)["reason"]
        entry_id = load_id(entry_id, "entry_id")
        with self.db.unit_of_work() as uow:
            session = uow.session
            entry = repo.get_entry(session, entry_id, lock=True)
            Reach(self.centers).require_admin_of(actor, entry.center_id)
            status = domain.revocation(repo.entry_state(entry))
            volunteer = volunteers_repo.get_volunteer(session, entry.volunteer_id)
            now = utcnow()
            _change(entry, now, status=status, revoke_reason=reason)
            uow.flush()
            standing = _move_total(uow, volunteer, -entry.hours, now)
            uow.emit(
                HOURS_REVOKED,
                subject=str(entry.id),
                data={**_volunteer_total(volunteer, standing), **_entry_data(entry), "reason": reason},
            )
            return _entry.dump(entry)

    @rpc
    def list_hour_disputes(self, actor, filters=None, page=1, page_size=20):
        """Disputes of one status (open by default): an admin's, on entries organized in
        their scope; a volunteer's, their own."""
        actor = load_actor(actor)
        query = load(DisputeListQuerySchema, {**(filters or {}), "page": page, "page_size": page_size})
        with self.db.read() as session:
            volunteer_id, center_ids = _listing_scope(session, self.centers, actor)
            rows, total = repo.disputes_page(session, query, volunteer_id, center_ids)
            items = [_dispute_view(dispute, entry) for dispute, entry in rows]
            return _page_view(items, total, query)

    # --- totals -------------------------------------------------------------------------------

    @rpc
    def get_my_hours(self, actor, filters=None, page=1, page_size=20):
        """The caller's own total, star level and entries (a volunteer's account)."""
        actor = load_actor(actor)
        query = domain.period(load(EntryListQuerySchema, {**(filters or {}), "page": page, "page_size": page_size}))
        _require_volunteer_role(actor)
        with self.db.read() as session:
            volunteer = volunteers_repo.volunteer_of_account(session, actor.account_id)
            return _hours_view(session, volunteer.id, query)

    @rpc
    def get_volunteer_hours(self, volunteer_id, actor, filters=None, page=1, page_size=20):
        """A volunteer's total, star level and entries: for themself and the admins of their
        home station's scope."""
        actor = load_actor(actor)
        volunteer_id = load_id(volunteer_id, "volunteer_id")
        query = domain.period(load(EntryListQuerySchema, {**(filters or {}), "page": page, "page_size": page_size}))
        with self.db.read() as session:
            volunteer = volunteers_repo.get_volunteer(session, volunteer_id)
            if not access.is_self(actor, volunteer.account_id):
                Reach(self.centers).require_admin_of(actor, volunteer.home_station_id)
            return _hours_view(session, volunteer.id, query)

    @rpc
    def get_team_hours(self, team_id, filters=None):
        """The confirmed hours served with a team: an aggregate without personal data, open
        to every signed-in caller like a center's statistics; NotFound for an unknown team."""
        team_id = load_id(team_id, "team_id")
        period = domain.period(load(PeriodQuerySchema, filters or {}))
        with self.db.read() as session:
            teams_repo.get_team(session, team_id)
            figures = repo.period_totals(session, HourEntry.team_id == team_id, period)
            return _team_hours.dump({"team_id": team_id, **_period_view(period, figures)})

    @rpc
    def get_center_hours(self, center_id, filters=None):
        """The confirmed hours organized by a center and every center below it (an aggregate,
        open to every signed-in caller); NotFound for an unknown center."""
        center_id = load_id(center_id, "center_id")
        period = domain.period(load(PeriodQuerySchema, filters or {}))
        subtree = Reach(self.centers).subtree_ids(center_id)
        with self.db.read() as session:
            figures = repo.period_totals(session, HourEntry.center_id.in_(subtree), period)
            return _center_hours.dump({"center_id": center_id, **_period_view(period, figures)})


def _credit_attendance(db, event_id, attendance):
    """Applies `attendance` once (by event id) in one unit of work; UnusableAttendance for
    a volunteer this service never had or an attendance that changes volunteer."""
    with db.unit_of_work() as uow:
        if not uow.claim_event(ATTENDANCE_HANDLER, event_id):
            return
        session = uow.session
        try:
            volunteer = volunteers_repo.get_volunteer(session, attendance.volunteer_id)
        except NotFound:
            raise domain.UnusableAttendance(
                f"attendance {attendance.attendance_id}: no volunteer {attendance.volunteer_id}"
            ) from None
        entry = repo.entry_of_attendance(session, attendance.attendance_id)
        credit = domain.apply_attendance(None if entry is None else repo.entry_state(entry), attendance)
        if credit is None:
            return
        now = utcnow()
        if entry is None:
            entry = HourEntry(
                volunteer_id=volunteer.id,
                source="attendance",
                attendance_id=attendance.attendance_id,
                status=domain.CONFIRMED,
                version=1,
                created_at=now,
                updated_at=now,
                **credit.fields,
            )
            session.add(entry)
        else:
            _change(entry, now, **credit.fields)
        uow.flush()
        if entry.status == domain.CONFIRMED:  # a disputed or revoked entry counts for nothing
            standing = _move_total(uow, volunteer, credit.change, now)
            _emit_credit(uow, volunteer, entry, standing, credit.change, credit.cause)


def _readable_backfill(session, centers, backfill_id, actor):
    """The request, for the volunteer who made it or an admin of its center's scope."""
    request = repo.get_backfill(session, backfill_id)
    volunteer = volunteers_repo.get_volunteer(session, request.volunteer_id)
    if not access.is_self(actor, volunteer.account_id):
        Reach(centers).require_admin_of(actor, request.center_id)
    return request


def _listing_scope(session, centers, actor):
    """(volunteer id, center ids) a list is limited to: an admin's scope (None: the whole
    county), a volunteer's own; PermissionDenied for anyone else."""
    if access.is_admin(actor):
        return None, Reach(centers).scope_ids(actor)
    _require_volunteer_role(actor)
    return volunteers_repo.volunteer_of_account(session, actor.account_id).id, None


def _require_volunteer_role(actor):
    if actor.role not in SELF_ROLES:
        raise PermissionDenied("scope.role", "此操作仅限志愿者本人。")


def _change(row, now, **values):
    """Sets `values` on a versioned row: one version step per change."""
    for name, value in values.items():
        setattr(row, name, value)
    row.version += 1
    row.updated_at = now


def _move_total(uow, volunteer, change, now):
    """Moves the volunteer's total by `change`, in this unit of work; announces a star level
    reached for the first time. Returns the standing after the change."""
    total_after, announced = repo.add_to_total(uow.session, volunteer.id, change, now)
    standing = domain.standing(total_after, change, announced)
    repo.set_star_level(uow.session, volunteer.id, standing)
    if standing.announce is not None:
        uow.emit(
            STAR_LEVEL_REACHED,
            subject=str(volunteer.id),
            data={**_volunteer_total(volunteer, standing), "star_level": standing.announce},
        )
    return standing


def _volunteer_total(volunteer, standing):
    return {
        "volunteer_id": volunteer.id,
        "account_id": volunteer.account_id,
        "total_hours": float(standing.total_hours),
        "star_level": standing.star_level,
    }


def _entry_data(entry):
    return {
        "entry_id": entry.id,
        "activity_id": entry.activity_id,
        "activity_title": entry.activity_title,
        "center_id": entry.center_id,
        "served_on": entry.served_on.isoformat(),
        "hours": float(entry.hours),
    }


def _emit_credit(uow, volunteer, entry, standing, change, cause):
    uow.emit(
        HOURS_CREDITED,
        subject=str(entry.id),
        data={
            **_volunteer_total(volunteer, standing),
            **_entry_data(entry),
            "source": entry.source,
            "cause": cause,
            "attendance_id": entry.attendance_id,
            "backfill_id": entry.backfill_id,
            "revision": entry.revision,
            "team_id": entry.team_id,
            "change": float(change),
        },
    )


def _emit_decision(uow, volunteer, request):
    uow.emit(
        BACKFILL_DECIDED,
        subject=str(request.id),
        data={
            "backfill_id": request.id,
            "volunteer_id": volunteer.id,
            "account_id": volunteer.account_id,
            "center_id": request.center_id,
            "activity_title": request.activity_title,
            "served_on": request.served_on.isoformat(),
            "hours": float(request.hours),
            "decision": request.status,
            "reason": request.decision_reason,
            "entry_id": request.entry_id,
        },
    )


def personal_export(session, volunteer_id):
    """The volunteer's ledger for their export of everything held on them: the total, the
    star level, every entry, back-fill request (photos listed, not included) and dispute."""
    total_hours, star_level = repo.total_of(session, volunteer_id)
    entries, backfills, disputes = repo.everything_of(session, volunteer_id)
    by_id = {entry.id: entry for entry in entries}
    return {
        "total_hours": float(total_hours),
        "star_level": star_level,
        "entries": _entry.dump(entries, many=True),
        "backfills": [_backfill_view(session, request) for request in backfills],
        "disputes": [_dispute_view(dispute, by_id[dispute.entry_id]) for dispute in disputes],
    }


def _backfill_view(session, request):
    return {**_backfill.dump(request), "photos": repo.photo_infos(session, [request.id])[request.id]}


def _dispute_view(dispute, entry):
    return {**_dispute.dump(dispute), "entry": _entry.dump(entry)}


def _hours_view(session, volunteer_id, query):
    total_hours, star_level = repo.total_of(session, volunteer_id)
    items, total = repo.entries_page(session, volunteer_id, query)
    return _volunteer_hours.dump(
        {
            "volunteer_id": volunteer_id,
            "total_hours": total_hours,
            "star_level": star_level,
            "hours_to_next_star": domain.hours_to_next_star(total_hours),
            "entries": _page_view(items, total, query),
        }
    )


def _page_view(items, total, query):
    return {"items": items, "total": total, "page": query["page"], "page_size": query["page_size"]}


def _period_view(period, figures):
    hours, entry_count, volunteer_count = figures
    return {
        "start": period.get("start"),
        "end": period.get("end"),
        "total_hours": hours,
        "entry_count": entry_count,
        "volunteer_count": volunteer_count,
    }
