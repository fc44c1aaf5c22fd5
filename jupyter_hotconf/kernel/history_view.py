"""How a tenant's history reads in a notebook (``docs/kernel.md``, history): an HTML table of
entries, a revision's read-only config, and a diff shown as old → new value per changed path.

Plain values built from what ``core.history`` hands out (or the REST answers of the same
shape), so local and server mode look alike; nothing here does I/O.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.history_types import HistoryEntry
from .view import ConfigView

#: Changed paths shown per row before "+N more": a table read at a glance, not a dump.
PATHS_SHOWN = 4
#: Longest value shown in a diff cell before it is cut (the full value is in ``patch``).
VALUE_CHARS = 200
_ABSENT = object()

_STYLE = (
    "<style>.hotconf-history td,.hotconf-history th{text-align:left;vertical-align:top;"
    "padding:2px 8px}.hotconf-history tr.invalid td{color:#c62828}"
    ".hotconf-history .old{color:#c62828}.hotconf-history .new{color:#2e7d32}"
    ".hotconf-history code{white-space:pre-wrap}</style>"
)


def entry_from_dict(tenant_id: str, data: Mapping[str, Any]) -> HistoryEntry:
    """A REST ``entries[]`` item as the core's ``HistoryEntry`` (unknown fields ignored)."""
    return HistoryEntry(
        tenant_id, data.get("revision"), str(data.get("timestamp") or ""),
        str(data.get("change_type") or ""), str(data.get("source") or ""), data.get("actor"),
        data.get("checksum"), list(data.get("changed_paths") or []),
        list(data.get("patch") or []), data.get("file"), data.get("error"),
    )


def _when(timestamp: str) -> str:
    """``2026-11-29T10:00:00.123Z`` → ``2026-11-29 10:00:00 UTC`` (ms are noise in a table)."""
    if len(timestamp) >= 19 and timestamp[10] == "T":
        return f"{timestamp[:10]} {timestamp[11:19]} UTC"
    return timestamp


def _error_text(error: Mapping[str, Any]) -> str:
    where = str(error.get("file") or "")
    for key in ("line", "column"):
        if error.get(key) is not None:
            where += f":{error[key]}"
    at = f" (at {error['pointer']})" if error.get("pointer") else ""
    return f"{where}: {error.get('message', '')}{at}" if where else f"{error.get('message')}{at}"


def _paths_text(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:PATHS_SHOWN])
    more = len(paths) - PATHS_SHOWN
    return f"{shown} … (+{more} more)" if more > 0 else shown


def entry_row(entry: HistoryEntry) -> tuple[str, ...]:
    """The columns a person reads: revision, time, change, source, actor, what changed (the
    error for an invalid attempt)."""
    what = _error_text(entry.error) if entry.error else _paths_text(entry.changed_paths)
    return (
        "-" if entry.revision is None else f"r{entry.revision}", _when(entry.timestamp),
        entry.change_type, entry.source, entry.actor or "-", what or "-",
    )


COLUMNS = ("revision", "time", "change", "source", "actor", "changed paths / error")


