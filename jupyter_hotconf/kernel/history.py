"""A tenant's history from a notebook: ``cfg.history()``, ``cfg.at(n)``, ``cfg.diff(a, b)``,
``cfg.rollback(n)`` (``docs/kernel.md``, history; what is recorded: ``docs/history.md``).

Two backends with one interface. ``RestHistory`` asks the server a provider follows
(``GET api/tenants/<t>/history|revisions/<n>|diff``, ``POST …/rollback``). ``LocalHistory``
reads the same SQLite database a server on that config dir would use (``core.history``) and
rolls back with ``core.writer``: the revision's own document written back to the tenant's
file in its own format, recorded with ``source: "rollback"``. The local watcher then sees
the file and records the same content, which adds nothing: recording is idempotent by
content.
"""

from __future__ import annotations

import contextlib
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode

from ..core.errors import HistoryUnavailable, HotconfError, InvalidDocument, UnknownRevision
from ..core.history import HistoryStore
from ..core.history_types import Source as EntrySource
from .discovery import Source
from .history_view import (
    ConfigDiff,
    HistoryEntries,
    RevisionConfig,
    entry_from_dict,
)
from .journal import local_history_path

if TYPE_CHECKING:
    from .link import Link

log = logging.getLogger(__name__)

REST_TIMEOUT_S = 30.0
#: ``expect(checksum, source)``: a local feed's way to learn what caused the next content it
#: loads, so its own recording and its change callbacks say ``rollback``.
Expect = Callable[[str, str], None]


class HistoryError(HotconfError):
    """The history could not be read or the rollback not done: says why (HTTP status and the
    server's reason, or what local mode lacks)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RollbackResult:
    """What ``cfg.rollback(n)`` did: ``revision`` is the new revision (a rollback is a new
    revision, never a rewrite of history), ``changed`` False when the content was already
    that of revision ``rolled_back_to``."""

    tenant_id: str
    revision: int
    checksum: str | None
    rolled_back_to: int
    changed: bool

    def __repr__(self) -> str:
        if not self.changed:
            return (f"<rollback of {self.tenant_id!r}: already the content of "
                    f"r{self.rolled_back_to} (r{self.revision})>")
        return f"<rollback of {self.tenant_id!r} to r{self.rolled_back_to}: now r{self.revision}>"


class HistoryBackend(Protocol):
    """What a provider asks of its tenant's history, in either mode."""

    def entries(self, limit: int, before: int | None) -> HistoryEntries: ...

    def revision(self, n: int) -> RevisionConfig: ...

    def diff(self, a: int, b: int | None) -> ConfigDiff: ...

    def rollback(self, n: int) -> RollbackResult: ...


def _check_revision(n: object, what: str = "revision") -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a revision number >= 1, got {n!r}")
    return n


def _check_limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be an integer >= 1, got {limit!r}")
    return limit


# -- server ------------------------------------------------------------------------------------
class RestHistory:
    """The history routes of the server a provider follows (``{base}hotconf/api/``)."""

    def __init__(self, source: Source, tenant_id: str) -> None:
        self.source = source
        self.tenant_id = tenant_id

    def _call(self, method: str, path: str, query: dict[str, Any] | None = None,
              body: Any = None, revision: int | None = None) -> Any:
        url = self.source.rest_url("tenants", quote(self.tenant_id), path)
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        headers = dict(self.source.headers())
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=REST_TIMEOUT_S) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            reason = _reason(e)
            if e.code == 404 and revision is not None:
                raise UnknownRevision(self.tenant_id, revision) from None
            raise HistoryError(
                f"{method} {url}: HTTP {e.code} {reason}".rstrip(), status=e.code
            ) from None
        except (urllib.error.URLError, OSError) as e:
            raise HistoryError(f"{method} {url}: {getattr(e, 'reason', e)}") from None

    def entries(self, limit: int, before: int | None) -> HistoryEntries:
        body = self._call("GET", "history", {"limit": _check_limit(limit), "before": before})
        return HistoryEntries(
            self.tenant_id, (entry_from_dict(self.tenant_id, e) for e in body.get("entries", [])),
            epoch=body.get("epoch"),
        )

    def revision(self, n: int) -> RevisionConfig:
        n = _check_revision(n)
        return RevisionConfig.from_dict(
            {"tenant_id": self.tenant_id, **self._call("GET", f"revisions/{n}", revision=n)}
        )

    def diff(self, a: int, b: int | None) -> ConfigDiff:
        a = _check_revision(a, "a")
        if b is not None:
            b = _check_revision(b, "b")
        try:
            body = self._call("GET", "diff", {"from": a, "to": b})
        except HistoryError as e:
            if e.status == 404:  # the server cannot say which of the two it lacks
                raise HistoryError(
                    f"tenant {self.tenant_id!r}: revision {a} or {b or 'current'} is unknown "
                    f"or pruned ({e})", status=404) from None
            raise
        to = int(body["to"])
        old, new = self.revision(int(body["from"])), self.revision(to)
        return ConfigDiff(self.tenant_id, int(body["from"]), to, list(body.get("patch", [])),
                          list(body.get("changed_paths", [])),
                          None if old.deleted else old, None if new.deleted else new)

    def rollback(self, n: int) -> RollbackResult:
        n = _check_revision(n)
        body = self._call("POST", "rollback", body={"revision": n}, revision=n)
        return RollbackResult(self.tenant_id, int(body["revision"]), body.get("checksum"),
                              int(body.get("rolled_back_to", n)), bool(body.get("changed")))


