"""Commits without an fsync each, and the epoch that changes when the machine may have lost
their tail (core/history_boot.py, docs/history.md "Crash safety").

A "crash image" is a copy of the database and its write-ahead log taken while a store has
them open: what a killed process or a dead machine leaves on disk. Which boot wrote them is
told by the boot id file, pointed at a file of the test's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jupyter_hotconf.core import history_boot
from jupyter_hotconf.core.history import HistoryStore


@pytest.fixture
def boot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The boot id file, this boot first."""
    path = tmp_path / "boot_id"
    path.write_text("boot-one\n", encoding="ascii")
    monkeypatch.setattr(history_boot, "BOOT_ID_PATH", path)
    return path


def crash_image(db_path: Path, into: Path) -> Path:
    """Copy the database files as a crash would leave them (the store still open)."""
    into.mkdir(mode=0o700)
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{db_path}{suffix}")
        if source.exists():
            shutil.copy2(source, into / f"{db_path.name}{suffix}")
    return into / db_path.name


def synchronous(store: HistoryStore) -> int:
    """``PRAGMA synchronous`` of the store's connection (a pragma is per connection):
    1 = NORMAL, 2 = FULL."""
    return int(store._db.execute("PRAGMA synchronous").fetchone()[0])


def test_commits_do_not_fsync_each_where_a_boot_id_tells_a_lost_tail(
    tmp_path: Path, boot: Path
) -> None:
    with HistoryStore(tmp_path / "h" / "history.sqlite") as store:
        assert synchronous(store) == 1


def test_without_a_boot_id_every_commit_syncs(tmp_path: Path, boot: Path) -> None:
    boot.unlink()
    with HistoryStore(tmp_path / "h" / "history.sqlite") as store:
        assert synchronous(store) == 2


def crashed_after_two_revisions(tmp_path: Path) -> tuple[Path, str]:
    """A crash image of a database whose store recorded acme twice, and its epoch."""
    db_path = tmp_path / "h" / "history.sqlite"
    with HistoryStore(db_path) as store:
        store.record("acme", {"n": 1})
        store.record("acme", {"n": 2})
        assert history_boot.wal_left(db_path)
        return crash_image(db_path, tmp_path / "image"), store.epoch


def test_a_killed_process_keeps_the_epoch_on_the_same_boot(tmp_path: Path, boot: Path) -> None:
    image, epoch = crashed_after_two_revisions(tmp_path)
    with HistoryStore(image) as again:
        assert again.epoch == epoch
        assert again.record("acme", {"n": 3}).revision == 3


def test_a_log_left_by_another_boot_changes_the_epoch(tmp_path: Path, boot: Path) -> None:
    image, epoch = crashed_after_two_revisions(tmp_path)
    boot.write_text("boot-two\n", encoding="ascii")  # the machine went down with it
    with HistoryStore(image) as again:
        assert again.epoch != epoch  # clients resync: no revision number is trusted twice
        assert again.last("acme") is not None and again.last("acme")[0] == 2
        assert again.record("acme", {"n": 3}).revision == 3  # numbering goes on
        rotated = again.epoch
    with HistoryStore(image) as third:  # once: the next open, same boot, keeps it
        assert third.epoch == rotated


def test_a_clean_close_keeps_the_epoch_across_boots(tmp_path: Path, boot: Path) -> None:
    db_path = tmp_path / "h" / "history.sqlite"
    with HistoryStore(db_path) as store:
        store.record("acme", {"n": 1})
        epoch = store.epoch
    assert not history_boot.wal_left(db_path)  # the close checkpointed the log
    boot.write_text("boot-two\n", encoding="ascii")
    with HistoryStore(db_path) as again:
        assert again.epoch == epoch


def test_a_database_of_before_keeps_its_epoch(tmp_path: Path, boot: Path) -> None:
    """Written with an fsync per commit (no boot id stored): nothing could be lost."""
    db_path = tmp_path / "h" / "history.sqlite"
    with HistoryStore(db_path) as store:
        store.record("acme", {"n": 1})
        store._db.execute("DELETE FROM meta WHERE key = 'boot_id'")
        epoch = store.epoch
        image = crash_image(db_path, tmp_path / "image")
    boot.write_text("boot-two\n", encoding="ascii")
    with HistoryStore(image) as again:
        assert again.epoch == epoch
