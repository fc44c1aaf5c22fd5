"""HistoryStore on a real SQLite file: recording by content, queries, diff, retention,
file modes, schema version and the typed errors a server logs (docs/history.md)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from jupyter_hotconf.core.documents import checksum
from jupyter_hotconf.core.errors import (
    HistoryUnavailable,
    HistoryVersionError,
    HotconfError,
    InvalidDocument,
    InvalidTenant,
    UnknownRevision,
)
from jupyter_hotconf.core.history import HistoryStore, open_history
from jupyter_hotconf.core.history_db import SCHEMA_VERSION, default_history_path

DAY = 86_400.0


class Clock:
    """A clock the test moves by hand (retention is about days)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hotconf" / "history.sqlite"


@pytest.fixture
def history(db_path: Path) -> HistoryStore:
    store = HistoryStore(db_path)
    yield store
    store.close()


# ---------------------------------------------------------------- recording


def test_record_is_idempotent_by_content(history: HistoryStore) -> None:
    first = history.record("acme", {"a": 1}, document={"a": 1}, file="private/acme.json")
    again = history.record("acme", {"a": 1})
    second = history.record("acme", {"a": 2})
    assert (first.revision, first.added) == (1, True)
    assert (again.revision, again.added, again.entry) == (1, False, None)
    assert (second.revision, second.added) == (2, True)
    assert second.checksum == checksum({"a": 2})
    assert history.last("acme") == (2, checksum({"a": 2}))


def test_entries_carry_every_field(history: HistoryStore) -> None:
    history.record("acme", {"a": 1, "b": {"c": 1}}, file="private/acme.json")
    history.record(
        "acme", {"a": 1, "b": {"c": 2}}, source="api", actor="alice", file="private/acme.json"
    )
    newest = history.history("acme")[0].to_dict()
    assert newest == {
        "revision": 2,
        "timestamp": newest["timestamp"],
        "change_type": "modified",
        "source": "api",
        "actor": "alice",
        "checksum": checksum({"a": 1, "b": {"c": 2}}),
        "changed_paths": ["/b/c"],
        "patch": [{"op": "replace", "path": "/b/c", "value": 2}],
        "file": "private/acme.json",
        "error": None,
    }
    assert newest["timestamp"].endswith("Z") and len(newest["timestamp"]) == 24


def test_created_deleted_created_again(history: HistoryStore) -> None:
    history.record("acme", {"a": 1})
    gone = history.record("acme", None, source="startup")
    assert (gone.revision, gone.checksum, gone.entry and gone.entry.change_type) == (
        2, None, "deleted"
    )
    assert gone.entry is not None and gone.entry.patch == [{"op": "remove", "path": "/a"}]
    assert history.record("acme", None).added is False  # deleting twice is one deletion
    back = history.record("acme", {"a": 1})
    assert back.entry is not None and (back.revision, back.entry.change_type) == (3, "created")
    assert history.revision("acme", 2) is not None
    assert history.revision("acme", 2).config is None  # type: ignore[union-attr]


def test_a_tenant_never_recorded_has_nothing_to_delete(history: HistoryStore) -> None:
    assert history.record("ghost", None) == history.record("ghost", None)
    assert history.record("ghost", None).revision == 0
    assert history.last("ghost") is None
    assert history.history("ghost") == []


def test_invalid_attempts_have_no_revision_and_are_recorded_once(history: HistoryStore) -> None:
    history.record("acme", {"a": 1})
    error = InvalidDocument("duplicate key", file="private/acme.json", line=3, column=5)
    entry = history.record_invalid("acme", error)
    assert entry is not None and entry.revision is None and entry.checksum is None
    assert history.record_invalid("acme", error) is None  # the same error once
    recovered = history.record("acme", {"a": 1})  # fixed back to the content in force
    assert (recovered.revision, recovered.added) == (1, False)
    assert recovered.entry is not None and recovered.entry.change_type == "recovered"
    kinds = [(e.change_type, e.revision) for e in history.history("acme")]
    assert kinds == [("recovered", 1), ("invalid", None), ("created", 1)]
    assert history.history("acme")[1].error == {
        "file": "private/acme.json", "line": 3, "column": 5, "pointer": None,
        "message": "duplicate key",
    }
    assert history.record("acme", {"a": 1}).entry is None  # recovered once, too


