"""The gateway's in-memory copy of every center, so that reads need no RPC.

Filled from `centers.snapshot()`, kept current by `center.*` events and healed by a periodic
resync. Updates may arrive in any order and more than once: a center is replaced only by a
higher `version`. Each entry keeps its JSON encoding so that a read only copies bytes.

Once a snapshot is loaded it also answers the list query (`page`) with the service's
filters and order, so a list needs no RPC either: candidates come from an index of the tree
(children, codes), rebuilt only when the tree's shape changes, and pages already answered are
kept until the next change (a flash crowd asks the same few pages)."""

import time
from collections import OrderedDict

from .encoding import encode

RESYNC_SECONDS = 60
PAGES_KEPT = 256  # answered list pages kept until the next change
SHAPE = ("parent_id", "code")  # what the index is built from


class CenterReadModel:
    def __init__(self, clock=time.monotonic, resync_seconds=RESYNC_SECONDS):
        self._centers = {}  # id -> (center dict, encoded JSON)
        self._index = None  # (ids sorted, {parent id: child ids}, {code: id}) until the shape changes
        self._pages = OrderedDict()  # (filters, page, page_size) -> encoded page, until any change
        self._clock = clock
        self._resync_seconds = resync_seconds
        self.synced_at = None  # clock time of the last complete snapshot

    def __len__(self):
        return len(self._centers)

    def apply(self, center):
        """Keep `center` unless a newer (or the same) version is already held; True if kept."""
        current = self._centers.get(center["id"])
        if current is not None and current[0]["version"] >= center["version"]:
            return False
        if current is None or any(current[0].get(name) != center.get(name) for name in SHAPE):
            self._index = None
        self._pages.clear()
        self._centers[center["id"]] = (center, encode(center))
        return True

    def load(self, centers):
        for center in centers:
            self.apply(center)
        self.synced_at = self._clock()

    def resync_due(self):
        return self.synced_at is None or self._clock() - self.synced_at >= self._resync_seconds

    def get(self, center_id):
        entry = self._centers.get(center_id)
        return entry[0] if entry else None

    def get_encoded(self, center_id):
        entry = self._centers.get(center_id)
        return entry[1] if entry else None

    def ancestor_ids(self, center_id):
        """Ids from the root down to the parent, or None when part of the chain is unknown."""
        ids = []
        center = self.get(center_id)
        while center is not None and center["parent_id"] is not None:
            if len(ids) > len(self._centers):  # a cycle can only come from corrupt input
                return None
            ids.append(center["parent_id"])
            center = self.get(center["parent_id"])
        if center is None:
            return None
        ids.reverse()
        return ids

    def ancestors(self, center_id):
        ids = self.ancestor_ids(center_id)
        return None if ids is None else [self.get(i) for i in ids]

    def is_within(self, center_id, root_id):
        """True/False when the chain is known, None when it is not."""
        if center_id == root_id:
            return True
        ids = self.ancestor_ids(center_id)
        return None if ids is None else root_id in ids

    def page(self, filters, page, page_size):
        """The encoded JSON of `centers.list_centers(filters, page, page_size)` as this copy
        has it, or None before the first snapshot (then ask the service)."""
        if self.synced_at is None:
            return None
        key = (tuple(sorted(filters.items())), page, page_size)
        encoded = self._pages.get(key)
        if encoded is None:
            matches = self._matching(filters)
            chosen = matches[(page - 1) * page_size : page * page_size]
            items = b",".join(self._centers[center_id][1] for center_id in chosen)
            rest = encode({"total": len(matches), "page": page, "page_size": page_size})
            encoded = self._pages[key] = b'{"items":[' + items + b"]," + rest[1:]
            if len(self._pages) > PAGES_KEPT:
                self._pages.popitem(last=False)
        return encoded

    def _matching(self, filters):
        """Ids of the centers that pass every filter, by id, as the service's SQL selects them."""
        ids, children, codes = self._indexed()
        if "code" in filters:
            candidates = [codes[filters["code"]]] if filters["code"] in codes else []
        elif "within" in filters:
            root = filters["within"]
            candidates = sorted(self._subtree(root, children)) if root in self._centers else []
        elif "parent_id" in filters:
            candidates = sorted(children.get(filters["parent_id"], ()))
        else:
            candidates = ids
        exact = [(name, filters[name]) for name in ("level", "parent_id", "status") if name in filters]
        platform = filters.get("platform")
        text = filters["q"].casefold() if filters.get("q") else None
        matches = []
        for center_id in candidates:
            center = self._centers[center_id][0]
            if exact and any(center.get(name) != value for name, value in exact):
                continue
            if platform is not None and platform not in (center.get("platforms") or ()):
                continue
            if text is not None and text not in center["name"].casefold():
                continue
            matches.append(center_id)
        return matches

    def _indexed(self):
        if self._index is None:
            children, codes = {}, {}
            for center_id, (center, _) in self._centers.items():
                children.setdefault(center["parent_id"], []).append(center_id)
                codes[center["code"]] = center_id
            self._index = (sorted(self._centers), children, codes)
        return self._index

    @staticmethod
    def _subtree(root_id, children):
        """`root_id` and every id below it."""
        found, stack = [], [root_id]
        while stack:
            center_id = stack.pop()
            found.append(center_id)
            stack.extend(children.get(center_id, ()))
        return found
