"""Why a write from a notebook was refused (``docs/kernel.md``, "Write-back").

One base class, ``ConfigWriteError``, with the HTTP status it stands for (also in local
mode, where the same refusals come from the same checks): ``ConfigConflict`` (412, the
config moved since the provider saw it), ``ConfigRejected`` (422, the result would be an
invalid config: file, line, column, pointer), ``ConfigReadOnly`` (403). Anything else the
server refuses (a 409 patch, 413, a 504 write timeout) is a plain ``ConfigWriteError``.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import HotconfError, InvalidDocument

__all__ = ["ConfigConflict", "ConfigReadOnly", "ConfigRejected", "ConfigWriteError",
           "from_response"]


class ConfigWriteError(HotconfError):
    """A write of ``tenant_id`` that did not happen (or, for 504, was not seen applied)."""

    def __init__(self, tenant_id: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.tenant_id = tenant_id
        self.status = status


class ConfigConflict(ConfigWriteError):
    """The config changed since this provider saw it (HTTP 412): nothing was written.
    ``current_revision``/``current_checksum`` say what is in force now."""

    def __init__(self, tenant_id: str, current_revision: int | None,
                 current_checksum: str | None, expected: str | None) -> None:
        now = f"r{current_revision}" if current_revision else "another content"
        super().__init__(
            tenant_id, f"tenant {tenant_id!r} changed since this provider read it (now "
            f"{now}); nothing was written — read the new config and try again", 412)
        self.current_revision = current_revision
        self.current_checksum = current_checksum
        self.expected = expected


class ConfigRejected(ConfigWriteError):
    """The new config would be invalid (HTTP 422): nothing was written. ``pointer`` and
    ``message`` say what is wrong, ``file``/``line``/``column`` where (as for a bad edit)."""

    def __init__(self, tenant_id: str, error: dict[str, Any]) -> None:
        self.file = error.get("file")
        self.line = error.get("line")
        self.column = error.get("column")
        self.pointer = error.get("pointer")
        self.message = str(error.get("message") or "invalid config")
        where = ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)
        at = f" (at {self.pointer})" if self.pointer else ""
        super().__init__(tenant_id, f"{where + ': ' if where else ''}{self.message}{at}", 422)

    @classmethod
    def of(cls, tenant_id: str, error: InvalidDocument) -> ConfigRejected:
        return cls(tenant_id, error.to_dict())


class ConfigReadOnly(ConfigWriteError):
    """Writes are refused here (HTTP 403): a read-only server, ``prod`` mode, or a token
    without the ``write`` permission; the message is the server's reason."""

    def __init__(self, tenant_id: str, reason: str) -> None:
        super().__init__(tenant_id, f"tenant {tenant_id!r} is read-only here: {reason}", 403)


def from_response(tenant_id: str, status: int, body: Any, text: str) -> ConfigWriteError:
    """The error for a refused REST write: ``body`` is the JSON answer (or None), ``text``
    the reason to fall back on."""
    body = body if isinstance(body, dict) else {}
    reason = str(body.get("message") or body.get("reason") or text)
    if status == 412:
        revision = body.get("revision")
        return ConfigConflict(tenant_id, revision if isinstance(revision, int) else None,
                              body.get("checksum"), None)
    if status == 422:
        error = body.get("error")
        return ConfigRejected(tenant_id, error if isinstance(error, dict) else
                              {"message": reason})
    if status == 403:
        return ConfigReadOnly(tenant_id, reason)
    return ConfigWriteError(tenant_id, f"write of {tenant_id!r} refused: HTTP {status} "
                                       f"{reason}".rstrip(), status)
