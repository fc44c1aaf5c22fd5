"""First revisions queued during a history batch, written by a thread while the load goes on.

A server's first start on a config dir records every tenant as revision 1 (10,000 tenants in
the cold-load benchmark, docs/benchmarks.md). Inside ``HistoryStore.batch`` — one
``BEGIN IMMEDIATE`` transaction, so no other process writes meanwhile — a tenant without any
revision needs no query to be recorded: which tenants have one is read once, and the new
rows are queued here. Each is serialised when it is queued (one JSON array per revision: a
value that cannot be stored fails that call, and the load keeps no objects for it), and every
``CHUNK`` of them is one ``INSERT … SELECT FROM json_each`` per table, run by a writer thread
on the batch's own transaction. SQLite does not hold the GIL while it runs a statement, so
the rows are written while the loader goes on parsing the next tenants.

The connection is shared by one rule: the batch's owner touches it only after ``flush``,
which waits for every chunk in flight. So statements never interleave, and the database
sees the rows before any later statement of the batch, in the order they were queued.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import orjson

from .history_types import First, iso_ms
from .store import ChangeType

#: Revisions per statement: few enough that the last chunk, written after the load, is short.
CHUNK = 500

# A row is [tenant, timestamp, created_ms, source, actor, checksum, changed_paths, patch,
# file, config, document]; ``->`` gives a member's JSON text as it was written (key order,
# numbers' digits), ``->>`` a scalar's SQL value.
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
# The standard encoder takes what orjson refuses (integers past 64 bits); SQLite keeps their
# digits in ``->``.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class PendingFirsts:
    """The tenants that have a revision, and the first revisions not yet written."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.known = {row[0] for row in db.execute("SELECT DISTINCT tenant_id FROM revisions")}
        self._db = db
        self._rows: list[bytes] = []
        self._writer: ThreadPoolExecutor | None = None
        self._written: list[Future[None]] = []
        self._failed: BaseException | None = None

    def add_firsts(self, firsts: Iterable[First], now: float, source: str,
                   actor: str | None = None) -> int:
        """Queue revision 1 of each of ``firsts`` (tenants without one), all stamped ``now``
        (a record in a batch, or a new database's first load). Returns how many."""
        stamp, created_ms = iso_ms(now), int(now * 1000)
        rows, known = self._rows, self.known
        before = len(rows)
        for first in firsts:
            tenant = first.tenant_id
            row = (tenant, stamp, created_ms, source, actor, first.checksum, first.paths,
                   first.patch, first.file, first.config, first.document)
            try:
                rows.append(orjson.dumps(row))
            except orjson.JSONEncodeError:
                rows.append(_ENCODER.encode(row).encode())
            known.add(tenant)
        added = len(rows) - before
        if len(rows) >= CHUNK:
            self._submit()
        return added

    def flush(self) -> None:
        """Write what is queued and wait for every write in flight. A failed write fails
        this flush and every later one, so the batch cannot commit without its rows."""
        if self._rows:
            self._submit()
        self._wait()
        if self._failed is not None:
            raise self._failed

    def close(self) -> None:
        """Wait for writes in flight (so a rollback never runs beside one) and stop the
        writer thread."""
        self._wait()
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    def _wait(self) -> None:
        written, self._written = self._written, []
        for future in written:
            error = future.exception()
            if error is not None and self._failed is None:
                self._failed = error

    def _submit(self) -> None:
        blob = (b"[" + b",".join(self._rows) + b"]").decode()  # SQLite's JSON is TEXT
        self._rows = []
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="hotconf-history")
        self._written.append(self._writer.submit(_insert, self._db, blob))


def _insert(db: sqlite3.Connection, blob: str) -> None:
    """One chunk, its entries numbered after the last one in the table."""
    first = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()[0]) + 1
    db.execute(_ENTRIES, (first, ChangeType.CREATED.value, blob))
    db.execute(_REVISIONS, (first, blob))
