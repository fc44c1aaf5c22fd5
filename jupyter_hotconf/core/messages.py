"""Typed wire messages of the follower's side (``protocol.decode_message`` builds them).

Plain frozen dataclasses with the fields a client reads; ``body`` keeps the frame's body as
received (unknown fields included) for tools that print it, such as ``jupyter-hotconf watch``.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .documents import JSONObject

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10

    class StrEnum(str, enum.Enum):
        """``enum.StrEnum`` for 3.10: a member prints as its value in ``str()`` and f-strings."""

        def __str__(self) -> str:
            return str(self.value)


class MessageKind(str, enum.Enum):
    """The externally tagged name of each wire message."""

    CONFIG_CHANGED = "ConfigChanged"
    CONFIG_INVALID = "ConfigInvalid"
    CONFIG_VALID = "ConfigValid"
    SNAPSHOT = "Snapshot"
    PING = "Ping"
    PONG = "Pong"


class ChangeKind(StrEnum):
    """``change_type`` of a ``ConfigChanged`` (equal to the plain strings users compare to)."""

    CREATED = "created"
    MODIFIED = "modified"
    DELETED = "deleted"


@dataclass(frozen=True)
class Snapshot:
    """A tenant's whole state; ``epoch=None`` marks a REST poll result (no revision order)."""

    tenant_id: str
    revision: int
    epoch: str | None
    checksum: str | None = None
    exists: bool = True
    valid: bool = True
    error: dict[str, Any] | None = None
    config: JSONObject | None = None
    mode: str | None = None
    body: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    kind: ClassVar[MessageKind] = MessageKind.SNAPSHOT


@dataclass(frozen=True)
class ConfigChanged:
    """A new revision; ``config``/``patch`` only when the socket asked ``include=`` them;
    ``source`` (watcher|startup|api|rollback) when the server keeps a history, ``actor`` when
    known (docs/history.md)."""

    tenant_id: str
    change_type: ChangeKind
    revision: int
    epoch: str | None = None
    checksum: str | None = None
    changed_paths: tuple[str, ...] | None = None
    timestamp: str | None = None
    config: JSONObject | None = None
    patch: tuple[dict[str, Any], ...] | None = None
    body: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    source: str | None = None
    actor: str | None = None
    kind: ClassVar[MessageKind] = MessageKind.CONFIG_CHANGED


@dataclass(frozen=True)
class ConfigInvalid:
    """The tenant's file is invalid now; the last good config stays in force."""

    tenant_id: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    pointer: str | None = None
    body: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    kind: ClassVar[MessageKind] = MessageKind.CONFIG_INVALID

    def error(self) -> dict[str, Any]:
        """The ``InvalidDocument.to_dict()`` shape (``config_error`` of a provider)."""
        return {"file": self.file, "line": self.line, "column": self.column,
                "pointer": self.pointer, "message": self.message}


@dataclass(frozen=True)
class ConfigValid:
    """The error is gone; the config in force did not change."""

    tenant_id: str
    revision: int
    checksum: str | None = None
    body: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    kind: ClassVar[MessageKind] = MessageKind.CONFIG_VALID


@dataclass(frozen=True)
class Ping:
    """``"Ping"``: answer with ``"Pong"``."""

    kind: ClassVar[MessageKind] = MessageKind.PING


@dataclass(frozen=True)
class Pong:
    """``"Pong"``: any frame counts as life."""

    kind: ClassVar[MessageKind] = MessageKind.PONG


Message = Snapshot | ConfigChanged | ConfigInvalid | ConfigValid | Ping | Pong