def test_bad_tenant_and_source_are_refused(history: HistoryStore) -> None:
    with pytest.raises(InvalidTenant):
        history.record("../etc", {"a": 1})
    with pytest.raises(ValueError):
        history.record("acme", {"a": 1}, source="cron")
    assert history.last_all() == {}


# ---------------------------------------------------------------- queries


def test_revision_keeps_config_and_document(history: HistoryStore) -> None:
    history.record("acme", {"z": 1, "a": {"y": 2, "b": 3}}, document={"a": {"y": 2}})
    rev = history.revision("acme", 1)
    assert rev is not None
    assert list(rev.config or {}) == ["z", "a"]  # key order as recorded
    assert rev.to_dict() == {
        "tenant_id": "acme", "revision": 1, "checksum": checksum(rev.config),
        "timestamp": rev.timestamp, "config": {"z": 1, "a": {"y": 2, "b": 3}},
        "document": {"a": {"y": 2}},
    }
    assert history.revision("acme", 2) is None


def test_last_all_lists_every_tenant_with_deletions(history: HistoryStore) -> None:
    history.record("acme", {"a": 1})
    history.record("acme", {"a": 2})
    history.record("globex", {"g": 1})
    history.record("globex", None)
    assert history.last_all() == {"acme": (2, checksum({"a": 2})), "globex": (2, None)}


def test_history_pages_newest_first(history: HistoryStore) -> None:
    for n in range(1, 8):
        history.record("acme", {"n": n})
    history.record("globex", {"n": 0})
    assert [e.revision for e in history.history("acme", limit=3)] == [7, 6, 5]
    assert [e.revision for e in history.history("acme", limit=3, before=5)] == [4, 3, 2]
    assert [e.revision for e in history.history("acme", before=2)] == [1]
    assert [e.revision for e in history.history("acme", before=99, limit=1)] == [7]
    with pytest.raises(ValueError):
        history.history("acme", limit=0)


def test_diff_between_revisions_and_to_current(history: HistoryStore) -> None:
    history.record("acme", {"a": 1, "b": 1})
    history.record("acme", {"a": 2, "b": 1})
    history.record("acme", {"a": 2, "c": 1})
    d = history.diff("acme", 1)
    assert (d.from_revision, d.to_revision) == (1, 3)
    assert d.changed_paths == ["/a", "/b", "/c"]
    assert d.to_dict()["from"] == 1 and d.to_dict()["to"] == 3
    assert history.diff("acme", 2, 1).patch == [{"op": "replace", "path": "/a", "value": 1}]
    with pytest.raises(UnknownRevision) as info:
        history.diff("acme", 1, 9)
    assert info.value.revision == 9 and isinstance(info.value, HotconfError)
    with pytest.raises(UnknownRevision):
        history.diff("ghost", 1)


# ---------------------------------------------------------------- retention


def test_max_revisions_keeps_the_newest(db_path: Path) -> None:
    with HistoryStore(db_path, max_revisions=3, max_age_days=0) as history:
        for n in range(1, 7):
            history.record("acme", {"n": n})
        history.record("globex", {"n": 0})
        assert [e.revision for e in history.history("acme")] == [6, 5, 4]
        assert history.revision("acme", 3) is None and history.revision("acme", 4) is not None
        assert history.record("acme", {"n": 7}).revision == 7  # numbering goes on
        assert history.last("globex") == (1, checksum({"n": 0}))


