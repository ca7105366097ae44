"""The rules of the practice network, in plain Python (no nameko, SQL or I/O).

A center is seen here as a `Node`: its id, parent, level, status and materialized path
("/1/5/17/": the ids from the root down to the node itself). Paths make every tree
question a string question, so the rules need no tree walk and no database:
"is X inside S's subtree?" is "does X's path contain /S/?".
"""

from dataclasses import dataclass, field

from services.centers.contract import (
    CENTER_CREATED,
    CENTER_MOVED,
    CENTER_STATUS_CHANGED,
    CENTER_UPDATED,
    LEVELS,
    STATUSES,
    VENUE_ADDED,
    VENUE_REMOVED,
    VENUE_UPDATED,
)
from services.chassis.actors import CENTER_ADMIN, COUNTY_ADMIN
from services.chassis.errors import Conflict, InvalidInput, PermissionDenied

PARENT_LEVEL = {"center": None, "institute": "center", "station": "institute", "point": "station"}
LEVEL_NAMES = {"center": "中心", "institute": "实践所", "station": "实践站", "point": "实践点"}


@dataclass(frozen=True)
class Node:
    id: int
    parent_id: int | None
    level: str
    status: str
    path: str

    @property
    def ancestor_ids(self):
        """Ids from the root down to the parent."""
        return path_ids(self.path)[:-1]

    def contains(self, other):
        """True when `other` is this node or one of its descendants."""
        return other.path.startswith(self.path)


@dataclass(frozen=True)
class Event:
    """An event a change raises; its data is the entity after the change plus `extra`."""

    type: str
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """What a command does: the entity's stored fields after it, and the events it raises."""

    state: dict
    events: tuple


def node_of(center):
    """The Node of a center given as a dict of its stored fields."""
    return Node(center["id"], center["parent_id"], center["level"], center["status"], center["path"])


def path_ids(path):
    return [int(part) for part in path.strip("/").split("/") if part]


def child_path(parent, node_id):
    """The path of a node with id `node_id` under `parent` (None for a root)."""
    return f"{parent.path if parent else '/'}{node_id}/"


# --- scope ----------------------------------------------------------------------------


def _in_scope(actor, path):
    return f"/{actor.scope_center_id}/" in path


def _require_admin(actor):
    if actor.role == COUNTY_ADMIN:
        return
    if actor.role == CENTER_ADMIN and actor.scope_center_id is not None:
        return
    raise PermissionDenied("scope.role", "当前角色无权修改实践阵地。")


def _outside():
    return PermissionDenied("scope.outside", "目标不在您管理的范围内。")


def authorize_change(actor, node):
    """Update, status change or venue change of `node`: S and its descendants."""
    _require_admin(actor)
    if actor.role == CENTER_ADMIN and not _in_scope(actor, node.path):
        raise _outside()


def authorize_create(actor, parent):
    """A new center under `parent` (None: a new county center, county admins only)."""
    _require_admin(actor)
    if actor.role == CENTER_ADMIN and (parent is None or not _in_scope(actor, parent.path)):
        raise _outside()


def authorize_move(actor, node, new_parent):
    """A center admin moves strict descendants of S to a parent that is S or below."""
    _require_admin(actor)
    if actor.role != CENTER_ADMIN:
        return
    if node.id == actor.scope_center_id or not _in_scope(actor, node.path):
        raise _outside()
    if not _in_scope(actor, new_parent.path):
        raise _outside()


# --- structure ------------------------------------------------------------------------


def check_parent(level, parent):
    """`level` may hang under `parent` (None: no parent), and `parent` takes children."""
    expected = PARENT_LEVEL[level]
    if parent is None:
        if expected is not None:
            raise InvalidInput(
                "center.parent_required",
                f"{LEVEL_NAMES[level]}必须有上级{LEVEL_NAMES[expected]}。",
                {"parent_id": [f"{LEVEL_NAMES[level]}的上级必须是{LEVEL_NAMES[expected]}。"]},
            )
        return
    if parent.level != expected:
        message = (
            "中心是县级根节点，不能有上级。"
            if expected is None
            else f"{LEVEL_NAMES[level]}的上级必须是{LEVEL_NAMES[expected]}。"
        )
        raise InvalidInput("center.parent_level_invalid", message, {"parent_id": [message]})
    if parent.status == "closed":
        raise Conflict("center.closed_parent", "上级阵地已关闭，不能再添加下级。")


def check_move(node, new_parent):
    """Whether `node` may move under `new_parent`; False when it is already there."""
    if new_parent.id == node.id or node.contains(new_parent):
        # Checked before the level rule, which would also refuse it, to say why.
        raise Conflict("center.cycle", "不能把阵地移到它自己或它的下级之下。")
    check_parent(node.level, new_parent)
    return new_parent.id != node.parent_id


def check_accepts_venues(node):
    if node.status == "closed":
        raise Conflict("center.closed", "阵地已关闭，不能再添加场所。")


# --- status ---------------------------------------------------------------------------


def status_change(current_status, current_reason, new_status, reason):
    """The (status, reason) to store, or None when nothing changes.

    A reason is required unless the new status is active; an active center keeps none.
    Re-sending the same status and reason is a no-op, so that retries are harmless.
    """
    if new_status not in STATUSES:
        raise InvalidInput("center.status_invalid", "状态无效。", {"status": [f"必须是 {', '.join(STATUSES)} 之一。"]})
    reason = (reason or "").strip() or None
    if new_status == "active":
        reason = None
    elif reason is None:
        raise InvalidInput("center.reason_required", "暂停或关闭必须填写原因。", {"reason": ["必须填写原因。"]})
    if (new_status, reason) == (current_status, current_reason):
        return None
    return new_status, reason


