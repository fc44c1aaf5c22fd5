"""What the history hands out: audit entries, stored revisions, diffs (docs/history.md).

Plain frozen values with a ``to_dict`` in the shape of the REST answers, so transports only
wrap them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, NamedTuple

from .documents import JSONObject


class Source(str, enum.Enum):
    """What caused an entry: a file edit seen by the watcher, the comparison at start-up,
    a write through the API, or a rollback."""

    WATCHER = "watcher"
    STARTUP = "startup"
    API = "api"
    ROLLBACK = "rollback"


def iso_ms(seconds: float) -> str:
    """Seconds since the epoch as ISO 8601 UTC with milliseconds and ``Z``, the format of
    ``store.utc_timestamp`` (which cannot take an injected clock)."""
    stamp = datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


class LastRevision(NamedTuple):
    """A tenant's latest recorded revision; ``checksum`` is None when it is a deletion."""

    revision: int
    checksum: str | None


class First(NamedTuple):
    """A tenant's first revision as the loader and the store made it, for ``record_firsts``:
    its merged config (with its checksum), its own document (or its JSON text, a ``str``),
    the patch from nothing and the pointers it touches (None: made from the config when
    written), and its file. A server's first start keeps only the text and no patch, so a
    load that queues 10,000 firsts keeps no patches or documents alive."""

    tenant_id: str
    config: Any
    document: Any
    checksum: str
    patch: list[dict[str, Any]] | None
    paths: list[str] | None
    file: str | None


class Delta(NamedTuple):
    """A patch a recorder has computed already (the ``ConfigStore``'s): from the config whose
    checksum is ``base`` (None: from nothing) to the one recorded, and the pointers it touches."""

    base: str | None
    patch: list[dict[str, Any]]
    paths: list[str]


@dataclass(frozen=True)
class HistoryEntry:
    """One audit entry: a revision (created/modified/deleted), an invalid attempt
    (``revision`` None) or a recovery to the revision in force."""

    tenant_id: str
    revision: int | None
    timestamp: str
    change_type: str
    source: str
    actor: str | None
    checksum: str | None
    changed_paths: list[str] = field(default_factory=list)
    patch: list[dict[str, Any]] = field(default_factory=list)
    file: str | None = None
    error: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The entry as REST and the CLI show it (the tenant is said once, around it)."""
        return {
            "revision": self.revision,
            "timestamp": self.timestamp,
            "change_type": self.change_type,
            "source": self.source,
            "actor": self.actor,
            "checksum": self.checksum,
            "changed_paths": list(self.changed_paths),
            "patch": list(self.patch),
            "file": self.file,
            "error": self.error,
        }


@dataclass(frozen=True)
class Recorded:
    """What ``HistoryStore.record`` did: ``revision`` is the one to broadcast with (new, or
    the existing one when the content was already recorded — maybe by another process);
    ``added`` says a new revision was written; ``entry`` is the entry written, if any (a
    ``recovered`` entry is written without a new revision); ``pruned`` how many entries of
    the tenant retention dropped in the same transaction."""

    revision: int
    checksum: str | None
    added: bool
    entry: HistoryEntry | None = None
    pruned: int = 0


@dataclass(frozen=True)
class Revision:
    """A stored revision with its merged config and the tenant's own document (both None for
    a deletion; ``document`` None when the recorder did not know it)."""

    tenant_id: str
    revision: int
    checksum: str | None
    timestamp: str
    config: JSONObject | None
    document: JSONObject | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "revision": self.revision,
            "checksum": self.checksum,
            "timestamp": self.timestamp,
            "config": self.config,
            "document": self.document,
        }


@dataclass(frozen=True)
class RevisionDiff:
    """RFC 6902 patch from revision ``from_revision`` to ``to_revision`` (a deletion counts as
    ``{}``) and the JSON pointers it touches."""

    tenant_id: str
    from_revision: int
    to_revision: int
    patch: list[dict[str, Any]]
    changed_paths: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.from_revision,
            "to": self.to_revision,
            "patch": list(self.patch),
            "changed_paths": list(self.changed_paths),
        }
