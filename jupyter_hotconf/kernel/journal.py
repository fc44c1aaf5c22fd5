"""Local mode records its tenant's revisions in the config dir's history (``docs/history.md``).

A kernel without a server still has ``cfg.history()``: its ``DirFeed`` resumes its store
from the database a server on that dir would use and numbers every change of its tenant
through it (the store's ``RevisionSource`` hook), so ``cfg.revision`` is the database's
number and a server started later on the dir continues it. Recording is idempotent by
content, so a server and a kernel (or two kernels) on one dir record one edit once.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ..core.history import HistoryStore, default_history_path, open_history
from ..core.history_types import Source
from ..core.loading import LoadResult
from ..core.store import Assigned, ChangeType, TenantState
from ..core.store import Change as StoreChange

log = logging.getLogger(__name__)


class Journal:
    """The ``RevisionSource`` of one local feed: records its tenant's changes (other tenants
    keep the store's own numbering; this kernel does not follow them)."""

    def __init__(self, history: HistoryStore, tenant_id: str) -> None:
        self.history = history
        self.tenant_id = tenant_id
        self.starting = False  # the first load: what differs from the database is "startup"
        self._lock = threading.Lock()
        self._expected: dict[str, str] = {}  # checksum → source, for a write of our own

    def expect(self, checksum: str, source: str) -> None:
        """The next load with ``checksum`` was caused by ``source`` (a rollback from this
        kernel), so it is recorded and announced as such rather than as a file edit."""
        with self._lock:
            self._expected[checksum] = source

    def resumed(self) -> list[TenantState]:
        """The tenant's last recorded state, for ``ConfigStore.resume``: a load equal to it is
        then no change, and its revision continues."""
        last = self.history.last(self.tenant_id)
        if last is None:
            return []
        if last.checksum is None:  # deleted
            return [TenantState(self.tenant_id, last.revision, None, None, exists=False,
                                valid=True, error=None, last_change=None)]
        rev = self.history.revision(self.tenant_id, last.revision)
        if rev is None:  # pruned between the two reads: start unnumbered, record anew
            return []
        return [TenantState(self.tenant_id, rev.revision, rev.checksum, rev.config, exists=True,
                            valid=True, error=None, last_change=rev.timestamp)]

    def __call__(self, change: StoreChange, result: LoadResult) -> Assigned | None:
        if change.tenant_id != self.tenant_id:
            return None
        if change.change_type is ChangeType.INVALID:
            assert change.error is not None  # the store sets it for INVALID
            self.history.record_invalid(self.tenant_id, change.error)
            return Assigned(change.revision, Source.WATCHER.value)
        source = Source.STARTUP.value if self.starting else Source.WATCHER.value
        if change.checksum is not None:
            with self._lock:
                source = self._expected.pop(change.checksum, source)
        recorded = self.history.record(
            self.tenant_id, change.new if change.is_wire_change else change.old,
            document=result.document, source=source, file=result.file,
        )
        entry = recorded.entry
        if entry is not None and recorded.added:
            return Assigned(recorded.revision, entry.source, entry.actor)
        return Assigned(recorded.revision, source)  # recorded already (another process)


def local_history_path(config_dir: Path) -> Path:
    """The database a server on ``config_dir`` uses by default (``docs/history.md``)."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(default_history_path(config_dir, jupyter_data_dir()))


def open_journal(history_path: Path, tenant_id: str) -> Journal | None:
    """A journal on the database at ``history_path``, or None (logged) when it cannot be
    used: local mode then runs without history, as a server does."""
    history = open_history(history_path)
    return Journal(history, tenant_id) if history is not None else None
