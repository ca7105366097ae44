"""Registration, profile, status, transfers and private data: the entrypoints (a mixin of
VolunteersService). Rules: `domain.py` and `access.py`; storage: `enrolment.py`,
`repository.py`; what leaves the service: `views.py`."""

from services.chassis.actors import load_actor
from services.chassis.clock import utcnow
from services.chassis.errors import Conflict
from services.chassis.observability import current_request_id
from services.chassis.rpc import command, rpc
from services.chassis.schemas import load, load_id
from services.chassis.scope import Reach
from services.volunteers import access, domain, enrolment
from services.volunteers import repository as repo
from services.volunteers.contract.registration import (
    SELF_ROLES,
    VOLUNTEER_STATUS_CHANGED,
    VOLUNTEER_TRANSFERRED,
    VOLUNTEER_UPDATED,
    AuditEntrySchema,
    AuditQuerySchema,
    ProfileUpdateSchema,
    RegistrationSchema,
    RevealSchema,
    StatusSchema,
    TransferSchema,
    TransferViewSchema,
    VolunteerListQuerySchema,
)
from services.volunteers.models import PrivacyAudit, Transfer
from services.volunteers.views import event_data, volunteer_view

UNIQUE = {
    "uq_volunteers_id_number_hash": domain.already_registered(),
    "uq_volunteers_account_id": Conflict("volunteer.account_linked", "该账号已关联志愿者。"),
}
STALE = {"volunteers": Conflict("volunteer.version_conflict", "数据已被他人修改，请刷新后重试。")}

_transfer = TransferViewSchema()
_audit = AuditEntrySchema()


def _volunteer_id(value):
    return load_id(value, "volunteer_id")


