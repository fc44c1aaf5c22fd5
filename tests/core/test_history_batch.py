"""A batch of records (the start-up load) and a caller's checksum and patch give the database
exactly what recording one by one, computing everything, gives (docs/history.md)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from jupyter_hotconf.core.documents import checksum
from jupyter_hotconf.core.errors import HistoryUnavailable, InvalidDocument
from jupyter_hotconf.core.history import Delta, HistoryStore
from jupyter_hotconf.core.history_types import First
from jupyter_hotconf.core.store import diff


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def rows(path: Path) -> list[list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        return [db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                for table in ("entries", "revisions")]


def script(history: HistoryStore) -> None:
    """First revisions, a tenant recorded twice, a deletion and an invalid attempt."""
    history.record("acme", {"a": 1, "b": {"c": [1, 2]}}, document={"a": 1}, file="acme.json")
    history.record("globex", {"x": "é"}, source="startup", file="globex.json")
    history.record("acme", {"a": 2, "b": {"c": [1, 2]}}, document={"a": 2})
    history.record("initech", {"k": None}, actor="ann")
    history.record_invalid("initech", InvalidDocument("bad", file="initech.json", line=1))
    history.record("globex", None)
    history.record("umbrella", {"u": 1})


def test_a_batch_writes_the_rows_recording_one_by_one_writes(tmp_path: Path) -> None:
    one, two = tmp_path / "one.sqlite", tmp_path / "two.sqlite"
    with HistoryStore(one, clock=Clock()) as history:
        script(history)
    with HistoryStore(two, clock=Clock()) as history, history.batch():
        script(history)
    assert rows(one) == rows(two)
    with HistoryStore(two) as history:
        assert [e.revision for e in history.history("acme")] == [2, 1]
        assert history.revision("umbrella", 1) is not None


def test_a_batch_resumes_a_database_that_has_revisions(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    with HistoryStore(path) as history:
        history.record("acme", {"a": 1})
    with HistoryStore(path) as history:
        with history.batch():
            again = history.record("acme", {"a": 1})
            fresh = history.record("globex", {"g": 1})
            moved = history.record("acme", {"a": 2})
        assert (again.revision, again.added, fresh.revision, moved.revision) == (1, False, 1, 2)
        assert [e.revision for e in history.history("acme")] == [2, 1]
        assert history.integrity_check() == ["ok"]


def test_a_failed_batch_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    with HistoryStore(path) as history:
        try:
            with history.batch():
                history.record("acme", {"a": 1})
                raise RuntimeError("the load failed")
        except RuntimeError:
            pass
        assert history.last("acme") is None
        assert history.record("acme", {"a": 1}).revision == 1


def test_a_delta_is_used_only_from_the_latest_recorded_content(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as history:
        history.record("acme", {"a": 1})
        history.record("acme", {"a": 2})  # another process, say: the caller still has {a: 1}
        stale = Delta(checksum({"a": 1}), *diff({"a": 1}, {"a": 3}))
        stale = stale._replace(patch=[{"op": "replace", "path": "/a", "value": "stale"}])
        history.record("acme", {"a": 3}, delta=stale)
        assert history.history("acme", limit=1)[0].patch == [
            {"op": "replace", "path": "/a", "value": 3}]
        given = Delta(checksum({"a": 3}), [{"op": "replace", "path": "/a", "value": 4}], ["/a"])
        history.record("acme", {"a": 4}, checksum=checksum({"a": 4}), delta=given)
        latest = history.history("acme", limit=1)[0]
        assert (latest.revision, latest.patch, latest.changed_paths) == (
            4, [{"op": "replace", "path": "/a", "value": 4}], ["/a"])


class StillClock:
    """A clock that moves only when told (``record_firsts`` reads it once for all)."""

    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def firsts_of(configs: dict[str, dict[str, Any]]) -> list[First]:
    out = []
    for tenant, config in configs.items():
        patch, paths = diff(None, config)
        out.append(First(tenant, config, {"own": tenant}, checksum(config), patch, paths,
                         f"private/{tenant}.json"))
    return out


def test_a_new_databases_first_load_in_bulk_writes_what_records_write(tmp_path: Path) -> None:
    configs = {"acme": {"a": 1, "b": {"c": [1, 2]}}, "globex": {"x": "é"}, "umbrella": {}}
    one, two = tmp_path / "one.sqlite", tmp_path / "two.sqlite"
    with HistoryStore(one, clock=StillClock()) as history, history.batch():
        for first in firsts_of(configs):
            history.record(first.tenant_id, first.config, document=first.document,
                           source="startup", file=first.file)
    with HistoryStore(two, clock=StillClock()) as history:
        with history.batch():
            assert history.first_start
            assert history.record_firsts(firsts_of(configs)) == 3
            assert not history.first_start  # they have revisions now
        assert history.last("acme") == (1, checksum(configs["acme"]))
        assert history.revision("acme", 1).document == {"own": "acme"}
        assert history.integrity_check() == ["ok"]
    assert rows(one) == rows(two)


def test_record_firsts_refuses_a_tenant_with_a_revision_and_needs_a_batch(
    tmp_path: Path,
) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as history:
        with pytest.raises(RuntimeError, match="outside a batch"):
            history.record_firsts(firsts_of({"acme": {"a": 1}}))
        history.record("acme", {"a": 1})
        with history.batch():
            assert not history.first_start  # acme has a revision: one by one
            with pytest.raises(ValueError, match="acme"):
                history.record_firsts(firsts_of({"acme": {"a": 2}}))
        assert history.last("acme") == (1, checksum({"a": 1}))


# ---------------------------------------------------------------- chunks on the batch's thread

ODD = {  # what the JSON path must keep as the one-by-one path writes it
    "big": {"n": 2**70, "f": 1e-7, "s": 'é "quoted" \\ \n\u2028', "deep": [[{"x": None}]]},
    "plain": {"a": 1, "b": True},
    "nodoc": {"k": []},
    "fourth": {"z": {"y": 0.5}},
}


def first_of(tenant: str, config: dict[str, Any]) -> First:
    patch, paths = diff(None, config)
    document = None if tenant == "nodoc" else {"own": tenant}
    return First(tenant, config, document, checksum(config), patch, paths, f"{tenant}.json")


def record_one_by_one(path: Path) -> None:
    with HistoryStore(path, clock=StillClock()) as history:
        for tenant, config in ODD.items():
            first = first_of(tenant, config)
            history.record(tenant, config, document=first.document, source="startup",
                           file=first.file)
            if tenant == "plain":  # a change in the middle of the load: not a first
                history.record("big", {"changed": 1}, source="startup")


def test_firsts_written_in_chunks_by_the_thread_are_the_rows_of_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of two go to the writer thread while more are queued; a record that is not a
    first waits for them, so its entry follows theirs as it does one by one."""
    monkeypatch.setattr("jupyter_hotconf.core.history_batch.CHUNK", 2)
    one, two = tmp_path / "one.sqlite", tmp_path / "two.sqlite"
    record_one_by_one(one)
    with HistoryStore(two, clock=StillClock()) as history:
        with history.batch():
            for tenant, config in ODD.items():
                assert history.record_firsts([first_of(tenant, config)]) == 1
                if tenant == "plain":
                    assert history.record("big", {"changed": 1}, source="startup").revision == 2
        assert history.revision("big", 1).config == ODD["big"]
        assert history.revision("nodoc", 1).document is None
        assert history.integrity_check() == ["ok"]
    assert rows(one) == rows(two)


