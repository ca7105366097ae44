"""The centers service: the practice network's tree of centers and their venues.

Entrypoints only. A command is get → domain → save → commit: load and check the input,
read the rows it concerns, let the domain (plain Python) decide the new state and the
events, write both in one unit of work. The contract is docs/centers-rpc.md.
"""

from services.centers import domain
from services.centers import repository as repo
from services.centers.contract import (
    SERVICE,
    CenterCreateSchema,
    CenterListQuerySchema,
    CenterSchema,
    CenterUpdateSchema,
    MoveSchema,
    StatsSchema,
    StatusSchema,
    VenueCreateSchema,
    VenueSchema,
    VenueUpdateSchema,
)
from services.centers.models import Base, Center, Venue
from services.chassis.actors import load_actor
from services.chassis.clock import utcnow
from services.chassis.db import Conflicts, Database, save, state
from services.chassis.errors import Conflict
from services.chassis.observability import Observability
from services.chassis.rpc import command, rpc
from services.chassis.schemas import load, load_id

_center = CenterSchema()
_venue = VenueSchema()
_stats = StatsSchema()

SNAPSHOT_PAGE_LIMIT = 500  # centers per snapshot page: one reply stays small

CONFLICTS = Conflicts(
    unique={"uq_centers_code": Conflict("center.code_taken", "编码已被其他阵地使用。", {"code": ["编码已被使用。"]})},
    stale={
        "centers": Conflict("center.version_conflict", "数据已被他人修改，请刷新后重试。"),
        "venues": Conflict("venue.version_conflict", "数据已被他人修改，请刷新后重试。"),
    },
)


def _center_id(value):
    return load_id(value, "center_id")


def _venue_id(value):
    return load_id(value, "venue_id")


