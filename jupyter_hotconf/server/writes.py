"""Writes through the server, read-your-writes: one write per tenant at a time, and a wait
until the watcher has applied (and the hub broadcast) the written content (docs/history.md).

Lives on the loop thread; file and database work goes to the engine's own small thread pool
(``run``), never the loop. A waiter is registered before the file is written, so the change
cannot be missed however fast the watcher is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from jupyter_core.paths import jupyter_data_dir

from ..core.store import Change, ChangeType
from ..core.writelock import TenantLock, tenant_lock

T = TypeVar("T")

#: The store's changes that say "this content is in force now".
_APPLIED = (ChangeType.CREATED, ChangeType.MODIFIED, ChangeType.DELETED, ChangeType.RECOVERED)


def file_lock(config_dir: Path, history_path: Path | None, tenant_id: str) -> TenantLock:
    """The cross-process write lock of a tenant: beside the history database (the default
    one when history is off), shared with every process on this config dir."""
    return tenant_lock(config_dir, tenant_id, history=history_path, data_dir=jupyter_data_dir())


class WriteTimeout(Exception):
    """The watcher did not apply a written file in time (the file stays written)."""

    def __init__(self, tenant_id: str, checksum: str | None, timeout_s: float) -> None:
        super().__init__(
            f"wrote tenant {tenant_id!r} (checksum {checksum}) but the watcher did not apply "
            f"it within {timeout_s:g}s (write_timeout_s); the file stays written"
        )
        self.tenant_id = tenant_id
        self.checksum = checksum


class WriteCoordinator:
    """Per-tenant write locks, applied-change waiters and the I/O thread pool of one engine."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiters: dict[tuple[str, str | None], list[asyncio.Future[Change]]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def lock(self, tenant_id: str) -> asyncio.Lock:
        """Held around check-then-write of one tenant (the If-Match check stays true)."""
        return self._locks.setdefault(tenant_id, asyncio.Lock())

    async def run(self, fn: Callable[[], T]) -> T:
        """``fn()`` on the engine's I/O threads (SQLite, file writes), not on the loop."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hotconf-io")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def waiter(self, tenant_id: str, checksum: str | None) -> asyncio.Future[Change]:
        """A future resolved with the change that puts ``checksum`` in force for the tenant."""
        future: asyncio.Future[Change] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault((tenant_id, checksum), []).append(future)
        return future

    def discard(self, tenant_id: str, checksum: str | None,
                future: asyncio.Future[Change]) -> None:
        waiters = self._waiters.get((tenant_id, checksum), [])
        with contextlib.suppress(ValueError):
            waiters.remove(future)
        if not waiters:
            self._waiters.pop((tenant_id, checksum), None)

    async def wait(self, future: asyncio.Future[Change], tenant_id: str,
                   checksum: str | None, timeout_s: float) -> Change:
        """The applied change, or ``WriteTimeout`` after ``timeout_s``."""
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout_s)
        except asyncio.TimeoutError:
            raise WriteTimeout(tenant_id, checksum, timeout_s) from None
        finally:
            self.discard(tenant_id, checksum, future)

    def applied(self, change: Change) -> None:
        """Called on the loop thread after ``change`` was broadcast."""
        if change.change_type not in _APPLIED:
            return
        for future in self._waiters.pop((change.tenant_id, change.checksum), []):
            if not future.done():
                future.set_result(change)

    def close(self) -> None:
        for waiters in self._waiters.values():
            for future in waiters:
                future.cancel()
        self._waiters.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