def test_max_age_prunes_old_but_never_the_current_revision(db_path: Path) -> None:
    clock = Clock()
    with HistoryStore(db_path, max_revisions=0, max_age_days=30, clock=clock) as history:
        history.record("acme", {"n": 1})
        history.record("acme", {"n": 2})
        history.record("globex", {"n": 1})
        history.record_invalid("globex", InvalidDocument("bad", file="private/globex.json"))
        clock.now += 31 * DAY
        history.record("acme", {"n": 3})
        assert [e.revision for e in history.history("acme")] == [3]
        history.prune()
        # globex's only revision is its current one: kept, though old; its old invalid
        # attempt goes.
        assert [(e.change_type, e.revision) for e in history.history("globex")] == [
            ("created", 1)
        ]
        clock.now += 365 * DAY
        history.prune()
        assert history.last("acme") == (3, checksum({"n": 3}))
        assert history.revision("acme", 3) is not None


def test_forever_keeps_everything(db_path: Path) -> None:
    clock = Clock()
    with HistoryStore(db_path, max_revisions=0, max_age_days=0, clock=clock) as history:
        for n in range(1, 5):
            history.record("acme", {"n": n})
            clock.now += 1000 * DAY
        history.prune()
        assert len(history.history("acme")) == 4


# ---------------------------------------------------------------- the file


def test_default_path_is_per_config_dir(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    (tmp_path / "link").symlink_to(configs)
    path = default_history_path(configs, tmp_path / "data")
    digest = hashlib.sha256(os.path.realpath(configs).encode()).hexdigest()[:12]
    assert path == tmp_path / "data" / "hotconf" / f"history-{digest}.sqlite"
    assert default_history_path(tmp_path / "link", tmp_path / "data") == path
    assert default_history_path(tmp_path, tmp_path / "data") != path


def test_file_modes_wal_version_and_epoch(db_path: Path) -> None:
    with HistoryStore(db_path) as history:
        epoch = history.epoch
        history.record("acme", {"a": 1})
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
    raw = sqlite3.connect(db_path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()
    with HistoryStore(db_path) as reopened:  # revisions and epoch survive a restart
        assert reopened.epoch == epoch
        assert reopened.record("acme", {"a": 1}).revision == 1
        assert reopened.record("acme", {"a": 2}).revision == 2
    with HistoryStore(db_path.with_name("other.sqlite")) as other:
        assert other.epoch != epoch


def test_newer_schema_version_is_refused_and_left_alone(db_path: Path) -> None:
    HistoryStore(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    before = db_path.read_bytes()
    with pytest.raises(HistoryVersionError) as info:
        HistoryStore(db_path)
    assert info.value.found == SCHEMA_VERSION + 1 and str(db_path) in str(info.value)
    assert "newer" in str(info.value)
    assert db_path.read_bytes() == before


def test_another_programs_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    raw = sqlite3.connect(db_path)
    raw.execute("CREATE TABLE notes (x)")
    raw.close()
    with pytest.raises(HistoryUnavailable, match="another program"):
        HistoryStore(db_path)


def test_garbage_bytes_are_a_typed_error(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(os.urandom(4096))
    before = db_path.read_bytes()
    with pytest.raises(HistoryUnavailable) as info:
        HistoryStore(db_path)
    assert info.value.path == str(db_path)
    assert "not a SQLite database" in str(info.value)
    assert db_path.read_bytes() == before
    assert open_history(db_path) is None  # the server's way: log and run without history


def test_a_directory_in_its_place_is_a_typed_error(db_path: Path) -> None:
    db_path.mkdir(parents=True)
    with pytest.raises(HistoryUnavailable, match="is a directory"):
        HistoryStore(db_path)


def test_a_file_where_its_directory_should_be(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a directory")
    with pytest.raises(HistoryUnavailable, match="cannot create its directory"):
        HistoryStore(tmp_path / "data" / "hotconf" / "history.sqlite")
