"""Every wire message of docs/protocol.md, encode/decode, close codes — sans-I/O.

Frames are compact JSON exactly as the seed's Rust server (serde) sends them: externally
tagged (``{"ConfigChanged":{…}}``, ``"Ping"``), no spaces, ``tenant_id`` and ``change_type``
first. Server and kernel build and read frames only through this module, so the mapping from
a store ``Change`` to a frame lives in one place (``frames_for``).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from typing import Any

from .errors import InvalidDocument, ProtocolError
from .messages import (
    ChangeKind,
    ConfigChanged,
    ConfigInvalid,
    ConfigValid,
    Message,
    MessageKind,
    Ping,
    Pong,
    Snapshot,
)
from .store import Change, ChangeType, TenantState

__all__ = [
    "INCLUDE_VALUES", "PING", "PONG", "PROTOCOL_VERSIONS", "ChangeKind", "CloseCode",
    "ConfigChanged", "ConfigInvalid", "ConfigValid", "Message", "MessageKind", "Ping", "Pong",
    "Snapshot", "config_changed", "config_invalid", "config_valid", "decode", "decode_message",
    "encode", "frames_for", "message_from_frame", "parse_include", "parse_protocol",
    "seed_frame_for", "snapshot",
]

PING = '"Ping"'
PONG = '"Pong"'

#: Values ``include=`` accepts (``protocol=2`` only): extra fields of ``ConfigChanged``.
INCLUDE_VALUES = frozenset({"config", "patch"})
#: ``protocol=`` values a server understands; 1 is the seed's protocol (the default).
PROTOCOL_VERSIONS = frozenset({1, 2})


class CloseCode(enum.IntEnum):
    POLICY = 1008  # flood, bad frame
    TOO_BIG = 1009  # inbound frame over max_message_size
    BAD_TENANT = 4400
    TOKEN_EXPIRED = 4401  # a JWT's exp passed on an open socket (docs/operations.md)
    FORBIDDEN = 4403
    HEARTBEAT_TIMEOUT = 4408
    SLOW_CONSUMER = 4413
    TOO_MANY = 4429


#: A close frame's payload is at most 125 bytes: the 2-byte code and the reason (RFC 6455 §5.5).
MAX_CLOSE_REASON_BYTES = 123


def close_reason(text: str) -> str:
    """``text`` cut to what a close frame can carry: 123 bytes of UTF-8, at a character
    boundary (a reason quoting a client's header can hold any character; a cut by
    characters let Tornado refuse the close, leaving the socket without its close frame).

    >>> close_reason("é" * 100) == "é" * 61
    True
    """
    data = text.encode("utf-8")
    if len(data) <= MAX_CLOSE_REASON_BYTES:
        return text
    return data[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")


_KINDS = {kind.value: kind for kind in MessageKind}
_UNIT_KINDS = (MessageKind.PING, MessageKind.PONG)  # sent as bare strings, like serde
#: Fields a body must have (name → accepted types); other fields are optional and ignored.
#: ConfigChanged needs only the seed's two, so a seed server's frames decode too.
_REQUIRED: dict[MessageKind, dict[str, tuple[type, ...]]] = {
    MessageKind.CONFIG_CHANGED: {"tenant_id": (str,), "change_type": (str,)},
    MessageKind.CONFIG_INVALID: {"tenant_id": (str,), "message": (str,)},
    MessageKind.CONFIG_VALID: {"tenant_id": (str,), "revision": (int,)},
    MessageKind.SNAPSHOT: {"tenant_id": (str,), "revision": (int,)},
}


def encode(message: Any) -> str:
    """Compact JSON (no spaces), key order kept: ``tenant_id`` and ``change_type`` first.

    >>> encode({"ConfigValid": {"tenant_id": "acme", "revision": 3, "checksum": None}})
    '{"ConfigValid":{"tenant_id":"acme","revision":3,"checksum":null}}'
    """
    try:
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"cannot encode message: {exc}") from exc


def decode(text: str | bytes) -> tuple[MessageKind | None, dict[str, Any] | None]:
    """Parse a frame: ``(kind, body)``; unknown kinds → ``(None, None)`` (ignored, not an
    error); a frame that is not JSON or not a message → ``ProtocolError``.

    ``"Ping"``/``"Pong"`` decode with an empty body; unknown fields are kept in the body.
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"frame is not UTF-8 (byte {exc.start})") from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError(
            f"frame is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    return _kind_and_body(value)


def _kind_and_body(value: Any) -> tuple[MessageKind | None, dict[str, Any] | None]:
    """Check the shape of a parsed frame (see ``decode``)."""
    if isinstance(value, str):
        kind = _KINDS.get(value)
        if kind is not None and kind not in _UNIT_KINDS:
            raise ProtocolError(f"message {value!r} needs a body")
        return (kind, {}) if kind is not None else (None, None)
    if not isinstance(value, dict) or len(value) != 1:
        raise ProtocolError(
            "frame is not a message: expected a string or an object with one key, "
            f"got {_shape(value)}"
        )
    ((name, body),) = value.items()
    kind = _KINDS.get(name)
    if kind is None:
        return None, None
    if kind in _UNIT_KINDS:
        if body is not None and body != {}:
            raise ProtocolError(f"message {name!r} takes no body, got {_shape(body)}")
        return kind, {}
    if not isinstance(body, dict):
        raise ProtocolError(f"{name} body must be an object, got {_shape(body)}")
    for key, types in _REQUIRED[kind].items():
        field_value = body.get(key)
        if not isinstance(field_value, types) or isinstance(field_value, bool):
            raise ProtocolError(f"{name}.{key} is missing or not a {types[0].__name__}")
    return kind, body


def _shape(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def parse_include(raw: str) -> frozenset[str]:
    """``include=config,patch`` → ``{"config", "patch"}``; empty items are ignored, anything
    else than ``config``/``patch`` is refused so a typo does not go unnoticed."""
    items = {item.strip() for item in raw.split(",")} - {""}
    unknown = items - INCLUDE_VALUES
    if unknown:
        raise ProtocolError(
            f"include: unknown value(s) {', '.join(sorted(map(repr, unknown)))} "
            f"(allowed: {', '.join(sorted(INCLUDE_VALUES))})"
        )
    return frozenset(items)


def parse_protocol(raw: str | None) -> int:
    """``protocol=`` query value → version (absent or empty → 1, the seed's protocol)."""
    if raw is None or raw.strip() == "":
        return 1
    try:
        version = int(raw.strip())
    except ValueError:
        version = -1
    if version not in PROTOCOL_VERSIONS:
        raise ProtocolError(
            f"protocol: unsupported value {raw!r} (supported: "
            f"{', '.join(map(str, sorted(PROTOCOL_VERSIONS)))})"
        )
    return version


def config_changed(change: Change, *, include: Iterable[str] = ()) -> dict[str, Any]:
    """``{"ConfigChanged": {tenant_id, change_type, revision, epoch, checksum, changed_paths,
    timestamp[, source][, actor][, config][, patch]}}`` — ``include`` ⊆ {"config", "patch"};
    ``source`` when a history knows it, ``actor`` when known (both protocol versions: clients
    ignore fields they do not know, and without them the seed's frame is byte for byte)."""
    if not change.is_wire_change:
        raise ProtocolError(f"a {change.change_type.value!r} change is not a ConfigChanged")
    wanted = frozenset(include)
    if not wanted <= INCLUDE_VALUES:
        raise ProtocolError(f"include: unknown value(s) {sorted(wanted - INCLUDE_VALUES)}")
    body: dict[str, Any] = {
        "tenant_id": change.tenant_id,
        "change_type": change.change_type.value,
        "revision": change.revision,
        "epoch": change.epoch,
        "checksum": change.checksum,
        "changed_paths": change.changed_paths,
        "timestamp": change.timestamp,
    }
    if change.source is not None:
        body["source"] = change.source
    if change.actor is not None:
        body["actor"] = change.actor
    if "config" in wanted:
        body["config"] = change.new
    if "patch" in wanted:
        body["patch"] = change.patch
    return {MessageKind.CONFIG_CHANGED.value: body}


def config_invalid(tenant_id: str, error: InvalidDocument) -> dict[str, Any]:
    """``{"ConfigInvalid": {tenant_id, file, line, column, pointer, message}}``."""
    return {MessageKind.CONFIG_INVALID.value: {"tenant_id": tenant_id, **error.to_dict()}}


def config_valid(tenant_id: str, revision: int, checksum: str | None) -> dict[str, Any]:
    """``{"ConfigValid": {tenant_id, revision, checksum}}``: the error is gone, the config in
    force did not change (an invalid edit was reverted)."""
    return {
        MessageKind.CONFIG_VALID.value: {
            "tenant_id": tenant_id,
            "revision": revision,
            "checksum": checksum,
        }
    }


def snapshot(state: TenantState | None, tenant_id: str, *, epoch: str, mode: str) -> dict[str, Any]:
    """``{"Snapshot": {tenant_id, revision, checksum, epoch, exists, valid, error, config, mode}}``;
    ``state=None`` (unknown tenant) → revision 0, exists false, valid true, config null."""
    error = state.error if state is not None else None
    return {
        MessageKind.SNAPSHOT.value: {
            "tenant_id": tenant_id,
            "revision": state.revision if state is not None else 0,
            "checksum": state.checksum if state is not None else None,
            "epoch": epoch,
            "exists": state.exists if state is not None else False,
            "valid": state.valid if state is not None else True,
            "error": error.to_dict() if error is not None else None,
            "config": state.config if state is not None else None,
            "mode": mode,
        }
    }


def frames_for(change: Change, include: Iterable[str] = ()) -> dict[str, Any] | None:
    """The ``protocol=2`` message for a store ``Change``: ConfigChanged (created, modified,
    deleted), ConfigInvalid (invalid), ConfigValid (recovered), ``None`` (unchanged).

    Seed (protocol 1) clients get only ConfigChanged, without ``include`` fields: use
    ``seed_frame_for``.
    """
    kind = change.change_type
    if change.is_wire_change:
        return config_changed(change, include=include)
    if kind is ChangeType.INVALID:
        if change.error is None:
            raise ProtocolError(f"invalid change of {change.tenant_id!r} carries no error")
        return config_invalid(change.tenant_id, change.error)
    if kind is ChangeType.RECOVERED:
        return config_valid(change.tenant_id, change.revision, change.checksum)
    return None


def seed_frame_for(change: Change) -> dict[str, Any] | None:
    """The message a protocol-1 (seed) client gets for ``change``: ConfigChanged or ``None``."""
    return config_changed(change) if change.is_wire_change else None


# -- typed messages (what a follower reads) ------------------------------------------------


def decode_message(text: str | bytes) -> Message | None:
    """``decode`` into a typed message; unknown kinds → ``None``; a known message with a
    field of the wrong type → ``ProtocolError`` (unknown fields are ignored).

    >>> decode_message('{"ConfigValid":{"tenant_id":"acme","revision":3,"checksum":null}}')
    ConfigValid(tenant_id='acme', revision=3, checksum=None)
    """
    return _typed(*decode(text))


def message_from_frame(frame: Any) -> Message | None:
    """The typed message of a frame built in-process (``frames_for``, ``snapshot``), so local
    mode reads exactly what a socket would."""
    return _typed(*_kind_and_body(frame))


def _opt(body: dict[str, Any], key: str, *types: type) -> Any:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        raise ProtocolError(f"{key} must be {' or '.join(t.__name__ for t in types)}, "
                            f"got {_shape(value)}")
    return value


def _typed(kind: MessageKind | None, body: dict[str, Any] | None) -> Message | None:
    if kind is None or body is None:
        return None
    if kind is MessageKind.PING:
        return Ping()
    if kind is MessageKind.PONG:
        return Pong()
    tenant = str(body["tenant_id"])
    if kind is MessageKind.SNAPSHOT:
        exists, valid = _opt(body, "exists", bool), _opt(body, "valid", bool)
        return Snapshot(
            tenant, body["revision"], _opt(body, "epoch", str), _opt(body, "checksum", str),
            exists is not False, valid is not False, _opt(body, "error", dict),
            _opt(body, "config", dict), _opt(body, "mode", str), body,
        )
    if kind is MessageKind.CONFIG_CHANGED:
        try:
            change_type = ChangeKind(body["change_type"])
        except ValueError:
            raise ProtocolError(f"unknown change_type {body['change_type']!r}") from None
        paths, patch = _opt(body, "changed_paths", list), _opt(body, "patch", list)
        return ConfigChanged(
            tenant, change_type, _opt(body, "revision", int) or 0, _opt(body, "epoch", str),
            _opt(body, "checksum", str), tuple(map(str, paths)) if paths is not None else None,
            _opt(body, "timestamp", str), _opt(body, "config", dict),
            tuple(patch) if patch is not None else None, body,
            source=_opt(body, "source", str), actor=_opt(body, "actor", str),
        )
    if kind is MessageKind.CONFIG_INVALID:
        return ConfigInvalid(
            tenant, body["message"], _opt(body, "file", str), _opt(body, "line", int),
            _opt(body, "column", int), _opt(body, "pointer", str), body,
        )
    return ConfigValid(tenant, body["revision"], _opt(body, "checksum", str), body)
