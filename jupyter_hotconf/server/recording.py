"""The engine's history: opening the database, resuming the store from it, and numbering
every change through it before it is broadcast (docs/history.md).

Recording runs where the store applies a reload — the watcher's worker thread, or the
initial load in ``HotConfEngine.start`` before anything is served — never in a handler on
the loop. The database assigns the revision (idempotent by content), so two processes on
one config dir broadcast the same numbers; the store only takes them (``RevisionSource``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir

from ..core.documents import checksum
from ..core.errors import HistoryUnavailable
from ..core.history import HistoryStore, default_history_path
from ..core.history_rows import dumps
from ..core.history_types import Delta, First, Recorded, Source
from ..core.loading import LoadResult
from ..core.store import Assigned, Change, ChangeType, ConfigStore, TenantState
from .settings import HISTORY_OFF, HotConfSettings

log = logging.getLogger(__name__)

_REVISION_KINDS = (ChangeType.CREATED.value, ChangeType.MODIFIED.value, ChangeType.DELETED.value)


def history_path(settings: HotConfSettings, config_dir: Path) -> Path | None:
    """Where the history of ``config_dir`` lives: the ``history`` setting, or the default
    file under Jupyter's data dir; None when the setting is ``none``."""
    value = settings.history.strip()
    if value.lower() == HISTORY_OFF:
        return None
    if value:
        return Path(value).expanduser().absolute()
    return default_history_path(config_dir, jupyter_data_dir())


def _delta(change: Change) -> Delta | None:
    """The store's patch for the history to reuse (it is the history's own when the store's
    previous config is the latest recorded one, which ``record`` checks by checksum)."""
    if not change.is_wire_change:
        return None
    base = None if change.old is None else checksum(change.old)
    return Delta(base, change.patch, change.changed_paths)


