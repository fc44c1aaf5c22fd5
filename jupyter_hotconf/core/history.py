"""HistoryStore: every accepted revision of every tenant in SQLite, with an audit trail.

Recording is idempotent by content: a revision is added only when the tenant's latest
recorded checksum differs, checked and written in one ``BEGIN IMMEDIATE`` transaction, so
two processes on one config dir (a server and a kernel in local mode) agree on one revision
number. The epoch lives in the database, so revisions survive restarts. See docs/history.md.

>>> import tempfile, pathlib
>>> with HistoryStore(pathlib.Path(tempfile.mkdtemp()) / "h.sqlite") as history:
...     history.record("acme", {"a": 1}).revision, history.record("acme", {"a": 1}).added
(1, False)
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from .documents import JSONObject
from .documents import checksum as checksum_of
from .errors import HistoryUnavailable, InvalidDocument
from .handover_lock import HandoverLock
from .history_batch import HistoryBatches, PendingFirsts
from .history_db import default_history_path, open_database, unavailable
from .history_queries import HistoryQueries
from .history_rows import dumps, insert_entry, latest_entry, loads, prune_tenant
from .history_types import (
    Delta,
    First,
    HistoryEntry,
    LastRevision,
    Recorded,
    Revision,
    RevisionDiff,
    Source,
    iso_ms,
)
from .store import ChangeType, diff
from .tenants import validate_tenant_id

log = logging.getLogger(__name__)

__all__ = ["Delta", "HistoryEntry", "HistoryStore", "LastRevision", "Recorded", "Revision",
           "RevisionDiff", "Source", "default_history_path"]

DEFAULT_MAX_REVISIONS = 1000
DEFAULT_MAX_AGE_DAYS = 90
class HistoryStore(HistoryBatches, HistoryQueries):
    """Revisions and audit entries of every tenant of one config dir, in one SQLite file.

    ``max_revisions`` per tenant (0 = no limit) and ``max_age_days`` (0 = forever) bound what
    is kept; the current revision is never pruned. ``clock`` (seconds since the epoch) is
    injectable for retention tests. Thread-safe: one connection behind a lock. Every failure
    of the database is a ``HistoryUnavailable`` naming the file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_revisions: int = DEFAULT_MAX_REVISIONS,
        max_age_days: float = DEFAULT_MAX_AGE_DAYS,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 30.0,
    ) -> None:
        if max_revisions < 0 or max_age_days < 0:
            raise ValueError("max_revisions and max_age_days must be >= 0 (0 = no limit)")
        self.path = Path(path)
        self.max_revisions, self.max_age_days = max_revisions, max_age_days
        self._clock = clock
        self._lock = HandoverLock()  # reentrant; a batch may hand it to its committing thread
        self._pending: PendingFirsts | None = None  # inside ``batch``: first revisions queued
        self._committer: threading.Thread | None = None  # a batch committing after it ended
        self._db, self._epoch = open_database(self.path, timeout_s=timeout_s)

    @property
    def epoch(self) -> str:
        """Created with the database and kept as long as it is: revisions continue across
        restarts, so clients keep their place."""
        return self._epoch

    def close(self) -> None:
        with self._lock:  # after a batch committing in the background
            self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        with self._lock:  # inside a ``batch``, each transaction is a savepoint of it
            batched = self._pending is not None
            start, undo, end = (("SAVEPOINT t", "ROLLBACK TO t", "RELEASE t") if batched
                                else (begin, "ROLLBACK", "COMMIT"))
            try:
                if self._pending is not None:  # its rows come first, as if written already
                    self._pending.flush(self._db)
                self._db.execute(start)
                try:
                    yield self._db
                except BaseException:
                    self._db.execute(undo)
                    raise
                self._db.execute(end)
            except sqlite3.Error as exc:
                raise unavailable(self.path, exc) from None

    @property
    def first_start(self) -> bool:
        """Inside ``batch``, on a database where no tenant has a revision yet: every tenant
        loaded now is revision 1, and ``record_firsts`` queues them with no query."""
        with self._lock:
            return self._pending is not None and not self._pending.known

    def record_firsts(self, firsts: Iterable[First], source: Source | str = Source.STARTUP) -> int:
        """Revision 1 of each of ``firsts``, in a ``batch`` where none of them has a revision
        (``first_start``), one timestamp for all: a new database's first load without a
        record call per tenant (docs/benchmarks.md). Returns how many were queued."""
        with self._lock:
            pending = self._pending
            if pending is None:
                raise RuntimeError("record_firsts() outside a batch")
            firsts = list(firsts)
            for first in firsts:
                if validate_tenant_id(first.tenant_id) in pending.known:
                    raise ValueError(f"tenant {first.tenant_id!r} has a revision already")
            return pending.add_firsts(firsts, self._clock(), Source(source).value)

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction: the lock is taken at BEGIN, so check-then-write is atomic
        across processes (a deferred transaction would fail to upgrade instead of waiting)."""
        return self._transaction("BEGIN IMMEDIATE")

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        """One consistent snapshot for several SELECTs."""
        return self._transaction("BEGIN")

    # ------------------------------------------------------------------ recording

    def record(
        self,
        tenant_id: str,
        config: JSONObject | None,
        *,
        document: JSONObject | None = None,
        source: Source | str = Source.WATCHER,
        actor: str | None = None,
        file: str | None = None,
        checksum: str | None = None,
        delta: Delta | None = None,
    ) -> Recorded:
        """Record the tenant's merged ``config`` now in force (None: it has no file).

        A new revision (created/modified/deleted, with its patch from the previous revision)
        is written only when the latest recorded checksum differs; otherwise the existing
        revision is returned, plus a ``recovered`` entry if the last entry was invalid.
        Call it before broadcasting, and broadcast with ``Recorded.revision``.
        ``checksum`` (of ``config``) and ``delta`` are what the caller computed already (the
        ``ConfigStore``'s change): the delta's patch is used when its base is the latest
        recorded checksum, and computed here otherwise.
        """
        tenant_id = validate_tenant_id(tenant_id)
        source = Source(source)
        digest = None if config is None else checksum or checksum_of(config)
        now = self._clock()
        with self._lock:
            pending = self._pending
            if config is not None and pending is not None and tenant_id not in pending.known:
                patch, paths = (delta.patch, delta.paths) if delta and delta.base is None else (
                    diff(None, config))
                first = HistoryEntry(tenant_id, 1, iso_ms(now), ChangeType.CREATED.value,
                                     source.value, actor, digest, list(paths), patch, file)
                assert digest is not None  # config is not None
                pending.add_firsts([First(tenant_id, config, document, digest, patch,
                                          first.changed_paths, file)], now, source.value, actor)
                return Recorded(1, digest, added=True, entry=first)
        with self._write() as db:
            row = db.execute(
                "SELECT revision, checksum, config FROM revisions WHERE tenant_id = ? "
                "ORDER BY revision DESC LIMIT 1", (tenant_id,),
            ).fetchone()
            current, current_sum, current_config = row or (0, None, None)
            if current_sum == digest:
                entry = None
                latest = latest_entry(db, tenant_id)
                if latest is not None and latest[0] == ChangeType.INVALID.value:
                    entry = HistoryEntry(
                        tenant_id, current if current else None, iso_ms(now),
                        ChangeType.RECOVERED.value, source.value, actor, digest, file=file,
                    )
                    insert_entry(db, entry, now)
                return Recorded(current, digest, added=False, entry=entry)
            patch, paths = ((delta.patch, delta.paths) if delta and delta.base == current_sum
                            else diff(loads(current_config), config))
            kind = (
                ChangeType.DELETED if config is None
                else ChangeType.CREATED if current_sum is None
                else ChangeType.MODIFIED
            )
            entry = HistoryEntry(  # patch: read-only (frozen), like the store's
                tenant_id, current + 1, iso_ms(now), kind.value, source.value, actor, digest,
                list(paths), patch, file,
            )
            entry_id = insert_entry(db, entry, now)
            db.execute(
                "INSERT INTO revisions (tenant_id, revision, entry_id, checksum, config, document)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (tenant_id, current + 1, entry_id, digest,
                 None if config is None else dumps(config),
                 None if document is None else dumps(document)),
            )
            pruned = 0  # a first revision has nothing to prune (open() prunes at start)
            if current:
                pruned = prune_tenant(db, tenant_id, now, self.max_revisions, self.max_age_days)
        log.debug("history: tenant %s revision %d (%s)", tenant_id, current + 1, kind.value)
        return Recorded(current + 1, digest, added=True, entry=entry, pruned=pruned)

    def record_invalid(
        self,
        tenant_id: str,
        error: InvalidDocument,
        *,
        source: Source | str = Source.WATCHER,
        actor: str | None = None,
    ) -> HistoryEntry | None:
        """Record an invalid attempt (no revision; the last good config stays in force).

        The same error as the tenant's latest entry is not recorded twice (None is returned),
        as an error is reported once — and two processes seeing one bad file write one entry.
        """
        tenant_id = validate_tenant_id(tenant_id)
        source = Source(source)
        now = self._clock()
        entry = HistoryEntry(
            tenant_id, None, iso_ms(now), ChangeType.INVALID.value, source.value, actor, None,
            file=error.file, error=error.to_dict(),
        )
        with self._write() as db:
            if latest_entry(db, tenant_id) == (entry.change_type, entry.error):
                return None
            insert_entry(db, entry, now)
            prune_tenant(db, tenant_id, now, self.max_revisions, self.max_age_days)
        return entry

    # ------------------------------------------------------------------ retention

    def prune(self) -> None:
        """Apply retention to every tenant now (recording prunes the tenant it writes; a
        server calls this at start so a lowered limit takes effect)."""
        now = self._clock()
        with self._write() as db:
            tenants = [row[0] for row in db.execute("SELECT DISTINCT tenant_id FROM entries")]
            for tenant_id in tenants:
                prune_tenant(db, tenant_id, now, self.max_revisions, self.max_age_days)

    def integrity_check(self) -> list[str]:
        """SQLite's ``PRAGMA integrity_check``: ``["ok"]`` for a sound database."""
        with self._read() as db:  # in a batch: after its queued rows are written
            return [str(row[0]) for row in db.execute("PRAGMA integrity_check")]

    def __repr__(self) -> str:
        return f"HistoryStore({str(self.path)!r}, epoch={self._epoch!r})"


def open_history(path: str | os.PathLike[str], **options: Any) -> HistoryStore | None:
    """A ``HistoryStore``, or None after logging why the database cannot be used — the
    server's way to run without history rather than not at all."""
    try:
        return HistoryStore(path, **options)
    except HistoryUnavailable as exc:
        log.error("history is off: %s", exc)
        return None
