"""The history of a Redis group (docs/scale-out.md, docs/history.md): what the leader's
publish script keeps, and how every server of the group serves it.

The script (``redis_scripts.PUBLISH``) appends one entry per change to the stream
``<ns>:history:<t>`` — with, for a revision, the merged config, the tenant's own document,
its file and the previous revision's config — and indexes each revision's entry id in
``<ns>:revisions:<t>``, in the same atomic step that assigns the revision. Any server, leader
or follower, reads them here on a connection of its own (never the broker's fenced one, so
a slow read cannot cost a lease).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..core.documents import JSONObject
from ..core.errors import HistoryUnavailable, UnknownRevision
from ..core.history_types import HistoryEntry, LastRevision, Revision, RevisionDiff, Source
from ..core.loading import LoadResult
from ..core.store import Change, ChangeType, ConfigStore, TenantState, diff, freeze
from .redis_scripts import HistoryArgs, Keys
from .settings import HotConfSettings

_REVISION_KINDS = (ChangeType.CREATED.value, ChangeType.MODIFIED.value, ChangeType.DELETED.value)


class DocumentMemo:
    """The ``RevisionSource`` of a Redis server's own file store: it numbers nothing, but
    keeps each tenant's document and file as last loaded valid, so the leader's publish can
    store them with the revision (a rollback writes the document back)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[str | None, JSONObject | None, str | None]] = {}

    def __call__(self, change: Change, result: LoadResult) -> None:
        if result.error is None:  # an invalid file leaves the last valid document
            with self._lock:
                self._loaded[change.tenant_id] = (change.checksum, result.document, result.file)

    def history_args(self, state: TenantState, settings: HotConfSettings) -> HistoryArgs:
        """What the publish of ``state`` keeps in the history."""
        with self._lock:
            digest, document, file = self._loaded.get(state.tenant_id, (None, None, None))
        if digest != state.checksum or not state.valid:
            document, file = None, None
        return HistoryArgs(document, file, settings.history_max_revisions,
                           settings.history_max_age_days,
                           enabled=settings.history.strip().lower() != "none")


def _loads(raw: str | None) -> Any:
    return freeze(json.loads(raw)) if raw else None


def entry_from_fields(tenant_id: str, fields: dict[str, str]) -> HistoryEntry:
    """A history stream entry as ``HistoryStore.history`` gives it (the SQLite shape)."""
    kind = fields["type"]
    number = int(fields.get("revision") or 0)
    error = json.loads(fields["error"]) if fields.get("error") else None
    patch: list[dict[str, Any]] = []
    paths: list[str] = []
    if kind in _REVISION_KINDS:
        patch, paths = diff(_loads(fields.get("prev")), _loads(fields.get("config")))
    invalid = kind == ChangeType.INVALID.value
    return HistoryEntry(
        tenant_id, None if invalid or not number else number, fields.get("timestamp") or "",
        kind, fields.get("source") or Source.WATCHER.value, fields.get("actor") or None,
        None if invalid else fields.get("checksum") or None, list(paths),
        json.loads(json.dumps(patch)), fields.get("file") or None, error,
    )


class RedisHistory:
    """``HistoryBackend`` on the group's Redis streams (see the module docstring)."""

    def __init__(self, settings: HotConfSettings, store: ConfigStore) -> None:
        self.keys = Keys(settings.broker_namespace)
        self._store = store  # the shared state: its epoch is the group's
        self._redis = aioredis.Redis.from_url(
            settings.broker_url, decode_responses=True, socket_timeout=5.0,
            socket_connect_timeout=5.0, client_name="hotconf:history")

    @property
    def epoch(self) -> str:
        return self._store.epoch

    async def _call(self, fn: Any) -> Any:
        try:
            return await fn(self._redis)
        except (RedisError, OSError) as exc:
            raise HistoryUnavailable(f"Redis {self.keys.namespace}:history",
                                     f"{type(exc).__name__}: {exc}") from None

    async def entries(self, tenant_id: str, limit: int,
                      before: int | None) -> list[HistoryEntry]:
        keys = self.keys
        end = "+"
        if before is not None:
            async def bound(r: aioredis.Redis) -> Any:
                return await r.hmget(keys.revisions(tenant_id), ["low", str(before)])
            low, at = await self._call(bound)
            if at is None and low is not None and before <= int(low):
                at = (await self._call(lambda r: r.hget(keys.revisions(tenant_id), low)))
            if at is not None:
                end = f"({at}"
        rows = await self._call(lambda r: r.xrevrange(keys.history(tenant_id), end, "-",
                                                      count=limit))
        return [entry_from_fields(tenant_id, fields) for _id, fields in rows]

    async def _fields(self, tenant_id: str, revision: int) -> dict[str, str] | None:
        keys = self.keys

        async def read(r: aioredis.Redis) -> Any:
            at = await r.hget(keys.revisions(tenant_id), str(revision))
            return await r.xrange(keys.history(tenant_id), at, at) if at else []

        rows = await self._call(read)
        return dict(rows[0][1]) if rows else None

    async def revision(self, tenant_id: str, revision: int) -> Revision | None:
        fields = await self._fields(tenant_id, revision)
        if fields is None:
            return None
        return Revision(tenant_id, revision, fields.get("checksum") or None,
                        fields.get("timestamp") or "", _loads(fields.get("config")),
                        _loads(fields.get("document")))

    async def diff(self, tenant_id: str, a: int, b: int | None) -> RevisionDiff:
        if b is None:
            last = await self.last(tenant_id)
            b = a if last is None else last.revision
        configs = {}
        for n in (a, b):
            fields = await self._fields(tenant_id, n)
            if fields is None:
                raise UnknownRevision(tenant_id, n)
            configs[n] = _loads(fields.get("config"))
        patch, paths = diff(configs[a], configs[b])
        return RevisionDiff(tenant_id, a, b, json.loads(json.dumps(patch)), list(paths))

    async def last(self, tenant_id: str) -> LastRevision | None:
        found = await self._call(lambda r: r.hmget(self.keys.tenant(tenant_id),
                                                   ["revision", "checksum"]))
        revision, checksum = found
        if not revision or revision == "0":
            return None
        return LastRevision(int(revision), checksum or None)

    def record_write(self, tenant_id: str, config: JSONObject | None, *,
                     document: JSONObject | None, source: Source, actor: str | None,
                     file: str | None) -> None:
        """The leader's publish records it (``RedisBroker.expect`` said who wrote it)."""

    async def close(self) -> None:
        await self._redis.aclose()
