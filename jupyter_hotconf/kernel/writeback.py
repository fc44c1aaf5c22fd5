"""Write-back from a notebook: ``cfg.set``, ``cfg.update``, ``cfg.delete`` (``docs/kernel.md``).

Every write is conditional: it names the checksum of the config this provider holds
(``If-Match``), so a write based on an old view of the config is refused (``ConfigConflict``)
rather than silently undoing someone else's edit. Edits apply to the tenant's **own
document** (its file, without ``defaults.*``), never to the merged config.

- Server mode: ``update`` is a JSON Merge Patch (``PATCH`` ``application/merge-patch+json``);
  ``set``/``delete`` read the own document (``GET ?view=document``), edit it here and send
  the difference as a JSON Patch; a tenant without a file is created with ``PUT`` +
  ``If-None-Match: *``. The server answers once its watcher applied the write.
- Local mode: the same check and write with ``core.writelock`` (the tenant's ``flock``, the
  file read back from disk under it) and ``core.writer`` (validated, atomic, format-kept),
  recorded in the config dir's history with ``source: "api"``.

Then ``read_your_writes`` makes the provider hold the written content before the call
returns (``Link.catch_up``; the design is in ``docs/kernel.md``).
"""

from __future__ import annotations

import copy
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jsonpatch

from ..core.documents import JSONObject
from ..core.errors import InvalidDocument, WriteFailed
from ..core.formats import pointer_of as _pointer_of
from ..core.history_types import Source as EntrySource
from ..core.messages import Snapshot
from ..core.patching import merge_patch
from ..core.writelock import LockFailed, read_current, tenant_lock
from ..core.writer import prepare_write
from .client import LinkStatus
from .discovery import Source
from .view import split_path
from .write_errors import (
    ConfigConflict,
    ConfigReadOnly,
    ConfigRejected,
    ConfigWriteError,
    from_response,
)

if TYPE_CHECKING:
    from .link import Link

log = logging.getLogger(__name__)

REST_TIMEOUT_S = 60.0  # the server itself answers 504 after its write_timeout_s
#: How long a write waits for its own change to arrive through the provider's feed before
#: it reads the state directly instead (read-your-writes is kept either way).
SEEN_TIMEOUT_S = 10.0
LOCK_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Edit:
    """One change of a tenant's own document: ``apply(document) -> new document``;
    ``merge`` is the JSON Merge Patch it stands for, when it is one (sent as is)."""

    what: str
    apply: Callable[[JSONObject], JSONObject]
    merge: JSONObject | None = None


@dataclass(frozen=True)
class Written:
    """What a write put in force: its revision when known yet, and the merged config's
    checksum (and, locally, the merged config itself)."""

    revision: int | None
    checksum: str | None
    config: JSONObject | None = None


# -- edits of a document -------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """JSON values of ``value``: a read-only ``ConfigView`` (any mapping) becomes a dict, a
    tuple a list; anything not JSON is refused here, before a request."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"cannot write a {type(value).__name__} into a config: JSON values only")


def pointer_of(parts: Sequence[str | int]) -> str:
    return _pointer_of(tuple(parts))


def _parts(path: str | Sequence[str | int]) -> list[str | int]:
    parts = split_path(path)
    if not parts:
        raise ValueError("an empty path names the whole config: use cfg.update({...})")
    return parts


def _index(node: list[Any], part: str | int, *, append: bool) -> int:
    text = str(part)
    if append and text in ("-", str(len(node))):
        return len(node)
    if not text.isdigit() or int(text) >= len(node):
        raise LookupError(part)
    return int(text)


def set_in(document: JSONObject, parts: list[str | int], value: Any) -> JSONObject:
    """A copy of ``document`` with ``value`` at ``parts``; missing objects on the way are
    created (a list index may be the list's length, or ``-``, to append)."""
    result = copy.deepcopy(document)
    node: Any = result
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = pointer_of(parts[: depth + 1])
        if isinstance(node, dict):
            if last:
                node[str(part)] = value
            else:
                node = node.setdefault(str(part), {})
        elif isinstance(node, list):
            try:
                i = _index(node, part, append=last)
            except LookupError:
                raise ValueError(f"cannot set {pointer_of(parts)}: {where} is not an index "
                                 f"of the list (length {len(node)})") from None
            if last and i == len(node):
                node.append(value)
            elif last:
                node[i] = value
            else:
                node = node[i]
        else:
            raise ValueError(f"cannot set {pointer_of(parts)}: {pointer_of(parts[:depth])} "
                             f"is a {type(node).__name__}, not an object")
    return result


