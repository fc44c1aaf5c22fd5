"""How a history commit reaches the disk, and when a lost tail must change the epoch.

A change waits for its history commit before it is broadcast, so the commit is on the path
of every change's latency. In WAL mode with ``synchronous = NORMAL`` a commit is in the
database when it returns — every process sees it, and a crash of the process keeps it (the
page cache has it) — and reaches the disk at the next checkpoint, without an ``fsync`` per
change (that ``fsync`` was most of what history added to a change: docs/benchmarks.md).

What ``NORMAL`` can lose is the unsynced tail of the WAL, and only to a power loss or a
crash of the machine. The database would then be behind revisions already broadcast, and
numbering new content with those revisions under the same epoch would make clients drop
the next real change as a duplicate. So the epoch changes when that may have happened: the
WAL was left behind (a clean close checkpoints it and removes it; only a writer that never
closed leaves it) by another boot of the machine. A killed process leaves its WAL too, but
on the same boot nothing was lost: the epoch stays, and numbering goes on.

Where no boot id can be read (not Linux), commits stay ``synchronous = FULL``: an ``fsync``
each, nothing to lose. docs/history.md, "Crash safety".
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

#: Linux: a random id, new at every boot of the kernel (tests point it at a file of theirs).
BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str | None:
    """This boot's id, or None when the system has none to read."""
    try:
        return BOOT_ID_PATH.read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def wal_left(path: Path) -> bool:
    """Whether ``path``'s write-ahead log holds frames (read before opening the database:
    a clean close leaves none)."""
    try:
        return Path(f"{path}-wal").stat().st_size > 0
    except OSError:
        return False


def synchronous_mode(boot: str | None) -> str:
    """``NORMAL`` where a lost tail can be told from the boot id, else ``FULL``."""
    return "NORMAL" if boot is not None else "FULL"


def settle_epoch(db: sqlite3.Connection, boot: str | None, left: bool, path: Path) -> None:
    """Keep the boot id of the database's last opener in ``meta``, and give the database a
    new epoch when its WAL was ``left`` by an earlier boot (its tail may be gone). Decided
    in one write transaction, so of processes opening at once only the first rotates."""
    if boot is None or _stored_boot(db) == boot:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        stored = _stored_boot(db)
        if stored != boot:
            if left and stored is not None:
                epoch = secrets.token_hex(8)
                db.execute("UPDATE meta SET value = ? WHERE key = 'epoch'", (epoch,))
                log.warning(
                    "history database %s: left open by an earlier boot of this machine, so "
                    "its last commits may be lost; new epoch %s (clients resync)", path, epoch,
                )
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('boot_id', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (boot,),
            )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _stored_boot(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = 'boot_id'").fetchone()
    return None if row is None else str(row[0])