# --- versions and fields --------------------------------------------------------------


def check_version(current, expected):
    if expected != current:
        raise Conflict(
            "center.version_conflict",
            f"数据已被他人修改（当前版本 {current}，您提交的是版本 {expected}），请刷新后重试。",
        )


def check_center_fields(values, today):
    """Rules across fields that a schema cannot see; `values` is the center after the change."""
    errors = {}
    if (values.get("longitude") is None) != (values.get("latitude") is None):
        errors["latitude"] = ["经度和纬度必须同时填写或同时留空。"]
    households, residents = values.get("households_served"), values.get("residents_served")
    if households is not None and residents is not None and residents < households:
        errors["residents_served"] = ["服务人口不能少于服务户数。"]
    opened_on = values.get("opened_on")
    if opened_on is not None and opened_on > today:
        errors["opened_on"] = ["建成日期不能晚于今天。"]
    if errors:
        raise InvalidInput("center.fields_invalid", "阵地信息有误。", errors)


def changed_fields(current, changes):
    """The subset of `changes` that differs from `current` (a dict of stored values)."""
    return {key: value for key, value in changes.items() if current.get(key) != value}


# --- commands: current state + input + clock -> Change (or None: nothing to change) ------


def create_center(actor, values, parent, now):
    """A new center under `parent` (a Node, None for a county center); its id and path are
    given by the store (see `child_path`)."""
    authorize_create(actor, parent)
    check_parent(values["level"], parent)
    check_center_fields(values, now.date())
    state = {**values, "status": "active", "status_reason": None, "version": 1, "created_at": now, "updated_at": now}
    return Change(state, (Event(CENTER_CREATED),))


def update_center(actor, center, changes, expected_version, now):
    authorize_change(actor, node_of(center))
    if expected_version is not None:
        check_version(center["version"], expected_version)
    changed = changed_fields(center, changes)
    if not changed:
        return None
    check_center_fields({**center, **changed}, now.date())
    return _center_change(center, changed, now, Event(CENTER_UPDATED))


def move_center(actor, center, new_parent, now):
    """The whole subtree moves with the center: the store rebases the descendants' paths."""
    node = node_of(center)
    authorize_move(actor, node, new_parent)
    if not check_move(node, new_parent):
        return None
    changed = {"parent_id": new_parent.id, "path": child_path(new_parent, node.id)}
    return _center_change(center, changed, now, Event(CENTER_MOVED, {"previous_parent_id": center["parent_id"]}))


def set_status(actor, center, status, reason, now):
    authorize_change(actor, node_of(center))
    change = status_change(center["status"], center["status_reason"], status, reason)
    if change is None:
        return None
    changed = dict(zip(("status", "status_reason"), change, strict=True))
    event = Event(CENTER_STATUS_CHANGED, {"previous_status": center["status"]})
    return _center_change(center, changed, now, event)


def _center_change(center, changed, now, event):
    return _next_version(center, {**changed, "updated_at": now}, event)


def _next_version(entity, changed, event):
    """Every change adds exactly 1 to the version, however many fields or rows it touches."""
    return Change({**entity, **changed, "version": entity["version"] + 1}, (event,))


def add_venue(actor, center, values):
    node = node_of(center)
    authorize_change(actor, node)
    check_accepts_venues(node)
    return Change({**values, "center_id": node.id, "version": 1}, (Event(VENUE_ADDED),))


def update_venue(actor, center, venue, changes):
    authorize_change(actor, node_of(center))
    changed = changed_fields(venue, changes)
    if not changed:
        return None
    return _next_version(venue, changed, Event(VENUE_UPDATED))


def remove_venue(actor, center, venue):
    """A removal is a change like any other: the event carries the venue as it was, with
    its version advanced, so that a consumer keeping the highest version applies it."""
    authorize_change(actor, node_of(center))
    return _next_version(venue, {}, Event(VENUE_REMOVED))


# --- statistics -----------------------------------------------------------------------

# Closed centers are history: they no longer serve anyone, so figures leave them out.
COUNTED_STATUSES = ("active", "suspended")


def rollup(center_id, level_rows, venue_count):
    """Roll-up figures of a subtree from per-level aggregates.

    `level_rows`: (level, count, households, residents, floor_area) for each level present
    (sums may be None when no center of that level reported a figure).
    """
    count_by_level = dict.fromkeys(LEVELS, 0)
    households = residents = 0
    area = 0.0
    for level, count, level_households, level_residents, level_area in level_rows:
        count_by_level[level] = count
        households += level_households or 0
        residents += level_residents or 0
        area += level_area or 0.0
    return {
        "center_id": center_id,
        "count_by_level": count_by_level,
        "households_served": households,
        "residents_served": residents,
        "floor_area_m2": round(area, 2),
        "venue_count": venue_count,
    }


def depth_first(items, root_path):
    """Items of a subtree (anything with a `path`, in any order) as (depth, item) pairs:
    root first, depth-first, siblings by id."""
    base = len(path_ids(root_path))
    ordered = sorted(items, key=lambda item: path_ids(item.path))
    return [(len(path_ids(item.path)) - base, item) for item in ordered]