def _reason(error: urllib.error.HTTPError) -> str:
    """The server's JSON ``message``/``reason``, else the status phrase."""
    try:
        body = json.loads(error.read() or b"{}")
    except (ValueError, OSError):
        body = {}
    if isinstance(body, dict):
        for key in ("message", "reason"):
            if body.get(key):
                return f"({body[key]})"
    return f"({error.reason})" if error.reason else ""


# -- local mode --------------------------------------------------------------------------------
def open_local_history(config_dir: Path) -> HistoryStore:
    """The default history database of ``config_dir``; ``HistoryError`` saying why not."""
    try:
        return HistoryStore(local_history_path(config_dir))
    except HistoryUnavailable as e:
        raise HistoryError(f"local history of {config_dir} is off: {e}") from None


class LocalHistory:
    """The history database of a local config dir; rollback writes the tenant's file.

    ``store`` is the link's own ``HistoryStore`` when its feed records (shared, so a rollback
    and the watcher's recording go through one connection), else one opened for the call.
    """

    def __init__(self, config_dir: Path, tenant_id: str, store: HistoryStore,
                 expect: Expect | None = None) -> None:
        self.config_dir = config_dir
        self.tenant_id = tenant_id
        self.store = store
        self._expect = expect

    def entries(self, limit: int, before: int | None) -> HistoryEntries:
        got = self.store.history(self.tenant_id, _check_limit(limit), before)
        return HistoryEntries(self.tenant_id, got, epoch=self.store.epoch)

    def revision(self, n: int) -> RevisionConfig:
        found = self.store.revision(self.tenant_id, _check_revision(n))
        if found is None:
            raise UnknownRevision(self.tenant_id, n)
        return RevisionConfig.from_dict(found.to_dict())

    def diff(self, a: int, b: int | None) -> ConfigDiff:
        a = _check_revision(a, "a")
        if b is not None:
            b = _check_revision(b, "b")
        found = self.store.diff(self.tenant_id, a, b)
        old, new = self.revision(found.from_revision), self.revision(found.to_revision)
        return ConfigDiff(self.tenant_id, found.from_revision, found.to_revision,
                          list(found.patch), list(found.changed_paths),
                          None if old.deleted else old, None if new.deleted else new)

    def rollback(self, n: int) -> RollbackResult:
        """Write revision ``n``'s own document back (validated first, in the file's own
        format), then record it as a rollback. A revision that is a deletion, or whose
        document was not recorded, cannot be written back."""
        target = self.revision(n)
        if target.deleted:
            raise HistoryError(f"tenant {self.tenant_id!r} r{n} is a deletion: there is no "
                               "content to roll back to (delete the file instead)")
        if target.document is None:
            raise HistoryError(f"tenant {self.tenant_id!r} r{n} has no recorded document "
                               "(recorded by a tool that did not keep it); cannot roll back")
        # Imported here: the writer's round-trip libraries (ruamel.yaml, tomlkit) are for
        # rollbacks only, so reading history never needs them.
        from ..core.writer import prepare_write

        document = target.document.to_dict()
        pending = prepare_write(self.config_dir, self.tenant_id, document)
        last = self.store.last(self.tenant_id)
        changed = last is None or last.checksum != pending.checksum
        if changed or _own_document(self.config_dir, self.tenant_id) != document:
            # (an invalid file whose last good config is revision n is rewritten, unchanged)
            if self._expect is not None:  # the feed's watcher then records it as a rollback
                self._expect(pending.checksum, EntrySource.ROLLBACK.value)
            pending.commit()
        recorded = self.store.record(self.tenant_id, pending.config, document=document,
                                     source=EntrySource.ROLLBACK, file=pending.file)
        log.info("hotconf %r: rolled back to r%d (now r%d)", self.tenant_id, n,
                 recorded.revision)
        return RollbackResult(self.tenant_id, recorded.revision, recorded.checksum, n, changed)


def _own_document(config_dir: Path, tenant_id: str) -> Any:
    from ..core.writer import read_own_document

    try:
        return read_own_document(config_dir, tenant_id)
    except InvalidDocument:
        return None

@contextlib.contextmanager
def open_backend(
    tenant_id: str, source: Source | None, link: Link | None
) -> Iterator[HistoryBackend]:
    """The history of a provider's tenant where its config comes from: the server's routes,
    or the local config dir's database (the link's own while its feed records, else opened
    for this call and closed after it)."""
    if source is None:
        raise HistoryError(f"{tenant_id!r} is a fixed config= (or closed): it has no history")
    if link is not None and link.config_path is not None:
        raise HistoryError(f"{tenant_id!r} follows one file (config_path=), which has no "
                           "history; use config_dir= for the config dir's history")
    if source.kind == "server":
        yield RestHistory(source, tenant_id)
        return
    assert source.config_dir is not None  # discovery sets it for local mode
    feed = link.feed if link is not None else None
    shared = getattr(feed, "history", None)
    if isinstance(shared, HistoryStore) and not getattr(feed, "stopped", True):
        yield LocalHistory(source.config_dir, tenant_id, shared, getattr(feed, "expect", None))
        return
    store = open_local_history(source.config_dir)
    try:
        yield LocalHistory(source.config_dir, tenant_id, store)
    finally:
        store.close()
