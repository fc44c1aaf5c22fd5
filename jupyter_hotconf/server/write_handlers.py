"""Write-back over REST: ``PATCH``/``PUT``/``DELETE tenants/{t}`` and ``GET tenants/{t}?view=
document`` — the request logic both apps share (docs/write-back.md).

A write is conditional (``If-Match`` = the checksum of ``GET tenants/{t}``) and atomic
against every other writer: the per-tenant lock of this process, then the tenant's
cross-process ``flock`` (``core/writelock.py``), under which the precondition is checked
against the file on disk, the new document validated, written and recorded. Then the
handler waits — the ``flock`` released, the in-process lock still held — until the watcher
has applied the written content, so the answer's revision is already broadcast
(``source: "api"``, ``actor``). A refusal writes nothing and broadcasts nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tornado.web import HTTPError

from ..core.documents import JSONObject, canonical_json
from ..core.errors import HistoryUnavailable, InvalidDocument, WriteFailed
from ..core.history_types import Source
from ..core.patching import BadPatch, PatchConflict, apply_json_patch, merge_patch
from ..core.writelock import Current, LockFailed, TenantLock, etag_matches, read_current
from ..core.writer import PendingWrite, prepare_write, remove_document
from .history_handlers import HistoryLogic
from .writes import WriteTimeout

log = logging.getLogger(__name__)

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
JSON = "application/json"


class Refused(Exception):
    """A refusal decided on an I/O thread: the status and the JSON body to answer with."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


@dataclass(frozen=True)
class _Plan:
    """A write decided under the locks: the pending file (None: delete it), or nothing to
    do because the content is already in force (``unchanged``)."""

    pending: PendingWrite | None
    document: JSONObject | None
    unchanged: dict[str, Any] | None = None
    # A new document whose merged config is the one on disk (it sets a default's value):
    # written, but no watcher change will come to wait for.
    same_config: bool = False


def _refuse(status: int, message: str, **extra: Any) -> Refused:
    return Refused(status, {"message": message, "reason": message, **extra})


def _invalid(err: InvalidDocument) -> Refused:
    return _refuse(422, str(err), error=err.to_dict())