class RegistrationEntrypoints:
    # --- registration --------------------------------------------------------------------------

    @rpc
    def check_registration(self, data):
        """Whether `data` would register (valid, station active, ID number free), writing
        nothing: the gateway asks before it creates the account of a self-registration."""
        values = load(RegistrationSchema, data)
        state = enrolment.registration(values, utcnow().date())
        Reach(self.centers).active_center(state["home_station_id"], "home_station_id")
        with self.db.read() as session:
            if enrolment.registered_hashes(session, [self.personal_data.cipher.lookup_hash(state["id_number"])]):
                raise domain.already_registered()
        return {"ok": True}

    @command
    def register(self, data, actor):
        """A volunteer registers themself (actor: their new account, role volunteer), or staff
        of the home station's scope register them."""
        actor = load_actor(actor)
        values = load(RegistrationSchema, data)
        reach = Reach(self.centers)
        station_id = values["home_station_id"]
        if actor.role in SELF_ROLES:
            channel, account_id = "self", int(actor.account_id)
        else:
            reach.require_admin_of(actor, station_id)
            channel, account_id = "staff", None
        reach.active_center(station_id, "home_station_id")
        with self.db.unit_of_work() as uow:
            row = enrolment.enrol(
                uow, self.personal_data, values, channel=channel, actor=actor, now=utcnow(), account_id=account_id
            )
            return volunteer_view(row)

    # --- reading -------------------------------------------------------------------------------

    @rpc
    def get_volunteer(self, volunteer_id, actor):
        actor = load_actor(actor)
        with self.db.read() as session:
            row = repo.get_volunteer(session, _volunteer_id(volunteer_id))
            self._require_reader(actor, row)
            return volunteer_view(row)

    @rpc
    def get_my_volunteer(self, actor):
        actor = load_actor(actor)
        with self.db.read() as session:
            return volunteer_view(repo.volunteer_of_account(session, actor.account_id))

    @rpc
    def list_volunteers(self, filters, actor):
        actor = load_actor(actor)
        query = load(VolunteerListQuerySchema, filters or {})
        paging = {"page": query.pop("page"), "page_size": query.pop("page_size")}
        if not access.is_staff(actor):
            raise access.staff_only()
        reach = Reach(self.centers)
        stations = reach.scope_ids(actor)
        if "within" in query:
            root = query.pop("within")
            within = reach.subtree_ids(root, missing=[]) if reach.within(actor, root) else []
            stations = within if stations is None else sorted(set(stations) & set(within))
        with self.db.read() as session:
            rows, total = repo.list_volunteers(session, query, stations, **paging)
            return {"items": [volunteer_view(row) for row in rows], "total": total, **paging}

    # --- changes -------------------------------------------------------------------------------

    @command
    def update_profile(self, volunteer_id, changes, actor, expected_version=None):
        actor = load_actor(actor)
        changes = load(ProfileUpdateSchema, changes)
        with self.db.unit_of_work() as uow:
            row = repo.get_volunteer(uow.session, _volunteer_id(volunteer_id), lock=True)
            self._require_self_or_admin(actor, row)
            domain.require_not_erased(row.erased_at)
            if expected_version is not None and expected_version != row.version:
                raise STALE["volunteers"]
            new = domain.profile_changes(changes, enrolment.VOCABULARIES)
            if "phone" in new:
                phone = new.pop("phone")
                cipher = self.personal_data.cipher
                new["phone_token"] = cipher.encrypt(phone, enrolment.associated_data(row.volunteer_number, "phone"))
                new["phone_hash"] = cipher.lookup_hash(phone)
                new["phone_masked"] = domain.mask_phone(phone)
            return _save(uow, row, new, VOLUNTEER_UPDATED)

    @command
    def set_status(self, volunteer_id, data, actor):
        """Suspend, reactivate or deregister (admins of the scope; a volunteer may deregister
        themself). Deregistration erases the personal data; hour totals stay, anonymous. Each
        part module may define `on_deregistered(uow, volunteer, actor)`, run in the same unit
        of work (teams drop the member, certificates are withdrawn)."""
        actor = load_actor(actor)
        wanted = load(StatusSchema, data)
        with self.db.unit_of_work() as uow:
            row = repo.get_volunteer(uow.session, _volunteer_id(volunteer_id), lock=True)
            if wanted["status"] == "deregistered":
                self._require_self_or_admin(actor, row)
            else:
                Reach(self.centers).require_admin_of(actor, row.home_station_id)
            change = domain.status_change(row.status, wanted["status"], wanted["reason"])
            if change is None:
                return volunteer_view(row)
            previous = row.status
            now = utcnow()
            if wanted["status"] == "deregistered":
                change.update(domain.ERASED)
                change["erased_at"] = now
                _audit_row(uow, row, "erase", [], wanted["reason"], actor, now)
                for part in self.parts:  # each part lets go of what it holds on the person
                    if hasattr(part, "on_deregistered"):
                        part.on_deregistered(uow, row, actor)
            return _save(uow, row, change, VOLUNTEER_STATUS_CHANGED, previous_status=previous, reason=wanted["reason"])

    @command
    def transfer(self, volunteer_id, data, actor):
        """Move a volunteer to another home station: an admin whose scope holds the station
        they leave; the new one must be active. Both stations' admins see the record."""
        actor = load_actor(actor)
        values = load(TransferSchema, data)
        reach = Reach(self.centers)
        with self.db.unit_of_work() as uow:
            row = repo.get_volunteer(uow.session, _volunteer_id(volunteer_id), lock=True)
            reach.require_admin_of(actor, row.home_station_id)
            domain.require_active(row.status)
            target = values["to_station_id"]
            if target == row.home_station_id:
                return volunteer_view(row)
            reach.active_center(target, "to_station_id")
            previous = row.home_station_id
            uow.session.add(
                Transfer(
                    volunteer_id=row.id,
                    from_station_id=previous,
                    to_station_id=target,
                    reason=values["reason"],
                    actor_account_id=actor.account_id,
                    at=utcnow(),
                )
            )
            return _save(
                uow,
                row,
                {"home_station_id": target},
                VOLUNTEER_TRANSFERRED,
                previous_home_station_id=previous,
                reason=values["reason"],
            )

    @rpc
    def list_transfers(self, volunteer_id, actor):
        """The transfers of a volunteer: to the volunteer, and to admins of either station."""
        actor = load_actor(actor)
        reach = Reach(self.centers)
        with self.db.read() as session:
            row = repo.get_volunteer(session, _volunteer_id(volunteer_id))
            transfers = repo.transfers_of(session, row.id)
            if not access.is_self(actor, row.account_id):
                stations = {row.home_station_id} | {t.from_station_id for t in transfers}
                access.require_admin(actor, any(reach.within(actor, station) for station in stations))
            return _transfer.dump(transfers, many=True)

    # --- private data --------------------------------------------------------------------------

    @rpc
    def reveal(self, volunteer_id, data, actor):
        """The clear ID number and/or phone, for an admin whose scope holds the volunteer's home
        station; every reveal is written to the privacy audit. An @rpc, not a @command: a
        command's outcome is stored for replay, and clear values must not be stored anywhere."""
        actor = load_actor(actor)
        wanted = load(RevealSchema, data)
        fields = domain.revealable(wanted["fields_"])
        with self.db.unit_of_work() as uow:
            row = repo.get_volunteer(uow.session, _volunteer_id(volunteer_id))
            Reach(self.centers).require_admin_of(actor, row.home_station_id)
            domain.require_not_erased(row.erased_at)
            _audit_row(uow, row, "reveal", fields, wanted["reason"], actor, utcnow())
            clear = self._decrypt(row)
            return {
                "volunteer_id": row.id,
                "home_station_id": row.home_station_id,
                **{name: clear[name] for name in fields},
            }

    @rpc
    def export_my_data(self, actor):
        """Everything held on the calling volunteer, in clear (their own data), as JSON."""
        actor = load_actor(actor)
        with self.db.unit_of_work() as uow:
            row = repo.volunteer_of_account(uow.session, actor.account_id)
            _audit_row(uow, row, "export", list(domain.PRIVATE_FIELDS), None, actor, utcnow())
            return {
                "volunteer": {**volunteer_view(row), **self._decrypt(row)},
                "transfers": _transfer.dump(repo.transfers_of(uow.session, row.id), many=True),
                "privacy_audit": _audit.dump(repo.audit_of(uow.session, row.id), many=True),
                **self._parts_export(uow.session, row.id),
            }

    @rpc
    def privacy_audit(self, filters, actor):
        """Reveals, exports and erasures of volunteers whose home station was in the caller's scope."""
        actor = load_actor(actor)
        query = load(AuditQuerySchema, filters or {})
        paging = {"page": query.pop("page"), "page_size": query.pop("page_size")}
        if not access.is_admin(actor):
            raise access.admins_only()
        stations = Reach(self.centers).scope_ids(actor)
        with self.db.read() as session:
            rows, total = repo.audit_page(session, query.get("volunteer_id"), stations, **paging)
            return {"items": _audit.dump(rows, many=True), "total": total, **paging}

    # --- helpers -------------------------------------------------------------------------------

    def _decrypt(self, row):
        cipher = self.personal_data.cipher
        number = row.volunteer_number
        return {
            "id_number": cipher.decrypt(row.id_number_token, enrolment.associated_data(number, "id_number")),
            "phone": cipher.decrypt(row.phone_token, enrolment.associated_data(number, "phone")),
        }

    def _parts_export(self, session, volunteer_id):
        """What the other parts hold on the volunteer: each part module of the service
        (`self.parts`) may define `personal_export(session, volunteer_id)`."""
        return {
            part.__name__.split(".")[2]: part.personal_export(session, volunteer_id)
            for part in self.parts
            if hasattr(part, "personal_export")
        }

    def _require_self_or_admin(self, actor, row):
        if not access.is_self(actor, row.account_id):
            Reach(self.centers).require_admin_of(actor, row.home_station_id)

    def _require_reader(self, actor, row):
        """The volunteer themself, or staff (admins, team leaders) whose scope holds them."""
        if access.is_self(actor, row.account_id):
            return
        if not access.is_staff(actor) or not Reach(self.centers).within(actor, row.home_station_id):
            raise access.outside() if access.is_staff(actor) else access.staff_only()


def _save(uow, row, new_state, event_type, **extra):
    """Write `new_state` onto the row as one new version, emit `event_type`; the view."""
    for key, value in new_state.items():
        setattr(row, key, value)
    row.version += 1
    row.updated_at = utcnow()
    uow.flush()
    uow.emit(event_type, subject=str(row.id), data={**event_data(row), **extra})
    return volunteer_view(row)


def _audit_row(uow, row, action, fields, reason, actor, now):
    uow.session.add(
        PrivacyAudit(
            volunteer_id=row.id,
            home_station_id=row.home_station_id,
            action=action,
            fields=fields,
            reason=reason,
            actor_account_id=actor.account_id,
            actor_role=actor.role,
            request_id=current_request_id(),
            at=now,
        )
    )
