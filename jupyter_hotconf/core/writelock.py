"""The cross-process write lock of a tenant, and the tenant's current state read under it.

Writers of one config dir — servers, ``jupyter-hotconf set --config-dir``, kernels in local
mode — may be separate processes, each with its own idea of the revision in force. So a
conditional write (``If-Match``) is checked against the **file on disk** while holding an
advisory ``flock`` on ``<history database>.locks/<tenant>.lock``, and the file is written
before the lock is released: no two writers can both pass the check. The history database
path is the ``history`` setting or, when that is empty or ``none``, the default
``<jupyter data dir>/hotconf/history-<12 hex>.sqlite`` — so every process on one config dir
with default settings meets at one lock file (docs/write-back.md). ``flock`` is advisory
and POSIX; on Windows the lock is a no-op, and only the in-process lock applies.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .documents import DEFAULT_MAX_FILE_BYTES, JSONObject
from .errors import HotconfError, InvalidDocument
from .history import default_history_path
from .tenants import validate_tenant_id
from .writer import prepare_write, read_own_document

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["Current", "LockFailed", "TenantLock", "etag_matches", "lock_dir", "read_current",
           "tenant_lock"]

LOCK_POLL_S = 0.005


class LockFailed(HotconfError):
    """The lock file could not be opened, or another writer held it past the timeout."""


def lock_dir(config_dir: str | Path, history: str | Path | None,
             data_dir: str | Path) -> Path:
    """``<history>.locks``: beside the history database (the default one when ``history``
    is None or off), so every process sharing a history shares the locks."""
    base = Path(history) if history else default_history_path(config_dir, data_dir)
    return base.with_name(base.name + ".locks")


class TenantLock:
    """An advisory ``flock`` on one tenant's lock file. Not reentrant; one holder per
    instance. Separate instances exclude each other, in one process or several."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, timeout_s: float | None = None) -> None:
        """Block until held (at most ``timeout_s``, then ``LockFailed``)."""
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LockFailed(f"cannot open the write lock {self.path}: "
                             f"{exc.strerror or exc}") from None
        if fcntl is None:  # pragma: no cover - Windows
            self._fd = fd
            return
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline else 0))
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise LockFailed(f"the write lock {self.path} is held by another "
                                         f"writer for more than {timeout_s:g}s") from None
                    time.sleep(LOCK_POLL_S)  # paces a retry, bounded by the deadline
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor releases the flock

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> TenantLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def tenant_lock(config_dir: str | Path, tenant_id: str, *, history: str | Path | None,
                data_dir: str | Path) -> TenantLock:
    """The write lock of ``tenant_id`` in ``config_dir`` (see the module docstring)."""
    tenant_id = validate_tenant_id(tenant_id)
    return TenantLock(lock_dir(config_dir, history, data_dir) / f"{tenant_id}.lock")


@dataclass(frozen=True)
class Current:
    """A tenant's file as it is on disk now.

    ``exists``: it has a file. ``document``: the file parsed (None when missing or
    unparsable). ``checksum``: of the merged config that file makes (None when missing or
    invalid). ``error``: why the file is invalid, if it is.
    """

    exists: bool
    document: JSONObject | None
    checksum: str | None
    error: InvalidDocument | None = None


def read_current(config_dir: str | Path, tenant_id: str, *,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Current:
    """Read, merge and validate the tenant's file exactly as the watcher does (hold the
    tenant's lock for a result that stays true)."""
    try:
        document = read_own_document(config_dir, tenant_id, max_file_bytes=max_file_bytes)
    except InvalidDocument as err:
        return Current(True, None, None, err)
    if document is None:
        return Current(False, None, None)
    try:
        pending = prepare_write(config_dir, tenant_id, document, max_file_bytes=max_file_bytes)
    except InvalidDocument as err:
        return Current(True, document, None, err)
    return Current(True, document, pending.checksum)


def etag_matches(header: str, checksum: str | None) -> bool:
    """Whether an ``If-Match`` value names ``checksum`` (``*``: any existing content)."""
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")]
    return checksum is not None and ("*" in tags or checksum in tags)