class HistoryEntries(list[HistoryEntry]):
    """A tenant's history, newest first: a plain list of ``core.history.HistoryEntry`` that
    renders as a table (HTML in a notebook, aligned text elsewhere).

    ``epoch`` is the history's revision numbering (it changes only with a new database).
    """

    def __init__(self, tenant_id: str, entries: Iterable[HistoryEntry] = (),
                 epoch: str | None = None) -> None:
        super().__init__(entries)
        self.tenant_id = tenant_id
        self.epoch = epoch

    def to_dataframe(self) -> Any:
        """The entries as a ``pandas.DataFrame`` (one row per entry, ``timestamp`` as UTC
        datetimes) for filtering and plotting; needs pandas."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "HistoryEntries.to_dataframe() needs pandas, which is not installed: "
                "pip install pandas (the entries are also a plain list of HistoryEntry)"
            ) from None
        rows = [entry.to_dict() for entry in self]
        columns = list(HistoryEntry(self.tenant_id, None, "", "", "", None, None).to_dict())
        frame = pd.DataFrame(rows, columns=columns)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
        frame["revision"] = frame["revision"].astype("Int64")  # invalid attempts: <NA>
        return frame

    def __repr__(self) -> str:
        rows = [COLUMNS, *(entry_row(e) for e in self)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS) - 1)]
        lines = ["  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]])
                 for r in rows]
        title = f"history of {self.tenant_id!r}: {len(self)} entries"
        return "\n".join([title, *lines]) if self else f"history of {self.tenant_id!r}: empty"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in COLUMNS)
        body = "".join(
            f'<tr class="{html.escape(e.change_type)}">'
            + "".join(f"<td>{html.escape(cell)}</td>" for cell in entry_row(e)) + "</tr>"
            for e in self
        )
        if not self:
            body = f'<tr><td colspan="{len(COLUMNS)}">no entries</td></tr>'
        caption = f"<caption>history of {html.escape(self.tenant_id)}</caption>"
        return (f'{_STYLE}<table class="hotconf-history">{caption}<thead><tr>{head}</tr>'
                f"</thead><tbody>{body}</tbody></table>")


class RevisionConfig(ConfigView):
    """The read-only merged config of one stored revision (``cfg.at(n)``), with what the
    history knows of it: ``revision``, ``checksum``, ``timestamp`` and ``document`` (the
    tenant's own file content, without defaults). A deletion reads as ``{}``
    with ``deleted`` True."""

    __slots__ = ("checksum", "deleted", "document", "revision", "tenant_id", "timestamp")

    def __init__(self, tenant_id: str, revision: int, checksum: str | None, timestamp: str,
                 config: Mapping[str, Any] | None, document: Mapping[str, Any] | None) -> None:
        super().__init__(config)
        self.tenant_id = tenant_id
        self.revision = revision
        self.checksum = checksum
        self.timestamp = timestamp
        self.document = None if document is None else ConfigView(document)
        self.deleted = config is None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RevisionConfig:
        """From ``Revision.to_dict()`` / the REST ``revisions/{n}`` answer."""
        return cls(str(data["tenant_id"]), int(data["revision"]), data.get("checksum"),
                   str(data.get("timestamp") or ""), data.get("config"), data.get("document"))

    def __repr__(self) -> str:
        what = "deleted" if self.deleted else repr(self._data)
        return f"<{self.tenant_id!r} r{self.revision} {_when(self.timestamp)}: {what}>"


def _resolve(config: Any, pointer: str) -> Any:
    """The value at RFC 6901 ``pointer`` in ``config``, or ``_ABSENT``."""
    node = config
    if pointer == "":
        return node if node is not None else _ABSENT
    for raw in pointer[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, Sequence) and not isinstance(node, str) and part.isdigit() \
                and int(part) < len(node):
            node = node[int(part)]
        else:
            return _ABSENT
    return node


def _value_text(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


@dataclass(frozen=True)
class ConfigDiff:
    """What changed from revision ``from_revision`` to ``to_revision`` of a tenant: the
    RFC 6902 ``patch``, the JSON pointers it touches, and each path's old and new value
    (``rows``), which a notebook shows as an old → new table."""

    tenant_id: str
    from_revision: int
    to_revision: int
    patch: list[dict[str, Any]]
    changed_paths: list[str]
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """``(path, old, new)`` as compact JSON, ``(absent)`` where the path does not exist."""
        return [(p, _value_text(_resolve(self.old, p)), _value_text(_resolve(self.new, p)))
                for p in self.changed_paths]

    def to_dict(self) -> dict[str, Any]:
        """The REST ``diff`` shape."""
        return {"from": self.from_revision, "to": self.to_revision, "patch": list(self.patch),
                "changed_paths": list(self.changed_paths)}

    def _title(self) -> str:
        n = len(self.changed_paths)
        return (f"{self.tenant_id}: r{self.from_revision} → r{self.to_revision}, "
                f"{n} changed path{'' if n == 1 else 's'}")

    def __repr__(self) -> str:
        lines = [self._title()]
        lines += [f"  {path}: {old} → {new}" for path, old, new in self.rows]
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td><code>{html.escape(path)}</code></td>"
            f'<td class="old"><code>{html.escape(old)}</code></td><td>→</td>'
            f'<td class="new"><code>{html.escape(new)}</code></td></tr>'
            for path, old, new in self.rows
        ) or '<tr><td colspan="4">no changes</td></tr>'
        return (f'{_STYLE}<table class="hotconf-history"><caption>{html.escape(self._title())}'
                "</caption><thead><tr><th>path</th><th>old</th><th></th><th>new</th></tr>"
                f"</thead><tbody>{body}</tbody></table>")