class CentersService:
    name = SERVICE

    db = Database(Base, CONFLICTS)
    observability = Observability()

    # --- commands on centers ---------------------------------------------------------------

    @command
    def create_center(self, data, actor):
        actor = load_actor(actor)
        values = load(CenterCreateSchema, data)
        with self.db.unit_of_work() as uow:
            parent = repo.get_parent(uow.session, values["parent_id"], "parent_id") if values["parent_id"] else None
            parent_node = repo.node(parent) if parent else None
            change = domain.create_center(actor, values, parent_node, utcnow())
            center = Center(path="", **change.state)
            uow.session.add(center)
            uow.flush()  # the id, which the path needs
            center.path = domain.child_path(parent_node, center.id)
            return _emit(uow, center, _center, change)

    @command
    def update_center(self, center_id, changes, actor, expected_version=None):
        actor = load_actor(actor)
        changes = load(CenterUpdateSchema, changes)
        center_id = _center_id(center_id)
        if expected_version is not None:
            expected_version = load_id(expected_version, "expected_version")
        with self.db.unit_of_work() as uow:
            center = repo.get_center(uow.session, center_id, lock=True)
            change = domain.update_center(actor, state(center), changes, expected_version, utcnow())
            return _save(uow, center, _center, change)

    @command
    def move_center(self, center_id, data, actor):
        actor = load_actor(actor)
        parent_id = load(MoveSchema, data)["parent_id"]
        center_id = _center_id(center_id)
        with self.db.unit_of_work() as uow:
            center = repo.get_center(uow.session, center_id, lock=True)
            new_parent = repo.node(repo.get_parent(uow.session, parent_id, "parent_id"))
            old_path = center.path
            change = domain.move_center(actor, state(center), new_parent, utcnow())
            if change is not None:
                repo.rebase_descendants(uow.session, old_path, change.state["path"])
            return _save(uow, center, _center, change)

    @command
    def set_status(self, center_id, data, actor):
        actor = load_actor(actor)
        wanted = load(StatusSchema, data)
        center_id = _center_id(center_id)
        with self.db.unit_of_work() as uow:
            center = repo.get_center(uow.session, center_id, lock=True)
            change = domain.set_status(actor, state(center), wanted["status"], wanted["reason"], utcnow())
            return _save(uow, center, _center, change)

    # --- queries on centers ----------------------------------------------------------------

    @rpc
    def get_center(self, center_id):
        with self.db.read() as session:
            return _center.dump(repo.get_center(session, _center_id(center_id)))

    @rpc
    def list_centers(self, filters=None, page=1, page_size=20):
        query = load(CenterListQuerySchema, {**(filters or {}), "page": page, "page_size": page_size})
        page, page_size = query.pop("page"), query.pop("page_size")
        with self.db.read() as session:
            items, total = repo.list_centers(session, query, page, page_size)
            return {"items": _center.dump(items, many=True), "total": total, "page": page, "page_size": page_size}

    @rpc
    def get_subtree(self, center_id):
        with self.db.read() as session:
            root = repo.get_center(session, _center_id(center_id))
            ordered = domain.depth_first(repo.subtree(session, root), root.path)
            return [{**_center.dump(center), "depth": depth} for depth, center in ordered]

    @rpc
    def get_ancestors(self, center_id):
        with self.db.read() as session:
            center = repo.get_center(session, _center_id(center_id))
            return _center.dump(repo.ancestors(session, center), many=True)

    @rpc
    def is_within(self, center_id, root_id):
        """Whether `center_id` is `root_id` or lies below it: the authoritative scope check
        for other services (a gateway's copy of the tree may be stale)."""
        with self.db.read() as session:
            center = repo.node(repo.get_center(session, _center_id(center_id)))
            root = repo.node(repo.get_center(session, load_id(root_id, "root_id")))
            return root.contains(center)

    @rpc
    def subtree_stats(self, center_id):
        with self.db.read() as session:
            root = repo.get_center(session, _center_id(center_id))
            level_rows, venue_count = repo.subtree_figures(session, root)
            return _stats.dump(domain.rollup(root.id, level_rows, venue_count))

    @rpc
    def snapshot(self, after_id=0, limit=SNAPSHOT_PAGE_LIMIT):
        """One page of every center by id, for read models: `next_after_id` is None on the
        last page, else the `after_id` of the next call."""
        after_id = 0 if after_id == 0 else _center_id(after_id)
        limit = min(load_id(limit, "limit"), SNAPSHOT_PAGE_LIMIT)
        with self.db.read() as session:
            items = repo.centers_after(session, after_id, limit)
            next_after_id = items[-1].id if len(items) == limit else None
            return {"items": _center.dump(items, many=True), "next_after_id": next_after_id}

    # --- venues ----------------------------------------------------------------------------

    @command
    def add_venue(self, center_id, data, actor):
        actor = load_actor(actor)
        values = load(VenueCreateSchema, data)
        center_id = _center_id(center_id)
        with self.db.unit_of_work() as uow:
            center = repo.get_center(uow.session, center_id, lock=True)
            change = domain.add_venue(actor, state(center), values)
            venue = Venue(**change.state)
            uow.session.add(venue)
            return _emit(uow, venue, _venue, change)

    @command
    def update_venue(self, venue_id, changes, actor):
        actor = load_actor(actor)
        changes = load(VenueUpdateSchema, changes)
        venue_id = _venue_id(venue_id)
        with self.db.unit_of_work() as uow:
            venue = repo.get_venue(uow.session, venue_id, lock=True)
            center = repo.get_center(uow.session, venue.center_id)
            change = domain.update_venue(actor, state(center), state(venue), changes)
            return _save(uow, venue, _venue, change)

    @command
    def remove_venue(self, venue_id, actor):
        actor = load_actor(actor)
        venue_id = _venue_id(venue_id)
        with self.db.unit_of_work() as uow:
            venue = repo.get_venue(uow.session, venue_id, lock=True)
            center = repo.get_center(uow.session, venue.center_id)
            change = domain.remove_venue(actor, state(center), state(venue))
            data = _venue.dump(change.state)
            uow.session.delete(venue)
            uow.flush()
            _publish(uow, venue.id, data, change)

    @rpc
    def get_venue(self, venue_id):
        with self.db.read() as session:
            return _venue.dump(repo.get_venue(session, _venue_id(venue_id)))

    @rpc
    def list_venues(self, center_id):
        with self.db.read() as session:
            center = repo.get_center(session, _center_id(center_id))
            return _venue.dump(repo.venues_of(session, center.id), many=True)


def _save(uow, entity, schema, change):
    """Write a domain change onto `entity` and emit its events; a no-op change (None)
    returns the entity as it is, with no new version and no event."""
    if change is None:
        return schema.dump(entity)
    save(entity, change.state)
    return _emit(uow, entity, schema, change)


def _emit(uow, entity, schema, change):
    uow.flush()  # version and constraint failures surface here, as the service's conflicts
    data = schema.dump(entity)
    _publish(uow, entity.id, data, change)
    return data


def _publish(uow, entity_id, data, change):
    for event in change.events:
        uow.emit(event.type, subject=str(entity_id), data={**data, **event.extra})
