"""A batch of records (the start-up load) and a caller's checksum and patch give the database
exactly what recording one by one, computing everything, gives (docs/history.md)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from jupyter_hotconf.core.documents import checksum
from jupyter_hotconf.core.errors import HistoryUnavailable, InvalidDocument
from jupyter_hotconf.core.history import Delta, HistoryStore
from jupyter_hotconf.core.history_batch import HistoryBatches
from jupyter_hotconf.core.history_types import First
from jupyter_hotconf.core.store import diff
from jupyter_hotconf.pytest_plugin import DEADLINE_S


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


# ------------------------------------------------- chunks, and a commit after the batch

ODD = {  # what the JSON path must keep as the one-by-one path writes it
    "big": {"n": 2**70, "f": 1e-7, "s": 'é "quoted" \\ \n\u2028', "deep": [[{"x": None}]]},
    "plain": {"a": 1, "b": True},
    "nodoc": {"k": []},
    "fourth": {"z": {"y": 0.5}},
}


def first_of(tenant: str, config: dict[str, Any], *, patch: bool = True) -> First:
    """Revision 1 as the loader makes it; without ``patch``, as a server's load queues it
    (the patch made from the config when written)."""
    made, paths = diff(None, config)
    document = None if tenant == "nodoc" else {"own": tenant}
    return First(tenant, config, document, checksum(config), made if patch else None,
                 paths if patch else None, f"{tenant}.json")


def record_one_by_one(path: Path) -> None:
    with HistoryStore(path, clock=StillClock()) as history:
        for tenant, config in ODD.items():
            first = first_of(tenant, config)
            history.record(tenant, config, document=first.document, source="startup",
                           file=first.file)
            if tenant == "plain":  # a change in the middle of the load: not a first
                history.record("big", {"changed": 1}, source="startup")


@pytest.mark.parametrize("patch", [True, False], ids=["loader-patch", "patch-made-here"])
def test_firsts_written_in_chunks_are_the_rows_of_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, patch: bool
) -> None:
    """Chunks of two; a record that is not a first writes the queued ones before it, so its
    entry follows theirs as it does one by one."""
    monkeypatch.setattr("jupyter_hotconf.core.history_batch.CHUNK", 2)
    one, two = tmp_path / "one.sqlite", tmp_path / "two.sqlite"
    record_one_by_one(one)
    with HistoryStore(two, clock=StillClock()) as history:
        with history.batch():
            for tenant, config in ODD.items():
                assert history.record_firsts([first_of(tenant, config, patch=patch)]) == 1
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
            with pytest.raises(HistoryUnavailable, match="refused here"):
                history.record("big", {"changed": 1})  # writes the queued firsts first
            # the commit fails too: the batch cannot lose the rows of a failed write
        assert [history.last(tenant) for tenant in ODD] == [None] * len(ODD)
        assert history.record("big", ODD["big"]).revision == 1  # the connection is usable
        assert history.integrity_check() == ["ok"]


def test_a_failed_load_writes_none_of_its_firsts(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    with HistoryStore(path) as history:
        with pytest.raises(RuntimeError, match="the load failed"), history.batch(
            commit_later=lambda error: None
        ):
            history.record_firsts([first_of(t, c) for t, c in ODD.items()])
            raise RuntimeError("the load failed")
        assert not history.committing
        assert [history.last(tenant) for tenant in ODD] == [None] * len(ODD)
        assert history.record("plain", ODD["plain"]).revision == 1
        assert history.integrity_check() == ["ok"]


class GatedCommit:
    """The commit after the batch held, before it takes the store's lock, until the test
    opens the gate: the commit is then surely still to come while the test looks."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gate, self.entered = threading.Event(), threading.Event()
        finish = HistoryBatches._finish

        def gated(history: HistoryBatches, *, commit: bool) -> None:
            if threading.current_thread().name == "hotconf-history-commit":
                self.entered.set()
                assert self.gate.wait(DEADLINE_S)
            finish(history, commit=commit)

        monkeypatch.setattr(HistoryBatches, "_finish", gated)


def committed_revisions(path: Path) -> int:
    """Revisions another connection sees: what is committed."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT count(*) FROM revisions").fetchone()[0])


def test_commit_later_commits_after_the_batch_and_every_use_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "h.sqlite"
    gated, done = GatedCommit(monkeypatch), []
    others = concurrent.futures.ThreadPoolExecutor(2)
    with HistoryStore(path) as history:
        before = history.epoch
        with history.batch(commit_later=done.append):
            history.record_firsts([first_of(t, c, patch=False) for t, c in ODD.items()])
            # another thread's change during the load (a watcher's worker): after the commit
            change = others.submit(history.record, "plain", {"a": 2})
        assert gated.entered.wait(DEADLINE_S) and history.committing  # the batch has ended
        assert committed_revisions(path) == 0 and done == []
        last = others.submit(history.last, "nodoc")  # waits for the commit too
        assert not change.done() and not last.done()
        gated.gate.set()
        assert last.result(DEADLINE_S) == (1, checksum(ODD["nodoc"]))
        assert change.result(DEADLINE_S).revision == 2  # numbered after the committed first
        assert done == [None] and not history.committing
        assert committed_revisions(path) == len(ODD) + 1
        others.shutdown()
        epoch = history.epoch
        assert epoch != before  # a first start draws a new epoch, written with its rows
    with HistoryStore(path) as again:
        assert again.epoch == epoch
        with again.batch(commit_later=done.append):  # revisions now: nothing to write later
            assert not again.first_start
        assert again.epoch == epoch and not again.committing and done == [None]


# A first start that is killed before its commit after the batch: prints the epoch it
# drew, then its commit waits forever.
FIRST_START_KILLED = """
import sys, threading
from jupyter_hotconf.core.history import HistoryStore
from jupyter_hotconf.core.history_batch import PendingFirsts
from jupyter_hotconf.core.history_types import First
PendingFirsts.flush = lambda pending, db: threading.Event().wait()
history = HistoryStore(sys.argv[1])
with history.batch(commit_later=print):
    history.record_firsts([First("acme", {"a": 1}, {"a": 1}, "c" * 64, None, None, None)])
print(history.epoch, flush=True)
threading.Event().wait()
"""


def test_a_first_start_killed_before_its_commit_leaves_no_epoch_it_served(
    tmp_path: Path,
) -> None:
    """What the killed process served (revision 1 under the epoch it drew) is in no
    database, and the next first start draws another epoch: no client of the killed one
    can take other content for the revision it has."""
    path = tmp_path / "h.sqlite"
    with HistoryStore(path) as history:
        created = history.epoch
    proc = subprocess.Popen([sys.executable, "-c", FIRST_START_KILLED, str(path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        served = proc.stdout.readline().strip()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(DEADLINE_S)
    assert served and served != created
    with HistoryStore(path) as history:
        assert history.epoch == created and history.last("acme") is None
        assert history.integrity_check() == ["ok"]
        with history.batch(commit_later=lambda error: None):
            assert history.first_start and history.epoch not in (created, served)
