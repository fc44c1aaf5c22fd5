"""Typed errors of the engine; only the transports turn them into HTTP errors or close codes."""

from __future__ import annotations

from dataclasses import dataclass


class HotconfError(Exception):
    """Base class of every error the engine raises on purpose."""


class InvalidTenant(HotconfError, ValueError):
    """A tenant id that breaks the rule of docs/config-files.md; ``reason`` says how."""

    def __init__(self, raw: object, reason: str) -> None:
        super().__init__(f"invalid tenant id {raw!r}: {reason}")
        self.raw = raw
        self.reason = reason


@dataclass(frozen=True)
class ErrorLocation:
    """Where a configuration problem is: file relative to the config dir, 1-based line/column."""

    file: str
    line: int | None = None
    column: int | None = None
    pointer: str | None = None


class InvalidDocument(HotconfError):
    """A config file that cannot be used: parse, merge, size, depth or schema error.

    ``file`` is relative to the config dir (``private/acme.json``, ``defaults.yaml``,
    ``schema.json``); ``line``/``column`` are 1-based and ``None`` where the format
    gives none; ``pointer`` is the RFC 6901 JSON pointer of a schema error.
    ``str(err)`` reads like a compiler diagnostic: ``private/acme.json:3:5: error: …``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str,
        line: int | None = None,
        column: int | None = None,
        pointer: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.pointer = pointer

    @property
    def location(self) -> ErrorLocation:
        return ErrorLocation(self.file, self.line, self.column, self.pointer)

    def to_dict(self) -> dict[str, object]:
        """The fields of a ``ConfigInvalid`` message / REST ``error`` object."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "pointer": self.pointer,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        at = f" (at {self.pointer})" if self.pointer else ""
        return f"{where}: error: {self.message}{at}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InvalidDocument) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().values()))


class ProtocolError(HotconfError, ValueError):
    """A frame that is not a message of docs/protocol.md."""


class HistoryUnavailable(HotconfError):
    """The history database cannot be used: corrupt, not a database, a directory in its place,
    no permission, disk error. ``path`` says where and ``reason`` what; a server logs it and
    runs without history (docs/history.md)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"history database {path}: {reason}")
        self.path = path
        self.reason = reason


class HistoryVersionError(HistoryUnavailable):
    """The database was written by a newer (or unknown) schema version; it is never
    overwritten, so the newer program's history stays intact."""

    def __init__(self, path: str, found: int, supported: int) -> None:
        super().__init__(
            path,
            f"schema version {found} is newer than this program knows ({supported}); "
            "upgrade jupyter-hotconf or point the history setting at another file",
        )
        self.found = found
        self.supported = supported


class UnknownRevision(HotconfError, LookupError):
    """A revision that was never recorded, or was pruned by retention."""

    def __init__(self, tenant_id: str, revision: int) -> None:
        super().__init__(f"tenant {tenant_id!r} has no revision {revision} (unknown or pruned)")
        self.tenant_id = tenant_id
        self.revision = revision


class WriteFailed(HotconfError):
    """A validated document could not be written (read-only config dir, disk full …); the
    file is left as it was."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"cannot write {file}: {reason}")
        self.file = file
        self.reason = reason
