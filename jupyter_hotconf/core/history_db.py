"""Open the history database: where it lives, its file modes, WAL, schema version, epoch.

Everything that can go wrong before the first record is turned into a ``HistoryUnavailable``
that says what and where, so a server can log one line and run without history
(docs/history.md). A database written by a newer schema version is refused and left as it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .errors import HistoryUnavailable, HistoryVersionError
from .history_boot import boot_id, settle_epoch, synchronous_mode, wal_left

T = TypeVar("T")

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

# One row per audit entry (revisions, invalid attempts, recoveries); one row per revision
# holding the content, so entries can be listed without reading configs.
_TABLES = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    """CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        revision INTEGER,
        timestamp TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        change_type TEXT NOT NULL,
        source TEXT NOT NULL,
        actor TEXT,
        checksum TEXT,
        changed_paths TEXT NOT NULL,
        patch TEXT NOT NULL,
        file TEXT,
        error TEXT
    )""",
    "CREATE INDEX entries_by_tenant ON entries (tenant_id, id)",
    """CREATE TABLE revisions (
        tenant_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        entry_id INTEGER NOT NULL REFERENCES entries (id),
        checksum TEXT,
        config TEXT,
        document TEXT,
        PRIMARY KEY (tenant_id, revision)
    ) WITHOUT ROWID""",
)


def default_history_path(config_dir: str | os.PathLike[str], data_dir: str | os.PathLike[str]) -> (
    Path
):
    """``<data_dir>/hotconf/history-<12 hex of sha256(realpath(config_dir))>.sqlite``.

    ``data_dir`` is Jupyter's data dir (``jupyter_core.paths.jupyter_data_dir()``), passed in
    so the engine needs no Jupyter import. Every process on one config dir — however it names
    the dir — finds the same file, and a read-only config dir still has history.
    """
    real = os.path.realpath(os.fspath(config_dir))
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return Path(data_dir) / "hotconf" / f"history-{digest}.sqlite"


def unavailable(path: Path, exc: BaseException) -> HistoryUnavailable:
    """A ``HistoryUnavailable`` that says, for a person, what ``exc`` means for the file."""
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        reason = "not a SQLite database (corrupt, or another kind of file)"
    elif isinstance(exc, sqlite3.DatabaseError) and "malformed" in text:
        reason = "the database is corrupt (malformed)"
    elif isinstance(exc, OSError):
        reason = exc.strerror or text
    else:
        reason = text
    return HistoryUnavailable(str(path), reason)


def _ensure_dir(path: Path, directory: Path) -> None:
    """Create the database's directory 0700 (left as it is when it exists)."""
    try:
        if directory.is_dir():  # Python < 3.12 raises here when a parent is not searchable
            return
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
    except OSError as exc:
        raise HistoryUnavailable(
            str(path), f"cannot create its directory {directory}: {exc.strerror or exc}"
        ) from None


def _ensure_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does (SQLite would use 0644 & ~umask);
    its ``-wal``/``-shm`` files copy the mode. Opening it read-write checks permission now."""
    try:
        if path.is_dir():
            raise HistoryUnavailable(str(path), "is a directory, not a database file")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError as exc:
            raise unavailable(path, exc) from None
    except OSError as exc:
        raise unavailable(path, exc) from None
    else:
        os.fchmod(fd, 0o600)
    os.close(fd)


def _create_schema(db: sqlite3.Connection, path: Path) -> None:
    """Create the tables once, in one transaction, so a racing process sees all or nothing."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise HistoryUnavailable(
                    str(path), "is a SQLite database of another program (it has other tables)"
                )
            for statement in _TABLES:
                db.execute(statement)
            db.execute("INSERT INTO meta (key, value) VALUES ('epoch', ?)", (secrets.token_hex(8),))
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _check_version(db: sqlite3.Connection, path: Path) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION or version < 0:
        raise HistoryVersionError(str(path), version, SCHEMA_VERSION)
    if version == 0:
        _create_schema(db, path)
        _check_version(db, path)  # another process may have created a newer one meanwhile


def _wal(db: sqlite3.Connection) -> str:
    """Switch to WAL unless the file is in WAL already (the mode is kept in the file, so only
    its first opener needs the exclusive lock that switching takes)."""
    mode = str(db.execute("PRAGMA journal_mode").fetchone()[0])
    return mode if mode == "wal" else str(db.execute("PRAGMA journal_mode = WAL").fetchone()[0])


def _retry_locked(step: Callable[[], T], timeout_s: float) -> T:
    """Run ``step`` again while another process holds the lock it needs, up to ``timeout_s``.

    Two processes opening a new database at once (a Jupyter server and a local-mode kernel)
    can get "database is locked" at once from switching the journal mode, where SQLite's busy
    timeout does not wait; the pause between tries only paces them."""
    deadline = time.monotonic() + timeout_s
    pause = 0.005
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)


def open_database(path: Path, *, timeout_s: float) -> tuple[sqlite3.Connection, str]:
    """Open (creating if needed) the database at ``path``; return it and its epoch.

    The connection is in autocommit mode (``isolation_level=None``): callers open their own
    ``BEGIN IMMEDIATE`` transactions. ``timeout_s`` bounds the wait for another process's lock.
    """
    path = Path(path)
    _ensure_dir(path, path.parent)
    _ensure_file(path)
    boot, left = boot_id(), wal_left(path)  # before SQLite opens (and rolls) the log
    try:
        db = sqlite3.connect(
            path, timeout=timeout_s, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise unavailable(path, exc) from None
    try:
        mode = _retry_locked(lambda: _wal(db), timeout_s)
        if mode != "wal":
            log.warning("history database %s: WAL unavailable, using %s journal", path, mode)
        # NORMAL: no fsync per commit; a tail lost with the machine changes the epoch
        # (history_boot). Outside WAL, or with no boot id, every commit syncs.
        sync = synchronous_mode(boot if mode == "wal" else None)
        db.execute(f"PRAGMA synchronous = {sync}")
        db.execute("PRAGMA foreign_keys = ON")
        _retry_locked(lambda: _check_version(db, path), timeout_s)
        if sync == "NORMAL":
            _retry_locked(lambda: settle_epoch(db, boot, left, path), timeout_s)
        row = db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
        if row is None:
            raise HistoryUnavailable(str(path), "has no epoch (the database is damaged)")
    except HistoryUnavailable:
        db.close()
        raise
    except (sqlite3.Error, OSError) as exc:
        with contextlib.suppress(sqlite3.Error):
            db.close()
        raise unavailable(path, exc) from None
    return db, str(row[0])
