"""The gateway's in-memory copy of every center, so that reads need no RPC.

Filled from `centers.snapshot()`, kept current by `center.*` events and healed by a periodic
resync. Updates may arrive in any order and more than once: a center is replaced only by a
higher `version`. Each entry keeps its JSON encoding so that a read only copies bytes."""

import time

from .encoding import encode

RESYNC_SECONDS = 60


class CenterReadModel:
    def __init__(self, clock=time.monotonic, resync_seconds=RESYNC_SECONDS):
        self._centers = {}  # id -> (center dict, encoded JSON)
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