class TenantWriteLogic(HistoryLogic):
    """The tenant resource's writes, and its ``view=document`` read."""

    def actor(self) -> str | None:
        """Who writes: the Jupyter user name, or what the standalone server knows."""
        raise NotImplementedError

    # -- reading ------------------------------------------------------------------------------
    async def serve_view(self, raw: str) -> None:
        """``GET tenants/{t}``: the merged config (``TenantLogic``), or with ``view=document``
        the tenant's own document."""
        handler: Any = self
        view = handler.get_query_argument("view", "config")
        if view == "document":
            await self.serve_document(raw)
        elif view == "config":
            handler.serve(raw)
        else:
            raise HTTPError(400, f"view must be config or document, got {view!r}")

    async def serve_document(self, raw: str) -> None:
        """``GET tenants/{t}?view=document`` → ``{"tenant_id", "revision", "checksum",
        "valid", "error", "document"}``: the file's parsed content, without defaults."""
        tenant_id = self.tenant_id(raw)
        settings = self.engine.settings
        current: Current = await self.run(lambda: read_current(
            self.engine.config_dir, tenant_id, max_file_bytes=settings.max_file_bytes))
        if not current.exists:
            raise HTTPError(404, f"no config file for tenant {tenant_id!r}")
        state = self.engine.store.get(tenant_id)
        digest = current.checksum or (state.checksum if state is not None else None)
        handler: Any = self
        if digest:
            handler.set_header("ETag", f'"{digest}"')
        self.send_json({
            "tenant_id": tenant_id, "revision": self._revision(tenant_id, digest),
            "checksum": digest, "valid": current.error is None,
            "error": current.error.to_dict() if current.error is not None else None,
            "document": current.document,
        })

    # -- the three writes --------------------------------------------------------------------
    async def patch_tenant(self, raw: str) -> None:
        tenant_id = self._writable(raw)
        kind = self._content_type((MERGE_PATCH, JSON_PATCH))
        body = self._body()
        if kind == MERGE_PATCH and not isinstance(body, dict):
            raise HTTPError(422, "a merge patch must be a JSON object, got "
                                 f"{type(body).__name__}")
        if_match = self._required_if_match("PATCH")

        def decide(current: Current, fallback: str | None) -> _Plan:
            self._check_exists(tenant_id, current)
            self._check_match(tenant_id, current, fallback, if_match)
            if current.document is None:  # the file cannot be parsed: nothing to patch
                assert current.error is not None
                raise _refuse(409, f"the tenant's file is invalid ({current.error}); replace "
                                   "the whole document with PUT", error=current.error.to_dict())
            try:
                document = (merge_patch(current.document, body) if kind == MERGE_PATCH
                            else apply_json_patch(current.document, body))
            except PatchConflict as err:
                raise _refuse(409, str(err)) from None
            except BadPatch as err:
                raise _refuse(422, str(err)) from None
            return self._prepare(tenant_id, current, document)

        await self._write(tenant_id, decide)

    async def put_tenant(self, raw: str) -> None:
        tenant_id = self._writable(raw)
        self._content_type((JSON,))
        document = self._body()
        if not isinstance(document, dict):
            raise HTTPError(422, "the document must be a JSON object (key: value pairs), got "
                                 f"{type(document).__name__}")
        headers = self.request.headers
        if_match, create = headers.get("If-Match"), headers.get("If-None-Match") == "*"

        def decide(current: Current, fallback: str | None) -> _Plan:
            if create:
                if current.exists:
                    raise self._stale(tenant_id, current, fallback,
                                      f"tenant {tenant_id!r} exists (If-None-Match: *)")
            elif if_match is not None:
                self._check_match(tenant_id, current, fallback, if_match)
            elif current.exists:
                raise _refuse(428, f"tenant {tenant_id!r} exists: PUT over it needs If-Match "
                                   "(the ETag of GET tenants/<t>), or If-None-Match: * to "
                                   "create only")
            return self._prepare(tenant_id, current, document)

        await self._write(tenant_id, decide)

    async def delete_tenant(self, raw: str) -> None:
        tenant_id = self._writable(raw)
        if_match = self._required_if_match("DELETE")

        def decide(current: Current, fallback: str | None) -> _Plan:
            self._check_exists(tenant_id, current)
            self._check_match(tenant_id, current, fallback, if_match)
            return _Plan(None, None)

        await self._write(tenant_id, decide)

    # -- request checks (on the loop, before any I/O) ----------------------------------------
    def _writable(self, raw: str) -> str:
        tenant_id = self.tenant_id(raw)
        if self.engine.settings.read_only:
            raise HTTPError(403, "this server is read-only (read_only setting; the default in "
                                 "mode prod): writes are refused")
        return tenant_id

    def _content_type(self, accepted: tuple[str, ...]) -> str:
        raw = self.request.headers.get("Content-Type", "")
        kind = raw.split(";", 1)[0].strip().lower()
        if kind not in accepted:
            raise HTTPError(415, f"Content-Type {raw or '(none)'!r} is not accepted here; use "
                                 + " or ".join(accepted))
        return kind

    def _body(self) -> Any:
        body, limit = self.request.body or b"", self.engine.settings.max_file_bytes
        if len(body) > limit:
            raise HTTPError(413, f"the body is {len(body)} bytes, over the limit of {limit} "
                                 "(max_file_bytes)")
        try:
            return json.loads(body)
        except ValueError as err:
            raise HTTPError(400, f"the body is not JSON: {err}") from None

    def _required_if_match(self, method: str) -> str:
        value = self.request.headers.get("If-Match")
        if value is None:
            raise HTTPError(428, f"{method} needs If-Match: \"<checksum>\" (the ETag of GET "
                                 "tenants/<t>), so a change made meanwhile is not overwritten")
        return value

    # -- on the I/O thread, under the locks --------------------------------------------------
    @staticmethod
    def _check_exists(tenant_id: str, current: Current) -> None:
        if not current.exists:
            raise _refuse(404, f"no config file for tenant {tenant_id!r}")

    def _check_match(self, tenant_id: str, current: Current, fallback: str | None,
                     if_match: str) -> None:
        if not current.exists:
            raise self._stale(tenant_id, current, None,
                              f"tenant {tenant_id!r} has no file (If-Match {if_match})")
        # An invalid file has no checksum of its own: the config in force (its ETag) counts.
        if not etag_matches(if_match, current.checksum or fallback):
            raise self._stale(tenant_id, current, fallback,
                              f"If-Match {if_match} is not the current checksum")

    def _stale(self, tenant_id: str, current: Current, fallback: str | None,
               why: str) -> Refused:
        digest = current.checksum or fallback
        revision = self._revision(tenant_id, digest)
        return _refuse(412, f"{why}: tenant {tenant_id!r} changed meanwhile, now revision "
                            f"{revision} ({digest})", tenant_id=tenant_id, revision=revision,
                       checksum=digest)

    def _revision(self, tenant_id: str, digest: str | None) -> int:
        """The revision of ``digest``: the store's when it agrees, else the history's (another
        process wrote it and this watcher has not applied it yet)."""
        state = self.engine.store.get(tenant_id)
        if state is not None and state.checksum == digest:
            return state.revision
        history = self.engine.recording.history
        if history is not None:
            try:
                last = history.last(tenant_id)
            except HistoryUnavailable:
                last = None
            if last is not None and last.checksum == digest:
                return last.revision
        return state.revision if state is not None else 0

    def _prepare(self, tenant_id: str, current: Current, document: Any) -> _Plan:
        if not isinstance(document, dict):
            raise _refuse(422, "the patched document must be a JSON object, got "
                               f"{type(document).__name__}")
        limit = self.engine.settings.max_file_bytes
        size = len(json.dumps(document, separators=(",", ":")).encode())
        if size > limit:
            raise _refuse(413, f"the document would be at least {size} bytes, over the limit "
                               f"of {limit} (max_file_bytes)")
        try:
            pending = prepare_write(self.engine.config_dir, tenant_id, document,
                                    max_file_bytes=limit)
        except InvalidDocument as err:
            raise _invalid(err) from None
        if current.checksum is not None and pending.checksum == current.checksum:
            answer = self._answer(tenant_id, self._revision(tenant_id, pending.checksum),
                                  pending.checksum)
            if canonical_json(document) == canonical_json(current.document):
                return _Plan(pending, document, unchanged=answer)  # nothing to write
            return _Plan(pending, document, unchanged=answer, same_config=True)
        return _Plan(pending, document)

    @staticmethod
    def _answer(tenant_id: str, revision: int, digest: str | None) -> dict[str, Any]:
        return {"tenant_id": tenant_id, "revision": revision, "checksum": digest}

    async def _write(self, tenant_id: str,
                     decide: Callable[[Current, str | None], _Plan]) -> None:
        engine, actor = self.engine, self.actor()
        lock = engine.write_lock(tenant_id)  # across processes (or servers, in Redis)
        async with engine.writes.lock(tenant_id):
            state = engine.store.get(tenant_id)
            fallback = state.checksum if state is not None else None
            try:
                plan = await self.run(lambda: self._decide(lock, tenant_id, decide, fallback))
                if plan.unchanged is not None and not plan.same_config:
                    await self.run(lock.release)  # before the answer: the next writer may go
                    self._done(plan.unchanged)
                    return
                digest = plan.pending.checksum if plan.pending is not None else None
                if plan.unchanged is None:
                    engine.recording.expect(tenant_id, digest, Source.API, actor)
                    waiter = engine.writes.waiter(tenant_id, digest)
                    if engine.shared is not None:  # the group's leader records it
                        await engine.shared.expect(tenant_id, digest, Source.API.value, actor)
                try:
                    await self.run(lambda: self._commit(lock, tenant_id, plan, actor))
                except WriteFailed as err:
                    if plan.unchanged is None:
                        engine.writes.discard(tenant_id, digest, waiter)
                        engine.recording.forget(tenant_id, digest)
                    log.error("hotconf: write of tenant %s failed: %s", tenant_id, err)
                    raise HTTPError(500, f"{err}; the file is unchanged") from None
            except Refused as refusal:
                self.send_json(refusal.body, refusal.status)
                return
            except LockFailed as err:
                raise HTTPError(503, str(err)) from None
            finally:
                # On the I/O thread: a group's Redis lock is released through the loop, which
                # would wait on itself here (the lock then only expired, 5 s later).
                await self.run(lock.release)
            if plan.unchanged is not None:  # written, but the config in force is the same
                self._done(plan.unchanged)
                return
            try:
                change = await engine.writes.wait(waiter, tenant_id, digest,
                                                  engine.settings.write_timeout_s)
            except WriteTimeout as err:
                engine.recording.forget(tenant_id, digest)
                self.send_json({"message": str(err), "reason": str(err), "tenant_id": tenant_id,
                                "checksum": digest}, 504)
                return
        log.info("hotconf: tenant %s written through the API by %s: revision %d",
                 tenant_id, actor or "anonymous", change.revision)
        self._done(self._answer(tenant_id, change.revision, change.checksum))

    def _done(self, body: dict[str, Any]) -> None:
        if body["checksum"]:
            self.set_header("ETag", f'"{body["checksum"]}"')  # type: ignore[attr-defined]
        self.send_json(body)

    def _decide(self, lock: TenantLock, tenant_id: str,
                decide: Callable[[Current, str | None], _Plan], fallback: str | None) -> _Plan:
        """I/O thread: take the cross-process lock, read the file, decide. The lock stays
        held for ``_commit`` unless this raises."""
        lock.acquire(self.engine.settings.write_timeout_s)
        try:
            current = read_current(self.engine.config_dir, tenant_id,
                                   max_file_bytes=self.engine.settings.max_file_bytes)
            return decide(current, fallback)
        except BaseException:
            lock.release()
            raise

    def _commit(self, lock: TenantLock, tenant_id: str, plan: _Plan, actor: str | None) -> None:
        """I/O thread: write (or delete) and record it as ``api`` before the lock is released,
        so another process that sees the file finds who wrote it."""
        try:
            if plan.pending is not None:
                plan.pending.commit()
                config, file = plan.pending.config, plan.pending.file
            else:
                remove_document(self.engine.config_dir, tenant_id)
                config, file = None, None
            history = self.engine.recording.history
            if history is not None:
                try:
                    history.record(tenant_id, config, document=plan.document,
                                   source=Source.API, actor=actor, file=file)
                except HistoryUnavailable as exc:  # the watcher records it, as a file edit
                    log.error("hotconf: cannot record the write of %s: %s", tenant_id, exc)
        finally:
            lock.release()
