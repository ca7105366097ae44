"""The bytes of activity files, on disk under `ACTIVITY_FILES_DIR` (by default
`<WENMING_DATA_DIR>/activity-files`): `<activity id>/<file id>-<sha256>`, never the name the
uploader gave, so that no name can reach outside the folder or collide with another.

A file is written beside its row, in the row's unit of work: to a temporary file in the same
folder, synced, then renamed into place (a reader never sees half a file), and removed again
if the transaction rolls back. A removed file's bytes go once its row's removal is
committed. A crash between the write and the commit can leave a file no row names (harmless:
should its id come back, the name also holds the SHA-256, so it never stands for other
bytes); never a row without its file.
"""

import logging
import os
import tempfile
from pathlib import Path

import sqlalchemy as sa

from services.chassis.config import setting
from services.chassis.errors import NotFound

log = logging.getLogger(__name__)

FOLDER = "activity-files"  # under the data folder, unless ACTIVITY_FILES_DIR names another


def files_dir():
    configured = setting("ACTIVITY_FILES_DIR")
    return Path(configured) if configured else Path(setting("WENMING_DATA_DIR", "data")) / FOLDER


class FileStore:
    def __init__(self, root):
        self.root = Path(root)

    @classmethod
    def configured(cls):
        return cls(files_dir())

    def path_of(self, row):
        """Where the bytes of an ActivityFile row are."""
        return self.root / str(row.activity_id) / f"{row.id}-{row.sha256}"

    def write(self, uow, row, data):
        """Write `data` as `row`'s bytes, atomically; removed if `uow` rolls back."""
        path = self.path_of(row)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")  # readable by its owner only
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            _remove(Path(temporary))
            raise
        sa.event.listen(uow.session, "after_soft_rollback", lambda session, previous: _remove(path), once=True)

    def read(self, row):
        try:
            return self.path_of(row).read_bytes()
        except FileNotFoundError:
            log.error("activity file %s: its bytes are missing at %s", row.id, self.path_of(row))
            raise NotFound("activity_file.content_missing", "文件内容已丢失，请联系系统管理员。") from None

    def remove_when_committed(self, uow, row):
        path = self.path_of(row)
        sa.event.listen(uow.session, "after_commit", lambda session: _remove(path), once=True)


def _remove(path):
    try:
        path.unlink(missing_ok=True)
    except OSError:  # the row is gone (or never was): a stray file is harmless, never served
        log.exception("could not remove %s", path)
