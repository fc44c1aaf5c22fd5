"""The one interface the history routes use (docs/history.md), whichever store keeps it:
the SQLite database of a standalone or Jupyter server (``SqliteHistory``), or the Redis
streams of a group (``redis_history.RedisHistory``, docs/scale-out.md).

Reads are coroutines: the SQLite adapter runs them on the engine's I/O threads, the Redis
one awaits its own connection on the loop. ``record_write`` runs on an I/O thread right after
a rollback wrote the file: SQLite records it at once (another process on the same dir finds
the cause); in a group the leader's publish records it, so the Redis one does nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from ..core.documents import JSONObject
from ..core.history import HistoryStore
from ..core.history_types import HistoryEntry, LastRevision, Revision, RevisionDiff, Source

T = TypeVar("T")
Run = Callable[[Callable[[], Any]], Awaitable[Any]]


class HistoryBackend(Protocol):
    """Entries, revisions, diffs and the latest revision of a tenant."""

    @property
    def epoch(self) -> str:
        """The epoch the revisions belong to."""
        ...

    async def entries(self, tenant_id: str, limit: int,
                      before: int | None) -> list[HistoryEntry]:
        """Newest first; ``before=n``: the entries older than revision n."""
        ...

    async def revision(self, tenant_id: str, revision: int) -> Revision | None:
        """Revision ``revision`` with its config and document; None if unknown or pruned."""
        ...

    async def diff(self, tenant_id: str, a: int, b: int | None) -> RevisionDiff:
        """From ``a`` to ``b`` (the current revision when None); ``UnknownRevision``."""
        ...

    async def last(self, tenant_id: str) -> LastRevision | None:
        """The tenant's latest revision and checksum."""
        ...

    def record_write(self, tenant_id: str, config: JSONObject | None, *,
                     document: JSONObject | None, source: Source, actor: str | None,
                     file: str | None) -> None:
        """A write through the server has just put ``config`` in the tenant's file."""
        ...

    async def close(self) -> None: ...


class SqliteHistory:
    """``HistoryBackend`` over a ``HistoryStore``, its calls on ``run``'s threads."""

    def __init__(self, store: HistoryStore, run: Run) -> None:
        self.store = store
        self._run = run

    @property
    def epoch(self) -> str:
        return self.store.epoch

    async def entries(self, tenant_id: str, limit: int,
                      before: int | None) -> list[HistoryEntry]:
        result: list[HistoryEntry] = await self._run(
            lambda: self.store.history(tenant_id, limit, before))
        return result

    async def revision(self, tenant_id: str, revision: int) -> Revision | None:
        result: Revision | None = await self._run(
            lambda: self.store.revision(tenant_id, revision))
        return result

    async def diff(self, tenant_id: str, a: int, b: int | None) -> RevisionDiff:
        result: RevisionDiff = await self._run(lambda: self.store.diff(tenant_id, a, b))
        return result

    async def last(self, tenant_id: str) -> LastRevision | None:
        result: LastRevision | None = await self._run(lambda: self.store.last(tenant_id))
        return result

    def record_write(self, tenant_id: str, config: JSONObject | None, *,
                     document: JSONObject | None, source: Source, actor: str | None,
                     file: str | None) -> None:
        self.store.record(tenant_id, config, document=document, source=source, actor=actor,
                          file=file)

    async def close(self) -> None:
        """The engine's recording closes the database."""


def open_backend(engine: Any) -> HistoryBackend | None:
    """The history of ``engine``: its SQLite database, the group's Redis streams, or none
    (``engine.recording.error`` says why)."""
    if engine.recording.history is not None:
        return SqliteHistory(engine.recording.history, engine.writes.run)
    if engine.shared is not None and engine.recording.redis_history:
        from .redis_history import RedisHistory  # imports redis: only with a broker_url

        return RedisHistory(engine.settings, engine.store)
    return None