def delete_in(tenant_id: str, document: JSONObject, parts: list[str | int]) -> JSONObject:
    """A copy of ``document`` without ``parts``; a path the document does not have (maybe
    set by ``defaults.*``, which a tenant's write cannot remove) is refused (409)."""
    result = copy.deepcopy(document)
    node: Any = result
    try:
        for part in parts[:-1]:
            node = node[str(part)] if isinstance(node, dict) else node[_index(node, part,
                                                                                append=False)]
        if isinstance(node, dict):
            del node[str(parts[-1])]
        else:
            del node[_index(node, parts[-1], append=False)]
    except (LookupError, TypeError):
        raise ConfigWriteError(
            tenant_id, f"tenant {tenant_id!r}'s own file has no {pointer_of(parts)} to delete "
            "(a value from defaults cannot be deleted by a tenant; set it instead)", 409,
        ) from None
    return result


def set_edit(tenant_id: str, path: str | Sequence[str | int], value: Any) -> Edit:
    parts, value = _parts(path), plain(value)
    return Edit(f"set {pointer_of(parts)}", lambda doc: set_in(doc, parts, value))


def delete_edit(tenant_id: str, path: str | Sequence[str | int]) -> Edit:
    parts = _parts(path)
    return Edit(f"delete {pointer_of(parts)}", lambda doc: delete_in(tenant_id, doc, parts))


def update_edit(patch: Mapping[str, Any]) -> Edit:
    if not isinstance(patch, Mapping):
        raise TypeError(f"cfg.update takes a dict (a JSON Merge Patch), got "
                        f"{type(patch).__name__}")
    merge = plain(patch)
    return Edit(f"update {sorted(merge)}", lambda doc: merge_patch(doc, merge), merge)


