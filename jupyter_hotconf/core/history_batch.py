"""First revisions queued during a history batch and written when it flushes, many at once.

A server's first start on a config dir records every tenant as revision 1 (10,000 tenants in
the cold-load benchmark, docs/benchmarks.md). Inside ``HistoryStore.batch`` — one
``BEGIN IMMEDIATE`` transaction, so no other process writes meanwhile — a tenant without any
revision needs no query to be recorded: which tenants have one is read once, and the new
revisions wait here, as the loader made them, until the batch flushes (before any other
statement of the batch, and before its commit, so the database never sees them out of
order). A server's first start flushes after it serves (``HistoryStore.batch``'s
``commit_later``), so its load only queues. Then each revision is one JSON array, and every
``CHUNK`` of them one ``INSERT … SELECT FROM json_each`` per table: SQLite reads the rows
without a Python call per row.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import HistoryUnavailable
from .handover_lock import HandoverLock
from .history_db import unavailable
from .history_rows import dumps
from .history_types import First, iso_ms
from .store import ChangeType, diff

#: Revisions per statement (bounds the JSON text of one statement).
CHUNK = 2000

# A row is [tenant, timestamp, created_ms, source, actor, checksum, changed_paths, patch,
# file, config, document]; ``->`` gives a member's JSON text as it was written (key order,
# numbers' digits, also of integers past 64 bits), ``->>`` a scalar's SQL value.
_ENTRIES = (
    "INSERT INTO entries (id, tenant_id, revision, timestamp, created_ms, change_type, source,"
    " actor, checksum, changed_paths, patch, file, error)"
    " SELECT ?1 + key, value->>0, 1, value->>1, value->>2, ?2, value->>3, value->>4,"
    " value->>5, value->6, value->7, value->>8, NULL FROM json_each(?3)"
)
_REVISIONS = (
    "INSERT INTO revisions (tenant_id, revision, entry_id, checksum, config, document)"
    " SELECT value->>0, 1, ?1 + key, value->>5, value->9, NULLIF(value->10, 'null')"
    " FROM json_each(?2)"
)


class PendingFirsts:
    """The tenants that have a revision, and the first revisions not yet written."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.known = {row[0] for row in db.execute("SELECT DISTINCT tenant_id FROM revisions")}
        self._queued: list[tuple[First, str, int, str, str | None]] = []
        self.failed: sqlite3.Error | None = None

    def __len__(self) -> int:
        return len(self._queued)

    def add_firsts(self, firsts: Iterable[First], now: float, source: str,
                   actor: str | None = None) -> int:
        """Queue revision 1 of each of ``firsts`` (tenants without one), all stamped ``now``
        (a record in a batch, or a new database's first load). Returns how many."""
        stamp, created_ms = iso_ms(now), int(now * 1000)
        queued, known = self._queued, self.known
        before = len(queued)
        for first in firsts:
            queued.append((first, stamp, created_ms, source, actor))
            known.add(first.tenant_id)
        return len(queued) - before

    def flush(self, db: sqlite3.Connection) -> None:
        """Write what is queued, the entries numbered after the last one in the table. A
        failed write fails this flush and every later one, so the batch cannot commit
        without its rows."""
        if self.failed is not None:
            raise self.failed
        queued, self._queued = self._queued, []
        try:
            for start in range(0, len(queued), CHUNK):
                rows = "[" + ",".join(_row(*item) for item in queued[start:start + CHUNK]) + "]"
                first = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()[0])
                db.execute(_ENTRIES, (first + 1, ChangeType.CREATED.value, rows))
                db.execute(_REVISIONS, (first + 1, rows))
        except sqlite3.Error as exc:
            self.failed = exc
            raise


def _row(first: First, stamp: str, created_ms: int, source: str, actor: str | None) -> str:
    patch, paths = first.patch, first.paths
    if patch is None or paths is None:  # the loader's own was not kept: the same, made here
        patch, paths = diff(None, first.config)
    head = dumps((first.tenant_id, stamp, created_ms, source, actor, first.checksum, paths,
                  patch, first.file, first.config))
    document = first.document  # None, a document, or its JSON text already
    text = "null" if document is None else document if isinstance(document, str) else (
        dumps(document))
    return f"{head[:-1]},{text}]"


class HistoryBatches:
    """The batch of ``HistoryStore``: one transaction over a whole load, committed at its
    end or, for a server's start-up load, by a thread after it."""

    path: Path
    _db: sqlite3.Connection
    _lock: HandoverLock
    _epoch: str
    _pending: PendingFirsts | None
    _committer: threading.Thread | None

    @contextmanager
    def batch(
        self, *, commit_later: Callable[[HistoryUnavailable | None], None] | None = None
    ) -> Iterator[None]:
        """Writes in one transaction (the start-up load: docs/benchmarks.md), each a savepoint;
        the first revision of a tenant that has none is queued and written with the others
        at the end (``history_batch``). The store's lock is held throughout, so other
        threads wait; the epoch is read again once the database's lock is held too.

        With ``commit_later`` (a server's start-up load), queued first revisions are written
        and committed by a thread after the batch, which then calls ``commit_later`` (with
        the error, if it failed); the store's lock passes to that thread, so every other use
        of the store waits for the commit. A database with no revision yet (a first start)
        gets a new epoch in the same transaction: a crash before the commit leaves no
        revision and the old epoch, and the next first start draws a new one again, so an
        epoch a client was served never numbers other content (docs/history.md, "A first
        start")."""
        self._lock.acquire()
        handed = False
        try:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                pending = self._pending = PendingFirsts(self._db)
                self._epoch = self._read_epoch(new=commit_later is not None and not pending.known)
            except sqlite3.Error as exc:
                self._finish(commit=False)
                raise unavailable(self.path, exc) from None
            try:
                yield
            except BaseException:
                self._finish(commit=False)
                raise
            if commit_later is None or not len(pending):
                self._finish(commit=True)
                return
            committer = threading.Thread(
                target=self._commit_later, args=(commit_later,), name="hotconf-history-commit",
                daemon=True,
            )
            self._lock.hand_to(committer)  # nobody comes between the load and its commit
            handed = True
            self._committer = committer
            committer.start()
        finally:
            if not handed:
                self._lock.release()

    @property
    def committing(self) -> bool:
        """A batch's first revisions are being written after it ended (``commit_later``)."""
        return self._committer is not None

    def _read_epoch(self, *, new: bool) -> str:
        if new:
            epoch = secrets.token_hex(8)
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'epoch'", (epoch,))
            return epoch
        return str(self._db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0])

    def _finish(self, *, commit: bool) -> None:
        """End the batch: write what it queued and commit, or roll it all back."""
        with self._lock:
            pending, self._pending = self._pending, None
            try:
                if commit and pending is not None:
                    pending.flush(self._db)
                    self._db.execute("COMMIT")
                elif self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise unavailable(self.path, exc) from None

    def _commit_later(self, done: Callable[[HistoryUnavailable | None], None]) -> None:
        error = None
        try:
            self._finish(commit=True)
        except HistoryUnavailable as exc:
            error = exc
        finally:
            self._committer = None
            self._lock.release()  # the hold the batch handed over
        done(error)
