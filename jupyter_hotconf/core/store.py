"""ConfigStore: last-known-good config per tenant, revisions, checksums, diffs.

How changes are classified is described in docs/change-detection.md.

The store is sans-I/O: it never reads a file. The watcher (or a kernel in local mode) loads a
tenant into a ``LoadResult`` and hands it to ``ConfigStore.apply``, which classifies it by
what existed before and after — never by the file-system event that caused the reload — and
returns one ``Change`` for the transports to turn into wire frames (``protocol.frames_for``).
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, NoReturn

import jsonpatch

from .documents import JSONObject, checksum
from .errors import InvalidDocument
from .loading import LoadResult

log = logging.getLogger(__name__)

_READ_ONLY = (
    "configs held by ConfigStore are read-only (shared by every subscriber); "
    "use copy.deepcopy(config) for a mutable copy"
)


class ChangeType(str, enum.Enum):
    """How a reload changed a tenant. Only the first three go on the wire as ``change_type``."""

    CREATED = "created"
    MODIFIED = "modified"
    DELETED = "deleted"
    INVALID = "invalid"  # last-known-good stays in force → ConfigInvalid
    RECOVERED = "recovered"  # invalid → valid with the last good content → ConfigValid
    UNCHANGED = "unchanged"  # same checksum as last-known-good: emit nothing


class FrozenDict(dict[str, Any]):
    """A JSON object nobody can change: a ``dict`` (so ``json.dumps``, ``==`` and jsonpatch
    work as usual) whose mutators raise ``TypeError``. ``copy.deepcopy`` returns plain,
    mutable ``dict``/``list`` objects."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(_READ_ONLY)

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {key: copy.deepcopy(value, memo) for key, value in self.items()}

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))


class FrozenList(list[Any]):
    """A JSON array nobody can change; see ``FrozenDict``."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(_READ_ONLY)

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return [copy.deepcopy(value, memo) for value in self]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))


def freeze(value: Any) -> Any:
    """Deep, read-only copy of a JSON value (already frozen parts are shared, not copied)."""
    if isinstance(value, (FrozenDict, FrozenList)):
        return value
    if isinstance(value, dict):
        return FrozenDict({key: freeze(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return FrozenList(freeze(item) for item in value)
    return value


def utc_timestamp() -> str:
    """Now as ISO 8601 UTC with milliseconds and a ``Z`` (``2026-11-26T10:00:00.123Z``)."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return now.replace("+00:00", "Z")


@dataclass(frozen=True)
class TenantState:
    """What the store knows of one tenant right now."""

    tenant_id: str
    revision: int  # 0 = never valid; +1 on each created/modified/deleted
    checksum: str | None  # of the last-known-good config
    config: JSONObject | None  # last-known-good merged config (None if never valid / deleted)
    exists: bool  # a file exists now
    valid: bool  # the current file is valid (True when no file: nothing is wrong)
    error: InvalidDocument | None
    last_change: str | None  # ISO 8601 UTC "…Z" of the last revision bump


@dataclass(frozen=True)
class Change:
    """One classified reload of one tenant, as handed to transports.

    ``old``/``new`` are the configs in force before/after (equal unless the revision moved);
    ``patch`` is RFC 6902 from ``old`` to ``new`` (``None`` read as ``{}``), ``changed_paths``
    the sorted, de-duplicated JSON pointers it touches. All of them are read-only.
    """

    tenant_id: str
    change_type: ChangeType
    revision: int
    epoch: str
    checksum: str | None
    timestamp: str  # ISO 8601 UTC with "Z"
    old: JSONObject | None = None
    new: JSONObject | None = None
    patch: list[dict[str, Any]] = field(default_factory=list)  # RFC 6902, old → new
    changed_paths: list[str] = field(default_factory=list)  # JSON pointers
    error: InvalidDocument | None = None  # set for INVALID
    source: str | None = None  # watcher | startup | api | rollback, when a history knows it
    actor: str | None = None  # who, when known (a user for api/rollback)

    @property
    def is_wire_change(self) -> bool:
        """created/modified/deleted — the ones that are a ``ConfigChanged``."""
        return self.change_type in (ChangeType.CREATED, ChangeType.MODIFIED, ChangeType.DELETED)


@dataclass(frozen=True)
class Assigned:
    """What a ``RevisionSource`` made of a change: the revision to number it with (used for
    created/modified/deleted) and what caused it."""

    revision: int
    source: str | None = None
    actor: str | None = None


#: Called by ``ConfigStore.apply`` for every change that is not UNCHANGED — one apply at a
#: time, outside the lock readers take — with the change as the store numbered it and the
#: load behind it. It returns the revision to use (a history database shared with other
#: processes assigns it, docs/history.md) or None to keep the store's own numbering. The
#: store itself does no I/O: whoever passes the callable does.
RevisionSource = Callable[[Change, LoadResult], "Assigned | None"]


def diff(old: JSONObject | None, new: JSONObject | None) -> tuple[list[dict[str, Any]], list[str]]:
    """RFC 6902 patch ``old → new`` (``None`` = ``{}``) and the JSON pointers it touches."""
    patch: list[dict[str, Any]]
    if not old and new:  # from nothing (every first load): one add per key, as jsonpatch
        patch = [{"op": "add", "path": "/" + key.replace("~", "~0").replace("/", "~1"),
                  "value": value} for key, value in new.items()]
    else:
        patch = jsonpatch.make_patch(old or {}, new or {}).patch
    touched = {op["path"] for op in patch}
    touched.update(op["from"] for op in patch if op["op"] == "move")
    return freeze(patch), FrozenList(sorted(touched))


