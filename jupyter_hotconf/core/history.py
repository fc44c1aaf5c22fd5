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

import copy
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from .documents import JSONObject, checksum
from .errors import HistoryUnavailable, InvalidDocument, UnknownRevision
from .history_db import default_history_path, open_database, unavailable
from .history_rows import (
    ENTRY_COLUMNS,
    dumps,
    entry_from_row,
    insert_entry,
    latest_entry,
    latest_revisions,
    loads,
    prune_tenant,
)
from .history_types import (
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

__all__ = ["HistoryEntry", "HistoryStore", "LastRevision", "Recorded", "Revision",
           "RevisionDiff", "Source", "default_history_path"]

DEFAULT_MAX_REVISIONS = 1000
DEFAULT_MAX_AGE_DAYS = 90
class HistoryStore:
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
        self._lock = threading.RLock()
        self._batched = False
        self._db, self._epoch = open_database(self.path, timeout_s=timeout_s)

    @property
    def epoch(self) -> str:
        """Created with the database and kept as long as it is: revisions continue across
        restarts, so clients keep their place."""
        return self._epoch

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        with self._lock:  # inside a ``batch``, each transaction is a savepoint of it
            start, undo, end = (("SAVEPOINT t", "ROLLBACK TO t", "RELEASE t") if self._batched
                                else (begin, "ROLLBACK", "COMMIT"))
            try:
                self._db.execute(start)
                try:
                    yield self._db
                except BaseException:
                    self._db.execute(undo)
                    raise
                self._db.execute(end)
            except sqlite3.Error as exc:
                raise unavailable(self.path, exc) from None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Writes in one transaction (the start-up load: docs/benchmarks.md), each a savepoint."""
        with self._write():
            self._batched = True
            try:
                yield
            finally:
                self._batched = False

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
    ) -> Recorded:
        """Record the tenant's merged ``config`` now in force (None: it has no file).

        A new revision (created/modified/deleted, with its patch from the previous revision)
        is written only when the latest recorded checksum differs; otherwise the existing
        revision is returned, plus a ``recovered`` entry if the last entry was invalid.
        Call it before broadcasting, and broadcast with ``Recorded.revision``.
        """
        tenant_id = validate_tenant_id(tenant_id)
        source = Source(source)
        digest = None if config is None else checksum(config)
        now = self._clock()
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
            patch, paths = diff(loads(current_config), config)
            kind = (
                ChangeType.DELETED if config is None
                else ChangeType.CREATED if current_sum is None
                else ChangeType.MODIFIED
            )
            entry = HistoryEntry(
                tenant_id, current + 1, iso_ms(now), kind.value, source.value, actor, digest,
                list(paths), copy.deepcopy(patch), file,
            )
            entry_id = insert_entry(db, entry, now)
            db.execute(
                "INSERT INTO revisions (tenant_id, revision, entry_id, checksum, config, document)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (tenant_id, current + 1, entry_id, digest,
                 None if config is None else dumps(config),
                 None if document is None else dumps(document)),
            )
            if current:  # a first revision has nothing to prune (open() prunes at start)
                prune_tenant(db, tenant_id, now, self.max_revisions, self.max_age_days)
        log.debug("history: tenant %s revision %d (%s)", tenant_id, current + 1, kind.value)
        return Recorded(current + 1, digest, added=True, entry=entry)

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

    # ------------------------------------------------------------------ queries

    def entry_count(self) -> int:
        """Entries of every tenant kept now (after retention)."""
        with self._read() as db:
            return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])

    def last(self, tenant_id: str) -> LastRevision | None:
        """The tenant's latest revision and checksum (None: never recorded)."""
        tenant_id = validate_tenant_id(tenant_id)
        with self._read() as db:
            row = db.execute(
                "SELECT revision, checksum FROM revisions WHERE tenant_id = ? "
                "ORDER BY revision DESC LIMIT 1", (tenant_id,),
            ).fetchone()
        return None if row is None else LastRevision(row[0], row[1])

    def last_all(self) -> dict[str, LastRevision]:
        """Latest revision of every recorded tenant (deleted ones with checksum None), for the
        start-up comparison with what is on disk."""
        with self._read() as db:
            rows = latest_revisions(db)
        return {tenant: LastRevision(rev, digest) for tenant, rev, digest in rows}

    def history(
        self, tenant_id: str, limit: int = 50, before: int | None = None
    ) -> list[HistoryEntry]:
        """The tenant's entries newest first, without configs; ``before=n`` pages back to
        the entries older than revision n."""
        tenant_id = validate_tenant_id(tenant_id)
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        query = f"SELECT {ENTRY_COLUMNS} FROM entries WHERE tenant_id = :t"
        if before is not None:
            query += (
                " AND id < COALESCE((SELECT MIN(id) FROM entries WHERE tenant_id = :t "
                "AND revision >= :before), (SELECT MAX(id) + 1 FROM entries))"
            )
        query += " ORDER BY id DESC LIMIT :limit"
        with self._read() as db:
            rows = db.execute(query, {"t": tenant_id, "before": before, "limit": limit})
            return [entry_from_row(row) for row in rows.fetchall()]

    def revision(self, tenant_id: str, revision: int) -> Revision | None:
        """Revision ``revision`` with its config and document; None if unknown or pruned."""
        tenant_id = validate_tenant_id(tenant_id)
        with self._read() as db:
            row = db.execute(
                "SELECT r.revision, r.checksum, e.timestamp, r.config, r.document "
                "FROM revisions r JOIN entries e ON e.id = r.entry_id "
                "WHERE r.tenant_id = ? AND r.revision = ?", (tenant_id, revision),
            ).fetchone()
        if row is None:
            return None
        rev, digest, stamp, config, document = row
        return Revision(tenant_id, rev, digest, stamp, loads(config), loads(document))

    def diff(self, tenant_id: str, a: int, b: int | None = None) -> RevisionDiff:
        """Patch and changed paths from revision ``a`` to ``b`` (default: the current one).
        Raises ``UnknownRevision`` for a revision never recorded or pruned."""
        tenant_id = validate_tenant_id(tenant_id)
        with self._read() as db:
            if b is None:
                top = db.execute(
                    "SELECT MAX(revision) FROM revisions WHERE tenant_id = ?", (tenant_id,)
                ).fetchone()[0]
                b = a if top is None else int(top)
            configs = {}
            for n in (a, b):
                row = db.execute(
                    "SELECT config FROM revisions WHERE tenant_id = ? AND revision = ?",
                    (tenant_id, n),
                ).fetchone()
                if row is None:
                    raise UnknownRevision(tenant_id, n)
                configs[n] = loads(row[0])
        patch, paths = diff(configs[a], configs[b])
        return RevisionDiff(tenant_id, a, b, copy.deepcopy(patch), list(paths))

    def integrity_check(self) -> list[str]:
        """SQLite's ``PRAGMA integrity_check``: ``["ok"]`` for a sound database."""
        try:
            with self._lock:
                return [str(row[0]) for row in self._db.execute("PRAGMA integrity_check")]
        except sqlite3.Error as exc:
            raise unavailable(self.path, exc) from None

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
