"""The cross-process write lock: where it lives (beside the history database, so every
process on one config dir meets there) and that another process really is kept out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_hotconf.core.history import default_history_path
from jupyter_hotconf.core.writelock import (
    LockFailed,
    etag_matches,
    lock_dir,
    read_current,
    tenant_lock,
)
from jupyter_hotconf.pytest_plugin import DEADLINE_S, write_json

HOLDER = """
import sys
from jupyter_hotconf.core.writelock import tenant_lock
lock = tenant_lock(sys.argv[1], "acme", history=None, data_dir=sys.argv[2])
lock.acquire()
print("held", flush=True)
sys.stdin.readline()   # hold it until the test says so
lock.release()
print("released", flush=True)
"""


def test_lock_sits_beside_the_history_database(hotconf_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    default = default_history_path(hotconf_dir, data)
    assert lock_dir(hotconf_dir, None, data) == default.with_name(default.name + ".locks")
    custom = tmp_path / "h" / "history.sqlite"
    assert lock_dir(hotconf_dir, custom, data) == tmp_path / "h" / "history.sqlite.locks"
    lock = tenant_lock(hotconf_dir, "acme", history=None, data_dir=data)
    assert lock.path.name == "acme.lock"


def test_another_process_holding_the_lock_keeps_us_out(
    hotconf_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(hotconf_dir), str(data)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        lock = tenant_lock(hotconf_dir, "acme", history=None, data_dir=data)
        with pytest.raises(LockFailed, match="held by another writer"):
            lock.acquire(timeout_s=0.05)
        other = tenant_lock(hotconf_dir, "globex", history=None, data_dir=data)
        with other:  # one tenant's lock does not block another's
            assert other.held
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "released"
        lock.acquire(timeout_s=DEADLINE_S)
        assert lock.held
        lock.release()
    finally:
        holder.kill()
        holder.wait(DEADLINE_S)


def test_two_holders_in_one_process_exclude_each_other(hotconf_dir: Path, tmp_path: Path) -> None:
    first = tenant_lock(hotconf_dir, "acme", history=None, data_dir=tmp_path)
    second = tenant_lock(hotconf_dir, "acme", history=None, data_dir=tmp_path)
    with first, pytest.raises(LockFailed):
        second.acquire(timeout_s=0.05)


def test_read_current_is_what_the_watcher_would_load(hotconf_dir: Path) -> None:
    current = read_current(hotconf_dir, "acme")
    assert current.exists and current.document == {"pricing": {"discount": 0.1}, "name": "Acme"}
    assert current.checksum is not None and current.checksum.startswith("sha256:")
    assert read_current(hotconf_dir, "nobody") == read_current(hotconf_dir, "nobody")
    assert not read_current(hotconf_dir, "nobody").exists
    write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 9}})
    bad = read_current(hotconf_dir, "acme")
    assert bad.document == {"pricing": {"discount": 9}} and bad.checksum is None
    assert bad.error is not None and bad.error.pointer == "/pricing/discount"
    (hotconf_dir / "private" / "acme.json").write_text("{nope")
    broken = read_current(hotconf_dir, "acme")
    assert broken.exists and broken.document is None and broken.error is not None


def test_etag_matching() -> None:
    assert etag_matches('"sha256:a"', "sha256:a")
    assert etag_matches('W/"sha256:a", "sha256:b"', "sha256:b")
    assert etag_matches("*", "sha256:a")
    assert not etag_matches("*", None)
    assert not etag_matches('"sha256:a"', "sha256:b")