def _classify(
    before: TenantState, result: LoadResult, incoming: JSONObject | None, digest: str | None,
    now: str,
) -> tuple[ChangeType, TenantState]:
    """The classification rules of docs/change-detection.md: (change type, state after).
    Pure, so it runs under the store's lock."""
    replace = dataclasses.replace
    if result.error is not None:
        if before.error == result.error and before.exists == result.exists:
            return ChangeType.UNCHANGED, before  # report an error once
        return ChangeType.INVALID, replace(
            before, exists=result.exists, valid=False, error=result.error
        )
    if not result.exists:
        if before.config is not None:
            return ChangeType.DELETED, replace(
                before, revision=before.revision + 1, checksum=None, config=None, exists=False,
                valid=True, error=None, last_change=now,
            )
        if before.error is not None:
            # A file that was never valid is gone: nothing in force changes, the error clears.
            return ChangeType.RECOVERED, replace(before, exists=False, valid=True, error=None)
        return ChangeType.UNCHANGED, before
    if incoming is None:
        raise ValueError(f"LoadResult for {result.tenant_id!r} exists but has no config or error")
    if before.config is not None and digest == before.checksum:
        if before.error is not None:
            return ChangeType.RECOVERED, replace(before, exists=True, valid=True, error=None)
        return ChangeType.UNCHANGED, before
    kind = ChangeType.CREATED if before.config is None else ChangeType.MODIFIED
    return kind, replace(
        before, revision=before.revision + 1, checksum=digest, config=incoming, exists=True,
        valid=True, error=None, last_change=now,
    )


class ConfigStore:
    """Thread-safe map tenant → ``TenantState``; ``apply`` classifies a fresh ``LoadResult``.

    Rules (docs/change-detection.md): same checksum as last good → UNCHANGED (or RECOVERED if it was
    invalid); invalid → INVALID and the last good config stays; classify by what existed
    before and after, never by event type. An identical repeated INVALID (same error) is
    UNCHANGED, so an error is reported once. A never-valid (invalid) file that is deleted is
    RECOVERED: the error clears and nothing in force changes, so the revision stays.

    Configs are *frozen*: deep-copied once on the way in into read-only ``dict``/``list``
    subclasses (``FrozenDict``/``FrozenList``), so every subscriber can share them without
    copies; mutating one raises ``TypeError``; ``copy.deepcopy`` gives a mutable copy.
    One lock guards the map; parsing, hashing and diffing happen outside it.

    >>> store = ConfigStore(epoch="e1")
    >>> store.apply(LoadResult("acme", True, {"a": 1})).change_type.value
    'created'
    """

    def __init__(self, epoch: str | None = None, revisions: RevisionSource | None = None) -> None:
        self._epoch = epoch or secrets.token_hex(8)
        self._lock = threading.Lock()  # the map, for readers
        self._apply_lock = threading.Lock()  # one apply at a time (the revision source may block)
        self._states: dict[str, TenantState] = {}
        self._revisions = revisions

    @property
    def epoch(self) -> str:
        """Random per store instance (a restarted server has a new epoch, revisions restart),
        unless ``resume`` continues a numbering kept elsewhere."""
        return self._epoch

    def resume(
        self, epoch: str, states: Iterable[TenantState], revisions: RevisionSource | None
    ) -> None:
        """Continue a numbering kept outside the store (a history database): its ``epoch``,
        each tenant's last recorded state, and the source of every later revision. Call it
        before the first ``apply``: a reload equal to a resumed state is then UNCHANGED."""
        with self._apply_lock, self._lock:
            self._epoch = epoch
            self._revisions = revisions
            for state in states:
                self._states[state.tenant_id] = dataclasses.replace(
                    state, config=freeze(state.config)
                )

    def apply(self, result: LoadResult) -> Change:
        """Record a fresh load of one tenant and say how it changed the tenant."""
        tenant_id = result.tenant_id
        incoming = digest = None
        if result.error is None and result.config is not None:
            incoming = freeze(result.config)
            digest = checksum(incoming)
        now = utc_timestamp()
        with self._apply_lock:
            with self._lock:
                before = self._states.get(tenant_id) or TenantState(
                    tenant_id, 0, None, None, exists=False, valid=True, error=None,
                    last_change=None,
                )
            kind, after = _classify(before, result, incoming, digest, now)
            patch: list[dict[str, Any]] = []
            paths: list[str] = []
            if after.config is not before.config:
                patch, paths = diff(before.config, after.config)
            change = Change(
                tenant_id=tenant_id, change_type=kind, revision=after.revision,
                epoch=self._epoch, checksum=after.checksum, timestamp=now, old=before.config,
                new=after.config, patch=patch, changed_paths=paths,
                error=result.error if kind is ChangeType.INVALID else None,
            )
            if self._revisions is not None and kind is not ChangeType.UNCHANGED:
                assigned = self._revisions(change, result)
                if assigned is not None:
                    revision = assigned.revision if change.is_wire_change else after.revision
                    after = dataclasses.replace(after, revision=revision)
                    change = dataclasses.replace(
                        change, revision=revision, source=assigned.source, actor=assigned.actor
                    )
            if after is not before:
                with self._lock:
                    self._states[tenant_id] = after
        if kind is not ChangeType.UNCHANGED:
            log.debug("tenant %s: %s (revision %d)", tenant_id, kind.value, after.revision)
        return change

    def get(self, tenant_id: str) -> TenantState | None:
        """The tenant's state, or ``None`` if the store never saw it."""
        with self._lock:
            return self._states.get(tenant_id)

    def states(self) -> list[TenantState]:
        """Every tenant the store has seen (sorted by id), deleted ones included."""
        with self._lock:
            return [self._states[key] for key in sorted(self._states)]

    def tenant_ids(self) -> list[str]:
        """Ids of every tenant the store has seen, sorted."""
        with self._lock:
            return sorted(self._states)
