"""The read side of ``HistoryStore``: entries, revisions, diffs, each tenant's latest revision.

Every query runs in one read transaction (a consistent snapshot) of the store's connection;
in WAL mode it never waits for a writer (docs/history.md).
"""

from __future__ import annotations

import copy
import sqlite3
from contextlib import AbstractContextManager

from .errors import UnknownRevision
from .history_rows import ENTRY_COLUMNS, entry_from_row, latest_revisions, loads
from .history_types import HistoryEntry, LastRevision, Revision, RevisionDiff
from .store import diff
from .tenants import validate_tenant_id


class HistoryQueries:
    """Queries of a history database; ``HistoryStore`` provides the transactions."""

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

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
