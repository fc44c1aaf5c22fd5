"""Every wire message of DESIGN.md §5, encode/decode, close codes — sans-I/O.

CONTRACT STUB — signatures are fixed; bodies are filled in by the foundation work.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from .errors import InvalidDocument
from .store import Change, TenantState

PING = '"Ping"'
PONG = '"Pong"'


class CloseCode(enum.IntEnum):
    POLICY = 1008  # flood, bad frame
    TOO_BIG = 1009  # inbound frame over max_message_size
    BAD_TENANT = 4400
    FORBIDDEN = 4403
    HEARTBEAT_TIMEOUT = 4408
    SLOW_CONSUMER = 4413
    TOO_MANY = 4429


class MessageKind(str, enum.Enum):
    CONFIG_CHANGED = "ConfigChanged"
    CONFIG_INVALID = "ConfigInvalid"
    CONFIG_VALID = "ConfigValid"
    SNAPSHOT = "Snapshot"
    PING = "Ping"
    PONG = "Pong"


def encode(message: Any) -> str:
    """Compact JSON (no spaces), key order kept: ``tenant_id`` and ``change_type`` first."""
    raise NotImplementedError


def decode(text: str | bytes) -> tuple[MessageKind | None, dict[str, Any] | None]:
    """Parse a frame: ``(kind, body)``; unknown kinds → ``(None, None)`` (ignored, not an
    error); a frame that is not JSON or not a message → ``ProtocolError``."""
    raise NotImplementedError


def config_changed(change: Change, *, include: Iterable[str] = ()) -> dict[str, Any]:
    """``{"ConfigChanged": {tenant_id, change_type, revision, epoch, checksum, changed_paths,
    timestamp[, config][, patch]}}`` — ``include`` ⊆ {"config", "patch"}."""
    raise NotImplementedError


def config_invalid(tenant_id: str, error: InvalidDocument) -> dict[str, Any]:
    """``{"ConfigInvalid": {tenant_id, file, line, column, pointer, message}}``."""
    raise NotImplementedError


def config_valid(tenant_id: str, revision: int, checksum: str | None) -> dict[str, Any]:
    raise NotImplementedError


def snapshot(state: TenantState | None, tenant_id: str, *, epoch: str, mode: str) -> dict[str, Any]:
    """``{"Snapshot": {tenant_id, revision, checksum, epoch, exists, valid, error, config, mode}}``;
    ``state=None`` (unknown tenant) → revision 0, exists false, valid true, config null."""
    raise NotImplementedError


