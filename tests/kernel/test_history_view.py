"""How history reads in a notebook: the entries table (HTML, text, DataFrame), a revision's
read-only config, and a diff as old → new values per changed path."""

from __future__ import annotations

import html.parser
import sys

import pandas as pd
import pytest

from jupyter_hotconf.core.history_types import HistoryEntry
from jupyter_hotconf.kernel.history_view import (
    PATHS_SHOWN,
    ConfigDiff,
    HistoryEntries,
    RevisionConfig,
    entry_from_dict,
)


class Cells(html.parser.HTMLParser):
    """The text of every ``<td>``/``<th>`` per row, and each row's class."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.classes: list[str | None] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
            self.classes.append(dict(attrs).get("class"))
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def cells(markup: str) -> Cells:
    parser = Cells()
    parser.feed(markup)
    return parser


ENTRIES = [
    {"revision": 3, "timestamp": "2026-11-29T10:02:00.500Z", "change_type": "modified",
     "source": "rollback", "actor": "alice", "checksum": "sha256:c", "changed_paths":
     ["/pricing/discount"], "patch": [{"op": "replace", "path": "/pricing/discount",
                                       "value": 0.1}], "file": "private/acme.json",
     "error": None, "unknown_field": 1},
    {"revision": None, "timestamp": "2026-11-29T10:01:30.000Z", "change_type": "invalid",
     "source": "watcher", "actor": None, "checksum": None, "changed_paths": [], "patch": [],
     "file": "private/acme.json", "error": {"file": "private/acme.json", "line": 3,
                                            "column": 5, "pointer": None,
                                            "message": "expected ',' <b>"}},
    {"revision": 2, "timestamp": "2026-11-29T10:01:00.000Z", "change_type": "modified",
     "source": "watcher", "actor": None, "checksum": "sha256:b",
     "changed_paths": [f"/k{i}" for i in range(PATHS_SHOWN + 2)], "patch": [],
     "file": "private/acme.json", "error": None},
    {"revision": 1, "timestamp": "2026-11-29T10:00:00.000Z", "change_type": "created",
     "source": "startup", "actor": None, "checksum": "sha256:a", "changed_paths": [""],
     "patch": [], "file": "private/acme.json", "error": None},
]


def table() -> HistoryEntries:
    return HistoryEntries("acme", (entry_from_dict("acme", e) for e in ENTRIES), epoch="ep")


def test_entries_are_core_entries_and_render_as_a_table_a_person_reads() -> None:
    got = table()
    assert isinstance(got, list) and all(isinstance(e, HistoryEntry) for e in got)
    assert got[0].to_dict() == {k: v for k, v in ENTRIES[0].items() if k != "unknown_field"}
    assert got.epoch == "ep" and got.tenant_id == "acme"
    parsed = cells(got._repr_html_())
    assert parsed.rows[0] == ["revision", "time", "change", "source", "actor",
                              "changed paths / error"]
    assert parsed.rows[1] == ["r3", "2026-11-29 10:02:00 UTC", "modified", "rollback", "alice",
                              "/pricing/discount"]
    # an invalid attempt: no revision, its error with file:line:column, escaped, row marked
    assert parsed.rows[2][:5] == ["-", "2026-11-29 10:01:30 UTC", "invalid", "watcher", "-"]
    assert parsed.rows[2][5] == "private/acme.json:3:5: expected ',' <b>"
    assert "<b>" not in got._repr_html_() and parsed.classes[2] == "invalid"
    # many changed paths: the first few, then how many more
    assert parsed.rows[3][5].endswith("… (+2 more)") and "/k0" in parsed.rows[3][5]
    assert "/k5" not in parsed.rows[3][5]
    text = repr(got)
    assert text.splitlines()[0] == "history of 'acme': 4 entries"
    assert "r3" in text and "rollback" in text and "private/acme.json:3:5" in text
    empty = HistoryEntries("acme")
    assert "no entries" in empty._repr_html_() and repr(empty) == "history of 'acme': empty"


def test_to_dataframe_one_row_per_entry_with_utc_times() -> None:
    frame = table().to_dataframe()
    assert list(frame["revision"].astype(object).where(frame["revision"].notna(), None)) == [
        3, None, 2, 1]
    assert list(frame["source"]) == ["rollback", "watcher", "watcher", "startup"]
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2026-11-29T10:02:00.500Z")
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert frame["error"].iloc[1]["line"] == 3
    assert list(frame.columns)[:4] == ["revision", "timestamp", "change_type", "source"]
    assert len(HistoryEntries("acme").to_dataframe()) == 0


def test_to_dataframe_without_pandas_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # what an absent package looks like
    with pytest.raises(ImportError, match="pip install pandas"):
        table().to_dataframe()


def test_revision_config_is_read_only_with_its_metadata() -> None:
    rev = RevisionConfig.from_dict({
        "tenant_id": "acme", "revision": 2, "checksum": "sha256:b",
        "timestamp": "2026-11-29T10:01:00.000Z", "config": {"pricing": {"discount": 0.5}},
        "document": {"pricing": {"discount": 0.5}},
    })
    assert rev["pricing"]["discount"] == 0.5 and rev.revision == 2 and not rev.deleted
    assert rev == {"pricing": {"discount": 0.5}} and rev.document == rev
    with pytest.raises(TypeError):
        rev["pricing"]["discount"] = 1  # type: ignore[index]
    assert "r2" in repr(rev)
    gone = RevisionConfig("acme", 4, None, "2026-11-29T10:03:00.000Z", None, None)
    assert gone.deleted and dict(gone) == {} and "deleted" in repr(gone)


def test_diff_shows_old_and_new_value_per_changed_path() -> None:
    old = {"pricing": {"discount": 0.1, "currency": "USD"}, "tags": ["a"], "x/y": 1}
    new = {"pricing": {"discount": 0.5}, "tags": ["a", "b"], "features": {"beta": True},
           "x/y": "<i>"}
    d = ConfigDiff("acme", 1, 3, [], ["/features", "/pricing/currency", "/pricing/discount",
                                      "/tags/1", "/x~1y"], old, new)
    assert d.rows == [
        ("/features", "(absent)", '{"beta": true}'),
        ("/pricing/currency", '"USD"', "(absent)"),
        ("/pricing/discount", "0.1", "0.5"),
        ("/tags/1", "(absent)", '"b"'),
        ("/x~1y", "1", '"<i>"'),
    ]
    parsed = cells(d._repr_html_())
    assert parsed.rows[0] == ["path", "old", "", "new"]
    assert parsed.rows[3] == ["/pricing/discount", "0.1", "→", "0.5"]
    assert "<i>" not in d._repr_html_()
    assert "acme: r1 → r3, 5 changed paths" in d._repr_html_()
    assert repr(d).splitlines()[3] == "  /pricing/discount: 0.1 → 0.5"
    assert d.to_dict() == {"from": 1, "to": 3, "patch": [], "changed_paths": d.changed_paths}
    # a deleted side reads as absent everywhere; nothing changed says so
    assert ConfigDiff("acme", 1, 2, [], [""], old, None).rows[0][2] == "(absent)"
    assert "no changes" in ConfigDiff("acme", 2, 2, [], [], new, new)._repr_html_()
