"""ConfigStore: last-known-good config per tenant, revisions, checksums, diffs (DESIGN.md §4).

CONTRACT STUB — signatures are fixed; bodies are filled in by the foundation work.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from .documents import JSONObject, LoadResult
from .errors import InvalidDocument


class ChangeType(str, enum.Enum):
    """How a reload changed a tenant. Only the first three go on the wire as ``change_type``."""

    CREATED = "created"
    MODIFIED = "modified"
    DELETED = "deleted"
    INVALID = "invalid"  # last-known-good stays in force → ConfigInvalid
    RECOVERED = "recovered"  # invalid → valid with the last good content → ConfigValid
    UNCHANGED = "unchanged"  # same checksum as last-known-good: emit nothing


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
    """One classified reload of one tenant, as handed to transports."""

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

    @property
    def is_wire_change(self) -> bool:
        """created/modified/deleted — the ones that are a ``ConfigChanged``."""
        return self.change_type in (ChangeType.CREATED, ChangeType.MODIFIED, ChangeType.DELETED)


class ConfigStore:
    """Thread-safe map tenant → ``TenantState``; ``apply`` classifies a fresh ``LoadResult``.

    Rules (DESIGN.md §4): same checksum as last good → UNCHANGED (or RECOVERED if it was
    invalid); invalid → INVALID and the last good config stays; classify by what existed
    before and after, never by event type. An identical repeated INVALID (same error) is
    UNCHANGED, so an error is reported once.
    """

    def __init__(self, epoch: str | None = None) -> None:
        raise NotImplementedError

    @property
    def epoch(self) -> str:
        raise NotImplementedError

    def apply(self, result: LoadResult) -> Change:
        raise NotImplementedError

    def get(self, tenant_id: str) -> TenantState | None:
        raise NotImplementedError

    def states(self) -> list[TenantState]:
        """Every tenant the store has seen (sorted by id), deleted ones included."""
        raise NotImplementedError

    def tenant_ids(self) -> list[str]:
        raise NotImplementedError
