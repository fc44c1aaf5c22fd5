"""First revisions queued during a history batch and written at its end, many rows at once.

A server's first start on a config dir records every tenant as revision 1 (10,000 tenants in
the cold-load benchmark, docs/benchmarks.md). Inside ``HistoryStore.batch`` — one
``BEGIN IMMEDIATE`` transaction, so no other process writes meanwhile — a tenant without any
revision needs no query to be recorded: which tenants have one is read once, and the new
rows wait here until one ``executemany`` per table writes them (before any other statement
of the batch, and before its commit, so the database never sees them out of order).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from .history_rows import ENTRY_COLUMNS, dumps
from .history_types import First, iso_ms
from .store import ChangeType


class PendingFirsts:
    """The tenants that have a revision, and the first revisions not yet written."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.known = {row[0] for row in db.execute("SELECT DISTINCT tenant_id FROM revisions")}
        self._entries: list[tuple[Any, ...]] = []
        self._revisions: list[tuple[Any, ...]] = []

    def add_firsts(self, firsts: Iterable[First], now: float, source: str,
                   actor: str | None = None) -> int:
        """Queue revision 1 of each of ``firsts`` (tenants without one), all stamped ``now``
        (a record in a batch, or a new database's whole first load). Serialised now, so a
        value that cannot be stored fails this call, not the batch. Returns how many."""
        stamp, created_ms, kind = iso_ms(now), int(now * 1000), ChangeType.CREATED.value
        entries, revisions, known = self._entries, self._revisions, self.known
        before = len(entries)
        for first in firsts:
            tenant = first.tenant_id
            entries.append((tenant, 1, stamp, kind, source, actor, first.checksum,
                            dumps(first.paths), dumps(first.patch), first.file, None, created_ms))
            revisions.append((tenant, 1, first.checksum, dumps(first.config),
                              None if first.document is None else dumps(first.document)))
            known.add(tenant)
        return len(entries) - before

    def flush(self, db: sqlite3.Connection) -> None:
        """Write what is queued, the entries numbered after the last one in the table."""
        if not self._entries:
            return
        first = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()[0]) + 1
        db.executemany(
            f"INSERT INTO entries (id, {ENTRY_COLUMNS}, created_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((first + i, *row) for i, row in enumerate(self._entries)),
        )
        db.executemany(
            "INSERT INTO revisions (tenant_id, revision, entry_id, checksum, config, document)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            ((tenant, revision, first + i, digest, config, document)
             for i, (tenant, revision, digest, config, document) in enumerate(self._revisions)),
        )
        self._entries.clear()
        self._revisions.clear()
