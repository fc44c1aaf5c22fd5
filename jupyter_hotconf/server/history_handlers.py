"""History, revisions, diff and rollback over REST: the request logic both apps share
(docs/history.md, "REST"). Each app puts it behind its own thin, authenticating base.

The history is the engine's ``HistoryBackend`` (``history_backend.py``): the SQLite
database, or a Redis group's streams, so nothing here branches on where it lives. Database
reads and file writes run on the engine's I/O threads (``WriteCoordinator.run``), never on
the loop. History off or unusable → 503 with the reason (the same one ``GET info`` gives); a
rollback on a read-only server → 403.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from tornado.web import HTTPError

from ..core.documents import JSONObject
from ..core.errors import (
    HistoryUnavailable,
    InvalidDocument,
    UnknownRevision,
    WriteFailed,
)
from ..core.history_types import Revision, Source
from ..core.writelock import Current, LockFailed, etag_matches, read_current
from ..core.writer import PendingWrite, prepare_write
from .handlers import HotconfLogic
from .history_backend import HistoryBackend
from .writes import WriteTimeout

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


class HistoryLogic(HotconfLogic):
    """What the history routes share: the history and query integers."""

    def history(self) -> HistoryBackend:
        history: HistoryBackend | None = self.engine.history
        if history is None:
            raise HTTPError(503, f"no history: {self.engine.recording.error}")
        return history

    async def read(self, coro: Any) -> Any:
        """Await a history read; an unusable store answers 503 saying why."""
        try:
            return await coro
        except HistoryUnavailable as err:
            raise HTTPError(503, f"no history: {err}") from None

    def int_argument(self, name: str, default: int | None, *, minimum: int = 1) -> int | None:
        handler: Any = self
        raw = handler.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise HTTPError(400, f"{name} must be an integer >= {minimum}, got {raw!r}")
        return value

    async def run(self, fn: Any) -> Any:
        return await self.engine.writes.run(fn)


class TenantHistoryLogic(HistoryLogic):
    """``GET api/tenants/{t}/history?limit=50&before=<rev>`` → ``{"tenant_id", "epoch",
    "entries"}``, newest first, without configs."""

    async def serve(self, raw: str) -> None:
        tenant_id = self.tenant_id(raw)
        history = self.history()
        limit = min(self.int_argument("limit", DEFAULT_LIMIT) or DEFAULT_LIMIT, MAX_LIMIT)
        before = self.int_argument("before", None)
        entries = await self.read(history.entries(tenant_id, limit, before))
        if not entries and before is None and self.engine.store.get(tenant_id) is None:
            raise HTTPError(404, f"no history for tenant {tenant_id!r}")
        self.send_json({"tenant_id": tenant_id, "epoch": history.epoch,
                        "entries": [entry.to_dict() for entry in entries]})


class RevisionLogic(HistoryLogic):
    """``GET api/tenants/{t}/revisions/{n}`` → the revision with its config and document;
    ``ETag`` = its checksum; 404 for an unknown or pruned revision."""

    async def serve(self, raw: str, raw_revision: str) -> None:
        tenant_id = self.tenant_id(raw)
        history = self.history()
        number = _revision_number(raw_revision)
        revision: Revision | None = await self.read(history.revision(tenant_id, number))
        if revision is None:
            raise HTTPError(404, str(UnknownRevision(tenant_id, number)))
        handler: Any = self
        if revision.checksum:
            handler.set_header("ETag", f'"{revision.checksum}"')
            if handler.check_etag_header():
                handler.set_status(304)
                handler.finish()
                return
        self.send_json(revision.to_dict())


class DiffLogic(HistoryLogic):
    """``GET api/tenants/{t}/diff?from=a&to=b`` (``to``: the current revision) →
    ``{"from", "to", "patch", "changed_paths"}``."""

    async def serve(self, raw: str) -> None:
        tenant_id = self.tenant_id(raw)
        history = self.history()
        start = self.int_argument("from", None)
        if start is None:
            raise HTTPError(400, "from=<revision> is required")
        end = self.int_argument("to", None)
        try:
            result = await self.read(history.diff(tenant_id, start, end))
        except UnknownRevision as err:
            raise HTTPError(404, str(err)) from None
        self.send_json(result.to_dict())


@dataclass(frozen=True)
class _Plan:
    """A rollback ready to be written: the stored revision and its rendered, validated file."""

    revision: Revision
    pending: PendingWrite


class RollbackLogic(HistoryLogic):
    """``POST api/tenants/{t}/rollback`` ``{"revision": n}`` (optional ``If-Match``): write
    revision n's document back through the writer in the file's current format, wait until
    the watcher applied it, answer ``{"revision", "checksum", "rolled_back_to", "changed"}``.
    A rollback is a new revision (``source: "rollback"``), never a rewrite of history."""

    def actor(self) -> str | None:
        """Who asked: the Jupyter user name, or what the standalone server knows."""
        raise NotImplementedError

    async def serve(self, raw: str) -> None:
        tenant_id = self.tenant_id(raw)
        if self.engine.settings.read_only:
            raise HTTPError(403, "this server is read-only (read_only setting; the default in "
                                 "mode prod): rollback refused")
        history = self.history()
        number = _body_revision(self.request.body)
        engine, actor = self.engine, self.actor()
        # The same locks as every write: this process's, then the cross-process one (a flock,
        # or in a Redis group the group's lock).
        lock = engine.write_lock(tenant_id)
        async with engine.writes.lock(tenant_id):
            try:
                await self.run(lambda: lock.acquire(engine.settings.write_timeout_s))
            except LockFailed as err:
                raise HTTPError(503, str(err)) from None
            try:
                if not await self._if_match(tenant_id, history):
                    return
                revision = await self.read(history.revision(tenant_id, number))
                plan = await self.run(lambda: self._plan(revision, tenant_id, number))
                if isinstance(plan, InvalidDocument):  # invalid under today's defaults/schema
                    self.send_json({"message": str(plan), "reason": str(plan),
                                    "error": plan.to_dict()}, 422)
                    return
                pending = plan.pending
                state = engine.store.get(tenant_id)
                if state is not None and state.valid and state.checksum == pending.checksum:
                    self.send_json({"revision": state.revision, "checksum": state.checksum,
                                    "rolled_back_to": number, "changed": False})
                    return
                engine.recording.expect(tenant_id, pending.checksum, Source.ROLLBACK, actor)
                waiter = engine.writes.waiter(tenant_id, pending.checksum)
                if engine.shared is not None:  # the group's leader records it as ours
                    await engine.shared.expect(tenant_id, pending.checksum,
                                               Source.ROLLBACK.value, actor)
                try:
                    await self.run(lambda: self._commit(history, plan, actor))
                except WriteFailed as err:
                    engine.writes.discard(tenant_id, pending.checksum, waiter)
                    engine.recording.forget(tenant_id, pending.checksum)
                    raise HTTPError(500, str(err)) from None
            finally:
                await self.run(lock.release)  # a Redis lock's release waits on the loop
            try:
                change = await engine.writes.wait(
                    waiter, tenant_id, pending.checksum, engine.settings.write_timeout_s)
            except WriteTimeout as err:
                engine.recording.forget(tenant_id, pending.checksum)
                self.send_json({"message": str(err), "reason": str(err),
                                "checksum": pending.checksum}, 504)
                return
        log.info("hotconf: tenant %s rolled back to revision %d as revision %d by %s",
                 tenant_id, number, change.revision, actor or "anonymous")
        self.send_json({"revision": change.revision, "checksum": change.checksum,
                        "rolled_back_to": number, "changed": change.is_wire_change})

    async def _if_match(self, tenant_id: str, history: HistoryBackend) -> bool:
        """``If-Match`` against the file on disk (read under the locks; an invalid file counts
        as the config in force); a mismatch answers 412 with the current state and returns
        False."""
        wanted = self.request.headers.get("If-Match")
        if wanted is None:
            return True
        state = self.engine.store.get(tenant_id)
        settings = self.engine.settings
        on_disk: Current = await self.run(lambda: read_current(
            self.engine.config_dir, tenant_id, max_file_bytes=settings.max_file_bytes))
        current = on_disk.checksum or (state.checksum if state is not None else None)
        if etag_matches(wanted, current):
            return True
        last = await self.read(history.last(tenant_id))
        revision = state.revision if state is not None else 0
        if last is not None and last.checksum == current and current is not None:
            revision = last.revision
        self.send_json({"tenant_id": tenant_id, "revision": revision, "checksum": current,
                        "message": f"If-Match {wanted} does not match the current checksum "
                                   f"{current}", "reason": "precondition failed"}, 412)
        return False

    def _plan(self, revision: Revision | None, tenant_id: str, number: int) -> (
        _Plan | InvalidDocument
    ):
        """Runs on an I/O thread: the stored document, rendered and validated for the file."""
        if revision is None:
            raise HTTPError(404, str(UnknownRevision(tenant_id, number)))
        if revision.config is None:
            raise HTTPError(409, f"revision {number} of tenant {tenant_id!r} is a deletion; "
                                 "there is no document to roll back to")
        if revision.document is None:
            raise HTTPError(409, f"revision {number} of tenant {tenant_id!r} has no stored "
                                 "document to roll back to")
        document: JSONObject = revision.document
        try:
            pending = prepare_write(self.engine.config_dir, tenant_id, document,
                                    max_file_bytes=self.engine.settings.max_file_bytes)
        except InvalidDocument as err:
            return err
        return _Plan(revision, pending)

    @staticmethod
    def _commit(history: HistoryBackend, plan: _Plan, actor: str | None) -> None:
        """Runs on an I/O thread: write the file, then record it as ``rollback`` at once, so
        another process on the same dir finds the cause when it sees the file (in a group
        the leader's publish records it, as the expectation says)."""
        pending = plan.pending
        pending.commit()
        history.record_write(pending.tenant_id, pending.config,
                             document=plan.revision.document, source=Source.ROLLBACK,
                             actor=actor, file=pending.file)


def _revision_number(raw: str) -> int:
    try:
        number = int(raw)
    except ValueError:
        number = 0
    if number < 1:
        raise HTTPError(400, f"revision must be an integer >= 1, got {raw!r}")
    return number


def _body_revision(body: bytes) -> int:
    try:
        value = json.loads(body or b"null")
    except ValueError as err:
        raise HTTPError(400, f"the body is not JSON: {err}") from None
    number = value.get("revision") if isinstance(value, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise HTTPError(400, 'the body must be {"revision": <integer >= 1>}')
    return number