class HistoryRecording:
    """The history of one engine (or none, and why)."""

    def __init__(self, settings: HotConfSettings, config_dir: Path) -> None:
        self.settings = settings
        self.config_dir = config_dir
        self.path: Path | None = None
        self.history: HistoryStore | None = None
        self.error: str | None = None
        self.starting = False
        self.entries = 0  # entries in the database, for hotconf_history_entries
        self.resumed = 0  # tenants whose last revision ``resume`` gave the store
        self.redis_history = False  # kept in the group's Redis streams (docs/scale-out.md)
        self._lock = threading.Lock()
        self._expected: dict[tuple[str, str | None], tuple[Source, str | None]] = {}
        #: A new database's first load: each tenant's revision 1, recorded at once at its end.
        self._firsts: list[First] | None = None

    @property
    def enabled(self) -> bool:
        return self.history is not None

    def open(self) -> HistoryStore | None:
        """Open the database; on failure log one line saying what and where, and run
        without history (``info`` says why)."""
        path = history_path(self.settings, self.config_dir)
        if path is None:
            self.error = f"history is off (history = {HISTORY_OFF!r})"
            return None
        if self.settings.broker_url:  # the leader's publish records it in Redis streams
            self.redis_history = True
            return None
        self.path = path
        try:
            self.history = HistoryStore(self.path, **self.settings.history_options())
            self.history.prune()  # a lowered limit takes effect at start
            self.entries = self.history.entry_count()
        except HistoryUnavailable as exc:
            self.error = str(exc)
            self.history = None
            log.error("hotconf: running without history: %s", exc)
        return self.history

    def resume(self, store: ConfigStore) -> None:
        """Give ``store`` the database's epoch, each tenant's last recorded revision, and this
        object as the source of every later revision."""
        history = self.history
        if history is None:
            return
        try:
            states = [self._state(history, t, last.revision) for t, last in
                      history.last_all().items()]
        except HistoryUnavailable as exc:
            self.error, self.history = str(exc), None
            log.error("hotconf: running without history: %s", exc)
            return
        kept = [s for s in states if s is not None]
        store.resume(history.epoch, kept, self.assign)
        self.resumed = len(kept)

    @staticmethod
    def _state(history: HistoryStore, tenant_id: str, revision: int) -> TenantState | None:
        rev = history.revision(tenant_id, revision)
        if rev is None:
            return None
        return TenantState(
            tenant_id, rev.revision, rev.checksum, rev.config, exists=rev.config is not None,
            valid=True, error=None, last_change=rev.timestamp,
        )

    @contextlib.contextmanager
    def startup(self, store: ConfigStore) -> Iterator[None]:
        """The initial load: resume ``store`` and record the load as ``startup``, in one
        database transaction (one commit, not one per tenant: 10,000 tenants took 6 s of a
        cold start that way, docs/benchmarks.md), so no other process writes between what
        the resume read and what the load records. On a database with no revision yet,
        every tenant's revision 1 is collected with no record call per tenant and written
        and committed by the history's thread after the load (``HistoryStore.batch``'s
        ``commit_later``): a first start serves without waiting for 10,000 rows."""
        batch = contextlib.ExitStack()
        history = self.history
        if history is not None:
            try:
                batch.enter_context(history.batch(commit_later=self._committed))
                self._firsts = [] if history.first_start else None
            except HistoryUnavailable as exc:  # record tenant by tenant, each saying why
                log.error("hotconf: cannot record the start-up load at once: %s", exc)
        self.starting = True
        try:
            with batch:
                self.resume(store)
                yield
                if self.history is not None and self._firsts:
                    self.history.record_firsts(self._firsts, Source.STARTUP)
        except HistoryUnavailable as exc:  # the commit: run on, as after a failed record
            log.error("hotconf: cannot record the start-up load: %s", exc)
        finally:
            self.starting, self._firsts = False, None
        if self.history is not None and not self.history.committing:
            self._count()

    def _committed(self, error: HistoryUnavailable | None) -> None:
        """The start-up load's first revisions are in the database (on the history's thread)."""
        if error is not None:
            log.error("hotconf: cannot record the start-up load: %s", error)
        self._count()

    def _tally(self, recorded: Recorded) -> None:
        """Keep ``entries`` from what a record wrote and pruned, without a second transaction
        and a COUNT(*) of the whole table on the path of every change (docs/history.md).
        Content recorded already was written by another process: count again then."""
        if self.starting:
            return  # counted once at the end of the start-up load
        if recorded.added or recorded.entry is not None:
            self.entries += (recorded.entry is not None) - recorded.pruned
        else:
            self._count()

    def _recount(self) -> None:
        if not self.starting:
            self._count()

    def _count(self) -> None:
        if self.history is not None:
            with contextlib.suppress(HistoryUnavailable):  # a failed record has said why
                self.entries = self.history.entry_count()

    def expect(self, tenant_id: str, checksum: str | None, source: Source,
               actor: str | None) -> None:
        """The next change of ``tenant_id`` to ``checksum`` was written by us: record it with
        this source and actor instead of ``watcher``."""
        with self._lock:
            self._expected[(tenant_id, checksum)] = (source, actor)

    def forget(self, tenant_id: str, checksum: str | None) -> None:
        with self._lock:
            self._expected.pop((tenant_id, checksum), None)

    def assign(self, change: Change, result: LoadResult) -> Assigned | None:
        """The store's ``RevisionSource``: record ``change`` and give the revision the
        database assigned (maybe by another process, for the same content). A database
        failure is logged and the store's own numbering kept."""
        history = self.history
        if history is None:
            return None
        return self._assign(history, change, result)

    def _assign(self, history: HistoryStore, change: Change,
                result: LoadResult) -> Assigned | None:
        tenant = change.tenant_id
        default = Source.STARTUP if self.starting else Source.WATCHER
        with self._lock:
            expected = self._expected.pop((tenant, change.checksum), None)
        firsts = self._firsts
        if (firsts is not None and expected is None and change.checksum is not None
                and change.change_type is ChangeType.CREATED and change.revision == 1):
            # The document as JSON text and no patch (made from the config when written): the
            # load keeps no objects of its own alive for 10,000 tenants (docs/benchmarks.md).
            document = None if result.document is None else dumps(result.document)
            firsts.append(First(tenant, change.new, document, change.checksum, None, None,
                                result.file))
            return None  # revision 1, the store's own number; written after the load
        source, actor = expected or (default, None)
        try:
            if change.change_type is ChangeType.INVALID:
                if change.error is not None:
                    history.record_invalid(tenant, change.error, source=source, actor=actor)
                    self._recount()  # rare (an error is recorded once); it may have pruned
                return Assigned(change.revision, source.value, actor)
            recorded = history.record(
                tenant, change.new, document=result.document, source=source, actor=actor,
                file=result.file, checksum=change.checksum, delta=_delta(change),
            )
            self._tally(recorded)
            if not change.is_wire_change:
                return Assigned(change.revision, source.value, actor)
            if recorded.revision < 1:
                return None
            if not recorded.added and expected is None:  # recorded elsewhere: say by whom
                return Assigned(recorded.revision, *self._cause(history, tenant,
                                                                recorded.revision))
            return Assigned(recorded.revision, source.value, actor)
        except HistoryUnavailable as exc:
            log.error("hotconf: cannot record %s of tenant %s: %s",
                      change.change_type.value, tenant, exc)
            return None

    @staticmethod
    def _cause(history: HistoryStore, tenant_id: str, revision: int) -> tuple[str, str | None]:
        """Source and actor of the entry that created ``revision`` (recorded by another
        process, or by a handler right after it wrote the file)."""
        for entry in history.history(tenant_id, limit=20, before=revision + 1):
            if entry.revision == revision and entry.change_type in _REVISION_KINDS:
                return entry.source, entry.actor
        return Source.WATCHER.value, None

    def info(self) -> dict[str, Any]:
        """``GET info``'s ``history``: enabled, where, and why not."""
        if self.redis_history:
            url = self.settings.broker_url
            where = f"{url.rsplit('@', 1)[-1]} {self.settings.broker_namespace}:history:<tenant>"
            return {"enabled": True, "path": where, "error": None}
        return {
            "enabled": self.enabled,
            "path": str(self.path) if self.path is not None else None,
            "error": None if self.enabled else self.error,
        }

    def close(self) -> None:
        if self.history is not None:
            self.history.close()
