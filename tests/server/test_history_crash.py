"""Crash safety of the history on a real server (docs/history.md, "Crash safety"): SIGKILL in
the middle of a burst of edits, then a restart on the same database — it checks clean, the
epoch is the same, and numbering continues after the last revision a client saw, never
giving a number already broadcast to different content."""

from __future__ import annotations

import signal
import sqlite3
import threading
from pathlib import Path

import pytest

from jupyter_hotconf.core.history_db import default_history_path
from jupyter_hotconf.pytest_plugin import DEADLINE_S, write_json

from .clients import connect

pytestmark = pytest.mark.asyncio

BEFORE_KILL = 5  # revisions a subscriber has seen when the server is killed


async def test_sigkill_during_a_burst_loses_no_broadcast_revision(
    serve, hotconf_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "jupyter-data"
    data.mkdir()
    env = {"JUPYTER_DATA_DIR": str(data)}
    acme = hotconf_dir / "private" / "acme.json"
    proc = serve("--debounce-ms=0", env=env)
    client = await connect(f"{proc.ws}/ws?protocol=2&tenant_id=acme")
    epoch = (await client.recv())["Snapshot"]["epoch"]

    stop = threading.Event()

    def burst() -> None:  # edits until told to stop, as fast as they are written
        n = 0
        while not stop.is_set() and n < 100_000:
            n += 1
            write_json(acme, {"name": f"Acme {n}"})

    writer = threading.Thread(target=burst, daemon=True)
    writer.start()
    seen: dict[int, str] = {}  # revision → checksum, as broadcast before the kill
    try:
        while len(seen) < BEFORE_KILL:
            change = await client.next_change()
            assert change["epoch"] == epoch
            seen[change["revision"]] = change["checksum"]
        assert proc.proc is not None
        proc.proc.send_signal(signal.SIGKILL)  # mid-burst: the writer is still saving
        proc.proc.wait(DEADLINE_S)
    finally:
        stop.set()
        writer.join(DEADLINE_S)
    client.close()
    assert not writer.is_alive()

    path = default_history_path(hotconf_dir, data)
    with sqlite3.connect(path) as db:  # SQLite rolls the write-ahead log forward here
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = dict(db.execute(
            "SELECT revision, checksum FROM revisions WHERE tenant_id = 'acme'").fetchall())
    db.close()
    for revision, digest in seen.items():  # every broadcast revision is on disk, unchanged
        assert stored.get(revision) == digest, (revision, stored.get(revision), digest)

    proc.start()  # same port, same data dir
    again = await connect(f"{proc.ws}/ws?protocol=2&tenant_id=acme")
    snap = (await again.recv())["Snapshot"]
    last_seen = max(seen)
    assert snap["epoch"] == epoch
    assert snap["revision"] >= last_seen
    if snap["revision"] in seen:
        assert snap["checksum"] == seen[snap["revision"]]  # a number never means two contents
    write_json(acme, {"name": "Acme after the crash"})
    change = await again.next_change()
    assert (change["epoch"], change["revision"]) == (epoch, snap["revision"] + 1)
    assert change["revision"] not in seen
    again.close()
    with sqlite3.connect(path) as db:
        revisions = [r for (r,) in db.execute(
            "SELECT revision FROM revisions WHERE tenant_id = 'acme' ORDER BY revision")]
    db.close()
    assert revisions == list(range(revisions[0], revisions[-1] + 1))  # no gap, no reuse
    assert revisions[-1] == change["revision"]
