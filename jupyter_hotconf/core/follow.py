"""The follower's reducer: ``apply(state, message) -> (state, change | None)`` — sans-I/O.

Whatever follows a tenant (the kernel over a socket, the kernel in local mode, any Python
client) keeps one ``FollowerState`` and feeds it every message it reads, so the rules of
``docs/protocol.md`` live here once:

- a ``ConfigChanged`` or ``Snapshot`` whose revision is not newer than the one held, in the
  same epoch, is stale or a duplicate and never rolls the config back; a new epoch (the
  server restarted, its revisions restarted) is always taken;
- a ``Snapshot`` is a resync: it yields a change only if the content moved (a follower
  that wants no callback for the state it starts from applies it before anyone listens);
- a ``Snapshot`` with ``epoch=None`` is a REST poll result (``rest_snapshot``): it carries no
  revision order, so its checksum decides;
- ``ConfigInvalid``/``ConfigValid`` flip validity; the last good config stays in force.

    >>> state = FollowerState("acme")
    >>> state, _ = apply(state, Snapshot("acme", 1, "e1", "c1", config={"a": 1}))
    >>> apply(state, Snapshot("acme", 1, "e1", "c1", config={"a": 1}))[1] is None  # duplicate
    True
    >>> state, change = apply(state, Snapshot("acme", 2, "e1", "c2", config={"a": 2}))
    >>> change.changed_paths, state.config
    (['/a'], {'a': 2})
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import jsonpatch

from .documents import JSONObject
from .messages import ChangeKind, ConfigChanged, ConfigInvalid, ConfigValid, Message, Snapshot
from .store import diff, freeze, utc_timestamp

__all__ = ["FollowChange", "FollowerState", "apply", "is_stale", "rest_snapshot"]


@dataclass(frozen=True)
class FollowerState:
    """What a follower holds for one tenant; ``config`` is frozen (shared read-only)."""

    tenant_id: str
    epoch: str | None = None
    revision: int = 0
    checksum: str | None = None
    config: JSONObject | None = None
    exists: bool = False
    valid: bool = True
    error: dict[str, Any] | None = None  # ``ConfigInvalid`` fields while invalid
    mode: str | None = None  # the server's ``HOTCONF_MODE`` from its Snapshot
    last_change: str | None = None  # ISO 8601 UTC of the last change applied
    synced: bool = False  # a state was learned (until then a handle shows its initial config)


@dataclass(frozen=True)
class FollowChange:
    """The config in force moved: what callbacks are told. ``old``/``new`` are frozen."""

    tenant_id: str
    change_type: ChangeKind
    revision: int
    old: JSONObject | None
    new: JSONObject | None
    patch: list[dict[str, Any]]
    changed_paths: list[str]
    timestamp: str


def is_stale(state: FollowerState, revision: int, epoch: str | None) -> bool:
    """The ONE staleness rule: same epoch and not a newer revision (``epoch=None``: no
    order, never stale by revision)."""
    if epoch is None or state.epoch is None or epoch != state.epoch:
        return False
    return revision <= state.revision


def rest_snapshot(tenant_id: str, body: dict[str, Any]) -> Snapshot:
    """A ``GET api/tenants/<t>`` body as an epoch-less ``Snapshot`` (applied by checksum)."""
    config = body.get("config")
    error = body.get("error")
    return Snapshot(
        tenant_id, int(body.get("revision") or 0), None, body.get("checksum"),
        exists=config is not None, valid=body.get("valid") is not False,
        error=error if isinstance(error, dict) else None,
        config=config if isinstance(config, dict) else None, body=body,
    )


def apply(state: FollowerState, message: Message) -> tuple[FollowerState, FollowChange | None]:
    """Fold one message into ``state``: the new state and the change to report, if any.

    Messages of another tenant, Ping/Pong and unknown ones leave the state as it is."""
    if getattr(message, "tenant_id", state.tenant_id) != state.tenant_id:
        return state, None
    if isinstance(message, Snapshot):
        return _snapshot(state, message)
    if isinstance(message, ConfigChanged):
        return _changed(state, message)
    if isinstance(message, ConfigInvalid):
        return dataclasses.replace(state, valid=False, error=message.error()), None
    if isinstance(message, ConfigValid):
        return dataclasses.replace(state, valid=True, error=None), None
    return state, None


def _validity(state: FollowerState, valid: bool, error: dict[str, Any] | None) -> FollowerState:
    return dataclasses.replace(state, valid=valid, error=None if valid else (error or {}))


def _snapshot(state: FollowerState, m: Snapshot) -> tuple[FollowerState, FollowChange | None]:
    if m.epoch is None:  # REST poll: no order; the content decides
        nothing = m.config is None and not m.exists and m.revision == 0
        if state.synced and (m.checksum == state.checksum or nothing):
            return _validity(state, m.valid, m.error), None
    elif is_stale(state, m.revision, m.epoch):
        if m.revision < state.revision:
            return state, None  # an older state: never roll back, not even its validity
        # the same revision again (a reconnect): the config stands, its validity may not
        state = _validity(state, m.valid, m.error)
        return (dataclasses.replace(state, mode=m.mode) if m.mode else state), None
    new = freeze(m.config) if m.config is not None else None
    moved = m.checksum != state.checksum or new != state.config
    after = dataclasses.replace(
        _validity(state, m.valid, m.error), epoch=m.epoch or state.epoch, revision=m.revision,
        checksum=m.checksum, config=new, exists=m.exists, mode=m.mode or state.mode, synced=True,
    )
    if not moved:
        return after, None
    kind = ChangeKind.DELETED if not m.exists else (
        ChangeKind.CREATED if state.synced and state.config is None else ChangeKind.MODIFIED
    )
    return _report(state, after, kind, None, None, None)


def _changed(state: FollowerState, m: ConfigChanged) -> tuple[FollowerState, FollowChange | None]:
    if is_stale(state, m.revision, m.epoch):
        return state, None
    if m.change_type is ChangeKind.DELETED:
        new = None
    elif m.config is not None:
        new = freeze(m.config)
    elif m.patch is not None:  # include=patch without config
        new = freeze(jsonpatch.apply_patch(state.config or {}, list(m.patch)))
    else:  # neither included: the content is not known here, the revision still moves
        new = state.config
    after = dataclasses.replace(
        state, epoch=m.epoch or state.epoch, revision=m.revision, checksum=m.checksum,
        config=new, exists=m.change_type is not ChangeKind.DELETED, valid=True, error=None,
        synced=True,
    )
    return _report(state, after, m.change_type, m.patch, m.changed_paths, m.timestamp)


def _report(
    before: FollowerState, after: FollowerState, kind: ChangeKind,
    patch: tuple[dict[str, Any], ...] | None, paths: tuple[str, ...] | None, when: str | None,
) -> tuple[FollowerState, FollowChange]:
    """The change ``before → after``: the message's patch and paths if it said them, else
    worked out with the store's ``diff``."""
    if patch is None or paths is None:
        computed_patch, computed_paths = diff(before.config, after.config)
        patch = patch if patch is not None else tuple(computed_patch)
        paths = paths if paths is not None else tuple(computed_paths)
    timestamp = when or utc_timestamp()
    after = dataclasses.replace(after, last_change=timestamp)
    return after, FollowChange(
        after.tenant_id, kind, after.revision, before.config, after.config, list(patch),
        list(paths), timestamp,
    )