# -- server ----------------------------------------------------------------------------------
class RestWriter:
    """Writes through ``api/tenants/<t>`` of the server a provider follows."""

    def __init__(self, source: Source, tenant_id: str) -> None:
        self.source = source
        self.tenant_id = tenant_id
        self.url = source.rest_url("tenants", quote(tenant_id))

    def _call(self, method: str, url: str, body: Any = None, content_type: str | None = None,
              headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        all_headers = {**self.source.headers(), **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = content_type or "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=REST_TIMEOUT_S) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            try:
                answer = json.loads(e.read() or b"null")
            except (ValueError, OSError):
                answer = None
            if e.code == 404 and method == "GET":
                return 404, answer
            raise from_response(self.tenant_id, e.code, answer, str(e.reason or "")) from None
        except (urllib.error.URLError, OSError) as e:
            raise ConfigWriteError(self.tenant_id, f"{method} {url}: "
                                                   f"{getattr(e, 'reason', e)}") from None

    def document(self) -> JSONObject | None:
        """The tenant's own document (None: the tenant has no file)."""
        status, body = self._call("GET", self.url + "?view=document")
        if status == 404 or not isinstance(body, dict):
            return None
        document = body.get("document", body)
        return document if isinstance(document, dict) else None

    def write(self, edit: Edit, if_match: str | None) -> Written:
        tag = {"If-Match": f'"{if_match}"'} if if_match else {"If-None-Match": "*"}
        if edit.merge is not None and if_match:
            _, body = self._call("PATCH", self.url, edit.merge,
                                 "application/merge-patch+json", tag)
        else:
            old = self.document() if if_match else None
            new = edit.apply(old or {})
            if old is None:  # a new tenant (or one whose file went): create it
                _, body = self._call("PUT", self.url, new, "application/json", tag)
            else:
                ops = jsonpatch.make_patch(old, new).patch
                _, body = self._call("PATCH", self.url, ops, "application/json-patch+json",
                                     tag)
        body = body if isinstance(body, dict) else {}
        revision = body.get("revision")
        return Written(revision if isinstance(revision, int) else None, body.get("checksum"))


# -- local mode --------------------------------------------------------------------------------
class LocalWriter:
    """Writes a local config dir's tenant file the way a server would (same lock, checks,
    writer and history), for a kernel without a server."""

    def __init__(self, config_dir: Path, tenant_id: str, link: Link, mode: str) -> None:
        self.config_dir = config_dir
        self.tenant_id = tenant_id
        self.link = link
        self.mode = mode

    def write(self, edit: Edit, if_match: str | None) -> Written:
        if self.mode == "prod":
            raise ConfigReadOnly(self.tenant_id, "local mode with HOTCONF_MODE=prod does not "
                                                 "write config files")
        from jupyter_core.paths import jupyter_data_dir

        lock = tenant_lock(self.config_dir, self.tenant_id, history=None,
                           data_dir=jupyter_data_dir())
        try:
            lock.acquire(LOCK_TIMEOUT_S)
        except LockFailed as e:
            raise ConfigWriteError(self.tenant_id, str(e)) from None
        try:
            return self._write_locked(edit, if_match)
        finally:
            lock.release()

    def _write_locked(self, edit: Edit, if_match: str | None) -> Written:
        current = read_current(self.config_dir, self.tenant_id)
        if current.error is not None and current.document is None:
            raise ConfigRejected.of(self.tenant_id, current.error)  # unparsable: fix it first
        # an invalid (but parsable) file is in force as its last good config
        now = current.checksum if current.error is None else self.link.state.checksum
        if (if_match or None) != (now if current.exists else None):
            raise ConfigConflict(self.tenant_id, self._revision_of(now), now, if_match)
        document = edit.apply(current.document or {})
        try:
            pending = prepare_write(self.config_dir, self.tenant_id, document)
        except InvalidDocument as e:
            raise ConfigRejected.of(self.tenant_id, e) from None
        feed = self.link.feed
        if pending.checksum == now and document == current.document:
            return Written(self._revision_of(now), now, pending.config)  # nothing to write
        if pending.checksum != now and feed is not None and not getattr(feed, "stopped", True):
            feed.expect(pending.checksum, EntrySource.API.value)  # type: ignore[union-attr]
        try:
            pending.commit()
        except WriteFailed as e:
            raise ConfigWriteError(self.tenant_id, str(e)) from None
        revision = None
        history = getattr(feed, "history", None)
        if history is not None:  # recorded now, so another process sees the cause
            revision = history.record(self.tenant_id, pending.config, document=document,
                                      source=EntrySource.API, file=pending.file).revision
        log.info("hotconf %r: %s written to %s", self.tenant_id, edit.what, pending.file)
        return Written(revision, pending.checksum, pending.config)

    def _revision_of(self, checksum: str | None) -> int | None:
        history = getattr(self.link.feed, "history", None)
        last = history.last(self.tenant_id) if history is not None else None
        return last.revision if last is not None and last.checksum == checksum else None


# -- the write, and read-your-writes -----------------------------------------------------------
def perform(link: Link | None, tenant_id: str, edit: Edit, mode: str) -> int:
    """Write ``edit`` conditionally on what ``link`` holds; return the new revision once
    the link holds the written content."""
    if link is None or link.closed:
        raise ConfigWriteError(tenant_id, f"{tenant_id!r} is a fixed config= (or closed): "
                                          "there is nothing to write to")
    if link.config_path is not None:
        raise ConfigWriteError(tenant_id, f"{tenant_id!r} follows one file (config_path=); "
                                          "write-back needs a config dir (config_dir=)")
    state = link.state
    if_match = state.checksum if state.exists else None
    if link.source.kind == "server":
        written = RestWriter(link.source, tenant_id).write(edit, if_match)
    else:
        assert link.source.config_dir is not None  # discovery sets it for local mode
        written = LocalWriter(link.source.config_dir, tenant_id, link, mode).write(edit,
                                                                                    if_match)
    return read_your_writes(link, written)


def read_your_writes(link: Link, written: Written) -> int:
    """Wait (bounded) until the link's own feed delivered the written content and fold it
    now; a feed that is not live (disconnected, disabled) or late is bypassed by reading the
    state directly: the server's ``GET``, or the written config itself in local mode."""
    socket_live = link.socket is not None and link.socket.status is LinkStatus.CONNECTED
    feed_live = link.feed is not None and not getattr(link.feed, "stopped", True)
    waited = (socket_live or feed_live) and link.catch_up(
        written.checksum, written.revision, SEEN_TIMEOUT_S)
    if not waited:
        if link.source.kind == "server":
            snapshot = link.fetch()
        else:
            revision = written.revision or link.state.revision + 1
            snapshot = Snapshot(link.tenant_id, revision, None, written.checksum,
                                config=written.config)
        if snapshot is not None:
            link.fold_now(snapshot)
    state = link.state
    if state.checksum == written.checksum or written.revision is None:
        return state.revision
    return written.revision