def refuse_inserts_for(path: Path, tenant: str) -> None:
    """A trigger that makes SQLite refuse ``tenant``'s revision row: a real failed write."""
    with HistoryStore(path):
        pass  # the schema
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON revisions "
            f"WHEN NEW.tenant_id = '{tenant}' BEGIN SELECT RAISE(ABORT, 'refused here'); END"
        )


def test_a_chunk_the_database_refuses_fails_the_batch_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jupyter_hotconf.core.history_batch.CHUNK", 1)
    path = tmp_path / "h.sqlite"
    refuse_inserts_for(path, "plain")
    with HistoryStore(path, clock=StillClock()) as history:
        with pytest.raises(HistoryUnavailable, match="refused here"), history.batch():
            for tenant, config in ODD.items():
                history.record_firsts([first_of(tenant, config)])
            # a write after the failed chunk fails too: the batch cannot lose its rows
            with pytest.raises(HistoryUnavailable, match="refused here"):
                history.record("big", {"changed": 1})
        assert [history.last(tenant) for tenant in ODD] == [None] * len(ODD)
        assert history.record("big", ODD["big"]).revision == 1  # the connection is usable
        assert history.integrity_check() == ["ok"]


def test_a_failed_load_rolls_back_after_the_chunks_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jupyter_hotconf.core.history_batch.CHUNK", 1)
    path = tmp_path / "h.sqlite"
    with HistoryStore(path) as history:
        with pytest.raises(RuntimeError, match="the load failed"), history.batch():
            history.record_firsts([first_of(t, c) for t, c in ODD.items()])
            raise RuntimeError("the load failed")
        assert [history.last(tenant) for tenant in ODD] == [None] * len(ODD)
        assert history.record("plain", ODD["plain"]).revision == 1
        assert history.integrity_check() == ["ok"]
