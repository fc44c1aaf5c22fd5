"""The history database across real processes: a writer SIGKILLed mid-burst, two processes
recording the same contents at once, and a process without permission (docs/history.md)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_hotconf.core.documents import checksum
from jupyter_hotconf.core.history import HistoryStore
from jupyter_hotconf.pytest_plugin import DEADLINE_S, wait_until

# Records {"n": 1}, {"n": 2}, … as fast as it can until it is killed.
BURST = """
import sys
from jupyter_hotconf.core.history import HistoryStore
history = HistoryStore(sys.argv[1])
n = 0
while True:
    n += 1
    history.record("acme", {"n": n, "pad": "x" * 3000}, document={"n": n})
"""

# Records the content named by each line of stdin and answers with the revision it got.
LOCKSTEP = """
import json, sys
from jupyter_hotconf.core.history import HistoryStore
history = HistoryStore(sys.argv[1])
print("ready", flush=True)
for line in sys.stdin:
    recorded = history.record("acme", {"n": int(line)})
    print(json.dumps([recorded.revision, recorded.added]), flush=True)
"""

# Imports, says so, waits for "go", then opens (creating) the database and prints its epoch.
OPEN_AT_ONCE = """
import sys
from jupyter_hotconf.core.history import HistoryStore
print("imported", flush=True)
sys.stdin.readline()
print(HistoryStore(sys.argv[1]).epoch, flush=True)
"""

# Opens the database after giving up root (root would bypass file permissions).
UNPRIVILEGED = """
import json, os, sys
from jupyter_hotconf.core.errors import HistoryUnavailable
from jupyter_hotconf.core.history import HistoryStore
if os.geteuid() == 0:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
try:
    HistoryStore(sys.argv[1])
except HistoryUnavailable as exc:
    print(json.dumps({"path": exc.path, "message": str(exc)}))
else:
    print(json.dumps(None))
"""


def _python(script: str, *args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", script, *args], text=True, **kwargs
    )


def _current(path: Path) -> int:
    with HistoryStore(path) as history:
        last = history.last("acme")
    return 0 if last is None else last.revision


def test_sigkill_mid_burst_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with HistoryStore(path) as history:
        epoch = history.epoch
    writer = _python(BURST, str(path))
    try:
        seen = wait_until(lambda: _current(path) >= 40 and _current(path), what="40 revisions")
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=DEADLINE_S)
    assert writer.returncode == -signal.SIGKILL
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0  # the kill left a WAL to recover from
    with HistoryStore(path) as history:
        assert history.integrity_check() == ["ok"]
        assert history.epoch == epoch
        last = history.last("acme")
        assert last is not None and last.revision >= seen
        top = last.revision
        # every committed revision is whole: contiguous numbers, content matching checksum
        assert [e.revision for e in history.history("acme", limit=1000)] == list(
            range(top, 0, -1)
        )
        rev = history.revision("acme", top)
        assert rev is not None and rev.config is not None and rev.config["n"] == top
        assert rev.checksum == checksum(rev.config) and rev.document == {"n": top}
        assert history.record("acme", {"n": "after"}).revision == top + 1


def test_two_processes_recording_the_same_contents_agree(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    procs = [
        _python(LOCKSTEP, str(path), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        answers: list[list[tuple[int, bool]]] = [[], []]
        for n in range(1, 61):
            for proc in procs:  # both get the content before either answers: they race
                assert proc.stdin is not None
                proc.stdin.write(f"{n}\n")
                proc.stdin.flush()
            for proc, got in zip(procs, answers, strict=True):
                assert proc.stdout is not None
                revision, added = json.loads(proc.stdout.readline())
                got.append((revision, added))
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.close()
            assert proc.wait(timeout=DEADLINE_S) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=DEADLINE_S)
    assert [r for r, _ in answers[0]] == list(range(1, 61))
    assert [r for r, _ in answers[1]] == list(range(1, 61))
    # exactly one of the two added each revision
    assert all(a != b for (_, a), (_, b) in zip(*answers, strict=True))
    with HistoryStore(path) as history:
        entries = history.history("acme", limit=1000)
    assert [e.revision for e in entries] == list(range(60, 0, -1))


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A dir every user can enter (pytest's tmp dirs are root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="hotconf-history-"))
    path.chmod(0o755)
    yield path
    for sub in path.iterdir():
        sub.chmod(0o700)
    shutil.rmtree(path)


def _open_unprivileged(path: Path) -> dict[str, str] | None:
    proc = _python(UNPRIVILEGED, str(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_no_permission_on_the_file_is_a_typed_error(reachable_dir: Path) -> None:
    path = reachable_dir / "history.sqlite"
    HistoryStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    if os.geteuid() != 0:  # not root: the owner itself must be refused
        path.chmod(0o000)
    refused = _open_unprivileged(path)
    assert refused is not None, "an unprivileged process could open a 0600 file of root's"
    assert refused["path"] == str(path)
    assert "Permission denied" in refused["message"]


def test_no_permission_on_its_directory_is_a_typed_error(reachable_dir: Path) -> None:
    path = reachable_dir / "hotconf" / "history.sqlite"
    HistoryStore(path).close()  # its directory is created 0700: only its owner enters it
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    if os.geteuid() != 0:  # not root: the owner itself must be refused
        path.parent.chmod(0o000)
    refused = _open_unprivileged(path)
    assert refused is not None and refused["path"] == str(path)
    assert "Permission denied" in refused["message"]


@pytest.mark.parametrize("round_", range(8))
def test_processes_opening_a_new_database_at_once_all_get_it(tmp_path: Path, round_: int) -> None:
    """A Jupyter server and local-mode kernels starting together: switching a new file to WAL
    answered "database is locked" at once to all but one of them (seen 1 run in 5 in CI)."""
    path = tmp_path / f"history-{round_}.sqlite"
    procs = [_python(OPEN_AT_ONCE, str(path), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE) for _ in range(6)]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "imported"
        for proc in procs:  # released together: every one now opens the new file
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        epochs = [proc.communicate(timeout=DEADLINE_S) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert all(proc.returncode == 0 for proc in procs), [err[-600:] for _, err in epochs]
    assert len({out.strip() for out, _ in epochs}) == 1, epochs
