"""Unit tests of the watcher's pure parts: debouncer timing and mount-table parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_hotconf.core.debounce import Debouncer
from jupyter_hotconf.core.fsinfo import (
    choose_kind,
    fs_type_of,
    needs_polling,
    parse_mounts,
    read_mounts,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_debouncer_waits_for_quiet_window_after_last_event() -> None:
    clock = FakeClock()
    d: Debouncer[str] = Debouncer(0.1, 1.0, clock)
    d.add(["acme"])
    clock.now += 0.09
    d.add(["globex"])  # restarts the quiet window
    clock.now += 0.09
    assert d.take_due() is None
    assert d.deadline() == pytest.approx(clock.now + 0.01)
    clock.now += 0.01
    assert d.take_due() == {"acme", "globex"}
    assert not d.pending and d.deadline() is None and d.take_due() is None


def test_debouncer_caps_a_continuous_stream_at_max_wait() -> None:
    clock = FakeClock()
    d: Debouncer[str] = Debouncer(0.125, 0.5, clock)  # binary fractions: exact float sums
    d.add(["acme"])
    due_at = []
    for _ in range(12):  # an event every 62.5 ms never leaves a 125 ms gap
        clock.now += 0.0625
        if d.take_due():
            due_at.append(clock.now)
        d.add(["acme"])
    assert due_at == [100.5]  # 0.75 s of events → one reload, at the 0.5 s cap


def test_debouncer_zero_quiet_window_is_due_at_once() -> None:
    clock = FakeClock()
    d: Debouncer[str] = Debouncer(0.0, 1.0, clock)
    d.add(["acme", "globex"])
    assert d.take_due() == {"acme", "globex"}


def test_debouncer_ignores_empty_adds_and_refuses_negative_windows() -> None:
    d: Debouncer[str] = Debouncer(0.1, 1.0, FakeClock())
    assert d.add([]) is False
    assert d.deadline() is None
    with pytest.raises(ValueError, match="must be >= 0"):
        Debouncer(-1, 1.0)


MOUNTINFO = r"""22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw
40 27 0:50 / /srv/share rw,relatime - nfs4 fs1:/export rw,vers=4.2
41 40 0:51 / /srv/share/local rw,relatime - ext4 /dev/vdb rw
42 27 0:52 / /mnt/my\040box rw - fuse.sshfs me@host:/ rw
43 27 0:53 / /mnt/win rw - cifs //srv/c rw
"""

PROC_MOUNTS = """/dev/vda1 / ext4 rw 0 0
fs1:/export /data nfs rw 0 0
"""


def test_parse_mountinfo_and_proc_mounts_formats() -> None:
    mounts = parse_mounts(MOUNTINFO)
    assert [(m.mount_point, m.fs_type) for m in mounts][1:3] == [
        ("/", "ext4"),
        ("/srv/share", "nfs4"),
    ]
    assert mounts[4].mount_point == "/mnt/my box"  # \040 unescaped
    assert [(m.mount_point, m.fs_type) for m in parse_mounts(PROC_MOUNTS)] == [
        ("/", "ext4"),
        ("/data", "nfs"),
    ]
    assert parse_mounts("garbage\n\n") == []


def test_longest_mount_point_wins() -> None:
    mounts = parse_mounts(MOUNTINFO)
    assert fs_type_of("/srv/share/configs", mounts) == "nfs4"
    assert fs_type_of("/srv/share/local/configs", mounts) == "ext4"
    assert fs_type_of("/srv/shared", mounts) == "ext4"  # a prefix of the name is not inside
    assert fs_type_of("/mnt/my box/configs", mounts) == "fuse.sshfs"
    assert fs_type_of("/anything", []) is None


@pytest.mark.parametrize(
    ("fs_type", "polling"),
    [
        ("nfs", True),
        ("nfs4", True),
        ("cifs", True),
        ("smb3", True),
        ("fuse.sshfs", True),
        ("9p", True),
        ("fuse.rclone", True),
        ("ext4", False),
        ("tmpfs", False),
        ("overlay", False),
        (None, False),
    ],
)
def test_needs_polling(fs_type: str | None, polling: bool) -> None:
    assert needs_polling(fs_type) is polling


@pytest.mark.parametrize(("table", "fs"), [("nfs", "nfs"), ("cifs", "cifs"), ("ext4", "ext4")])
def test_auto_chooses_polling_for_network_mounts(tmp_path: Path, table: str, fs: str) -> None:
    """Point 11 (auto part): a fake mounts table puts the real tmp dir on nfs/cifs."""
    configs = tmp_path / "configs"
    configs.mkdir()
    mounts_file = tmp_path / "mounts"
    mounts_file.write_text(f"/dev/vda1 / ext4 rw 0 0\nsrv:/x {tmp_path} {table} rw 0 0\n")
    kind, reason = choose_kind("auto", configs, mounts_file=mounts_file)
    assert kind == ("native" if table == "ext4" else "polling")
    assert fs in reason
    # A dir that does not exist yet is judged by its nearest existing parent.
    assert choose_kind("auto", configs / "later", mounts_file=mounts_file)[0] == kind


def test_choose_kind_explicit_and_invalid(tmp_path: Path) -> None:
    assert choose_kind("native", tmp_path)[0] == "native"
    assert choose_kind("polling", tmp_path)[0] == "polling"
    with pytest.raises(ValueError, match="'auto', 'native' or 'polling'"):
        choose_kind("inotify", tmp_path)


def test_read_mounts_missing_file_is_empty(tmp_path: Path) -> None:
    assert read_mounts(tmp_path / "nope") == []
    assert read_mounts() != []  # this machine has /proc
