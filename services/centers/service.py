"""The centers service: the practice network's tree of centers and their venues.

Entrypoints only: parse, apply the domain rules, persist and emit in one unit of work,
return plain dicts. The contract is docs/centers-rpc.md.
"""
from services.centers import domain, events, repository as repo
from services.centers.models import Base, Center, Venue
from services.centers.schemas import (
    CenterCreateSchema, CenterListQuerySchema, CenterSchema, CenterUpdateSchema, MoveSchema,
    StatsSchema, StatusSchema, VenueCreateSchema, VenueSchema, VenueUpdateSchema, load,
    load_actor, load_id,
)
from services.chassis.db import Database, utcnow
from services.chassis.observability import Observability
from services.chassis.rpc import rpc

_center = CenterSchema()
_venue = VenueSchema()
_stats = StatsSchema()

# Stored fields of a center that `update_center` may change, as the update schema lists them.
EDITABLE = tuple(CenterUpdateSchema().fields)


class CentersService:
    name = "centers"

    db = Database(Base)
    observability = Observability()

    # --- commands on centers ---------------------------------------------------------------

    @rpc
    def create_center(self, data, actor):
        actor = load_actor(actor)
        values = load(CenterCreateSchema(), data)
        with self.db.unit_of_work() as uow:
            session = uow.session
            parent = repo.get_parent(session, values["parent_id"], "parent_id") if values["parent_id"] else None
            parent_node = repo.node(parent) if parent else None
            domain.authorize_create(actor, parent_node)
            domain.check_parent(values["level"], parent_node)
            domain.check_center_fields(values)
            repo.ensure_code_free(session, values["code"])
            now = utcnow()
            center = Center(**values, status="active", path="", version=1, created_at=now, updated_at=now)
            session.add(center)
            repo.flush(session, "center.version_conflict")  # assigns the id the path needs
            center.path = domain.child_path(parent_node, center.id)
            return self._publish_center(uow, events.CENTER_CREATED, center)

    @rpc
    def update_center(self, center_id, changes, actor, expected_version=None):
        actor = load_actor(actor)
        changes = load(CenterUpdateSchema(), changes)
        with self.db.unit_of_work() as uow:
            center = repo.get_center(uow.session, load_id(center_id), lock=True)
            domain.authorize_change(actor, repo.node(center))
            if expected_version is not None:
                domain.check_version(center.version, load_id(expected_version, "expected_version"))
            current = {name: getattr(center, name) for name in EDITABLE}
            changed = domain.changed_fields(current, changes)
            if not changed:
                return _center.dump(center)
            domain.check_center_fields({**current, **changed})
            if "code" in changed:
                repo.ensure_code_free(uow.session, changed["code"], center.id)
            for name, value in changed.items():
                setattr(center, name, value)
            return self._record_change(uow, events.CENTER_UPDATED, center)

    @rpc
    def move_center(self, center_id, new_parent_id, actor):
        actor = load_actor(actor)
        new_parent_id = load(MoveSchema(), {"new_parent_id": new_parent_id})["new_parent_id"]
        with self.db.unit_of_work() as uow:
            session = uow.session
            center = repo.get_center(session, load_id(center_id), lock=True)
            new_parent = repo.get_parent(session, new_parent_id, "new_parent_id")
            node, parent_node = repo.node(center), repo.node(new_parent)
            domain.authorize_move(actor, node, parent_node)
            if not domain.check_move(node, parent_node):
                return _center.dump(center)
            previous_parent_id, old_path = center.parent_id, center.path
            center.parent_id = new_parent.id
            center.path = domain.child_path(parent_node, center.id)
            repo.rebase_descendants(session, old_path, center.path)
            return self._record_change(
                uow, events.CENTER_MOVED, center, previous_parent_id=previous_parent_id
            )

    @rpc
    def set_status(self, center_id, status, reason, actor):
        actor = load_actor(actor)
        wanted = load(StatusSchema(), {"status": status, "reason": reason})
        with self.db.unit_of_work() as uow:
            center = repo.get_center(uow.session, load_id(center_id), lock=True)
            domain.authorize_change(actor, repo.node(center))
            change = domain.status_change(center.status, center.status_reason, wanted["status"], wanted["reason"])
            if change is None:
                return _center.dump(center)
            previous_status = center.status
            center.status, center.status_reason = change
            return self._record_change(
                uow, events.CENTER_STATUS_CHANGED, center, previous_status=previous_status
            )

    def _record_change(self, uow, event_type, center, **extra):
        center.version += 1
        center.updated_at = utcnow()
        return self._publish_center(uow, event_type, center, **extra)

    def _publish_center(self, uow, event_type, center, **extra):
        repo.flush(uow.session, "center.version_conflict")
        data = _center.dump(center)
        uow.emit(event_type, subject=str(center.id), data={**data, **extra})
        return data

    # --- queries on centers ----------------------------------------------------------------

    @rpc
    def get_center(self, center_id):
        with self.db.read() as session:
            return _center.dump(repo.get_center(session, load_id(center_id)))

    @rpc
    def list_centers(self, filters=None, page=1, page_size=20):
        query = load(CenterListQuerySchema(), {**(filters or {}), "page": page, "page_size": page_size})
        page, page_size = query.pop("page"), query.pop("page_size")
        with self.db.read() as session:
            items, total = repo.list_centers(session, query, page, page_size)
            return {"items": _center.dump(items, many=True), "total": total, "page": page, "page_size": page_size}

    @rpc
    def get_subtree(self, center_id):
        with self.db.read() as session:
            root = repo.get_center(session, load_id(center_id))
            ordered = domain.depth_first(repo.subtree(session, root), root.path)
            return [{**_center.dump(center), "depth": depth} for depth, center in ordered]

    @rpc
    def get_ancestors(self, center_id):
        with self.db.read() as session:
            center = repo.get_center(session, load_id(center_id))
            return _center.dump(repo.ancestors(session, center), many=True)

    @rpc
    def subtree_stats(self, center_id):
        with self.db.read() as session:
            root = repo.get_center(session, load_id(center_id))
            level_rows, venue_count = repo.subtree_figures(session, root)
            return _stats.dump(domain.rollup(root.id, level_rows, venue_count))

    @rpc
    def snapshot(self):
        with self.db.read() as session:
            return _center.dump(repo.all_centers(session), many=True)

    # --- venues ----------------------------------------------------------------------------

    @rpc
    def add_venue(self, center_id, data, actor):
        actor = load_actor(actor)
        values = load(VenueCreateSchema(), data)
        with self.db.unit_of_work() as uow:
            center = repo.get_center(uow.session, load_id(center_id), lock=True)
            node = repo.node(center)
            domain.authorize_change(actor, node)
            domain.check_accepts_venues(node)
            venue = Venue(center_id=center.id, version=1, **values)
            uow.session.add(venue)
            return self._emit_venue(uow, events.VENUE_ADDED, venue)

    @rpc
    def update_venue(self, venue_id, changes, actor):
        actor = load_actor(actor)
        changes = load(VenueUpdateSchema(), changes)
        with self.db.unit_of_work() as uow:
            venue = repo.get_venue(uow.session, load_id(venue_id, "venue_id"), lock=True)
            domain.authorize_change(actor, repo.node(repo.get_center(uow.session, venue.center_id)))
            changed = domain.changed_fields({name: getattr(venue, name) for name in changes}, changes)
            if not changed:
                return _venue.dump(venue)
            for name, value in changed.items():
                setattr(venue, name, value)
            venue.version += 1
            return self._emit_venue(uow, events.VENUE_UPDATED, venue)

    @rpc
    def remove_venue(self, venue_id, actor):
        actor = load_actor(actor)
        with self.db.unit_of_work() as uow:
            venue = repo.get_venue(uow.session, load_id(venue_id, "venue_id"), lock=True)
            domain.authorize_change(actor, repo.node(repo.get_center(uow.session, venue.center_id)))
            data = _venue.dump(venue)
            uow.session.delete(venue)
            repo.flush(uow.session, "venue.version_conflict")
            uow.emit(events.VENUE_REMOVED, subject=str(venue.id), data=data)

    def _emit_venue(self, uow, event_type, venue):
        repo.flush(uow.session, "venue.version_conflict")
        data = _venue.dump(venue)
        uow.emit(event_type, subject=str(venue.id), data=data)
        return data

    @rpc
    def get_venue(self, venue_id):
        with self.db.read() as session:
            return _venue.dump(repo.get_venue(session, load_id(venue_id, "venue_id")))

    @rpc
    def list_venues(self, center_id):
        with self.db.read() as session:
            center = repo.get_center(session, load_id(center_id))
            return _venue.dump(repo.venues_of(session, center.id), many=True)
