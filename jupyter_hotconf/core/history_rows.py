"""How entries are stored, read back and pruned in the history database's tables.

The SQL that ``HistoryStore`` runs inside its transactions; the tables themselves are created
by ``history_db``. Retention is here because it is a statement about rows: what a tenant
keeps (docs/history.md).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import orjson

from .history_types import HistoryEntry

ENTRY_COLUMNS = (
    "tenant_id, revision, timestamp, change_type, source, actor, checksum, changed_paths, "
    "patch, file, error"
)
_DAY_MS = 86_400_000


# A revision is three or four dumps (a cold start of 10,000 tenants: 40,000), so they go
# through orjson (8x the standard encoder on these rows: docs/benchmarks.md); the standard
# encoder, built once, takes what orjson refuses (integers past 64 bits).
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON in the value's own key order (a revision comes back as it was recorded).
    Values are strict JSON already (the parser refuses NaN and Infinity)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return _ENCODER.encode(value)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def entry_from_row(row: tuple[Any, ...]) -> HistoryEntry:
    """A row of ``SELECT ENTRY_COLUMNS`` as a ``HistoryEntry``."""
    tenant, revision, stamp, kind, source, actor, digest, paths, patch, file, error = row
    return HistoryEntry(
        tenant, revision, stamp, kind, source, actor, digest, json.loads(paths),
        json.loads(patch), file, loads(error),
    )


def insert_entry(db: sqlite3.Connection, entry: HistoryEntry, now: float) -> int:
    """Append ``entry``; ``now`` (seconds) is kept in ms for retention. Returns its id."""
    cursor = db.execute(
        f"INSERT INTO entries ({ENTRY_COLUMNS}, created_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry.tenant_id, entry.revision, entry.timestamp, entry.change_type, entry.source,
         entry.actor, entry.checksum, dumps(entry.changed_paths), dumps(entry.patch),
         entry.file, None if entry.error is None else dumps(entry.error), int(now * 1000)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def latest_entry(db: sqlite3.Connection, tenant_id: str) -> tuple[str, Any] | None:
    """(change_type, error) of the tenant's newest entry, or None."""
    row = db.execute(
        "SELECT change_type, error FROM entries WHERE tenant_id = ? ORDER BY id DESC LIMIT 1",
        (tenant_id,),
    ).fetchone()
    return None if row is None else (str(row[0]), loads(row[1]))


def latest_revisions(db: sqlite3.Connection) -> list[tuple[str, int, str | None]]:
    """(tenant_id, revision, checksum) of every tenant's latest revision, by tenant."""
    return db.execute(
        "SELECT r.tenant_id, r.revision, r.checksum FROM revisions r JOIN "
        "(SELECT tenant_id, MAX(revision) AS top FROM revisions GROUP BY tenant_id) m "
        "ON r.tenant_id = m.tenant_id AND r.revision = m.top ORDER BY r.tenant_id"
    ).fetchall()


def prune_tenant(
    db: sqlite3.Connection, tenant_id: str, now: float, max_revisions: int, max_age_days: float
) -> int:
    """Drop revisions past ``max_revisions`` or older than ``max_age_days`` (0 = no limit),
    never the current one; then the entries no kept revision needs: those older than the
    oldest kept revision, and those past the age limit. Returns how many entries went."""
    row = db.execute(
        "SELECT MAX(revision) FROM revisions WHERE tenant_id = ?", (tenant_id,)
    ).fetchone()
    current = row[0] or 0
    cutoff_ms = int(now * 1000 - max_age_days * _DAY_MS) if max_age_days else None
    if max_revisions:
        db.execute(
            "DELETE FROM revisions WHERE tenant_id = ? AND revision <= ?",
            (tenant_id, current - max_revisions),
        )
    if cutoff_ms is not None:
        db.execute(
            "DELETE FROM revisions WHERE tenant_id = ? AND revision < ? AND entry_id IN "
            "(SELECT id FROM entries WHERE tenant_id = ? AND created_ms < ?)",
            (tenant_id, current, tenant_id, cutoff_ms),
        )
    return db.execute(
        "DELETE FROM entries WHERE tenant_id = :t "
        "AND id NOT IN (SELECT entry_id FROM revisions WHERE tenant_id = :t) AND ("
        "id < (SELECT MIN(entry_id) FROM revisions WHERE tenant_id = :t) "
        "OR created_ms < :cutoff)",
        {"t": tenant_id, "cutoff": cutoff_ms},
    ).rowcount
