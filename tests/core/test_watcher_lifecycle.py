"""The watcher's lifecycle: polling/auto, reconcile, ENOSPC
fallback, threads after stop, failing callbacks, the async iterator."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from test_watcher_support import KINDS, watcher_threads, watching
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from jupyter_hotconf.core.observers import default_observer_factory
from jupyter_hotconf.core.store import ConfigStore
from jupyter_hotconf.core.watcher import FileWatcher
from jupyter_hotconf.pytest_plugin import wait_until, write_json


def test_polling_delivers_within_poll_interval_plus_quiet_window(hotconf_dir: Path) -> None:
    """Point 11: with polling the only source (no reconcile), a change arrives; the bound is
    poll + quiet window + a slack generous enough for a loaded 2-core machine."""
    with watching(hotconf_dir, "polling", poll_interval_s=0.2, debounce_ms=100) as h:
        assert h.watcher.kind == "polling"
        began = time.monotonic()
        write_json(hotconf_dir / "private" / "acme.json", {"name": "Polled"})
        h.wait_for("acme", "modified")
        assert time.monotonic() - began < 0.2 + 0.1 + 10.0


@pytest.mark.parametrize("fs", ["nfs", "nfs4", "cifs", "fuse.sshfs"])
def test_auto_polls_on_a_network_mount(tmp_path: Path, hotconf_dir: Path, fs: str) -> None:
    """Point 11: ``auto`` reads the mount table; the real tmp dir is declared to be on ``fs``."""
    mounts = tmp_path / "mountinfo"
    mounts.write_text(
        "27 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
        f"40 27 0:50 / {tmp_path} rw,relatime - {fs} srv:/export rw\n"
    )
    with watching(hotconf_dir, "auto", mounts_file=mounts) as h:
        assert h.watcher.kind == "polling"
        write_json(hotconf_dir / "private" / "acme.json", {"name": "Over NFS"})
        h.wait_for("acme", "modified")


def test_auto_is_native_on_a_local_disk(tmp_path: Path, hotconf_dir: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/vda1 / ext4 rw 0 0\n")
    with watching(hotconf_dir, "auto", mounts_file=mounts) as h:
        assert h.watcher.kind == "native"


def _rewrite_same_size_keep_mtime(path: Path, old: bytes, new: bytes) -> None:
    st = os.stat(path)
    data = path.read_bytes().replace(old, new)
    with open(path, "r+b") as fh:
        fh.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.parametrize("kind", KINDS)
def test_reconcile_repairs_a_missed_event(
    tmp_path: Path, hotconf_dir: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Point 12: a same-size in-place rewrite with the mtime put back.

    Polling really misses it (it compares mtime and size). inotify misses it when the write
    goes through a hard link outside the watched dir (the dir's watch hears nothing).
    """
    caplog.set_level(logging.INFO, logger="jupyter_hotconf.core.watcher")
    path = hotconf_dir / "private" / "acme.json"
    target = path
    if kind == "native":
        target = tmp_path / "elsewhere.json"
        os.link(path, target)
    with watching(hotconf_dir, kind, reconcile_interval_s=0.5) as h:
        _rewrite_same_size_keep_mtime(target, b"0.1", b"0.3")
        change = h.wait_for("acme", "modified")
        assert change.new is not None and change.new["pricing"]["discount"] == 0.3
        assert h.watcher.stats["events"] == 0  # the observer really saw nothing
        assert "reconcile scan found changes" in caplog.text


class _FullInotifyObserver(BaseObserver):
    """The real native observer, whose start fails as when fs.inotify.max_user_watches is
    exhausted (it has already created its inotify instance and thread by then)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        observer = Observer()

        def start() -> None:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

        observer.start = start  # type: ignore[method-assign]
        return observer


def _enospc_factory(kind: str, poll_interval_s: float) -> BaseObserver:
    if kind == "native":
        return _FullInotifyObserver()
    return default_observer_factory(kind, poll_interval_s)


@pytest.mark.parametrize("requested", ["native", "auto"])
def test_native_failing_with_enospc_falls_back_to_polling(
    hotconf_dir: Path, requested: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Point 13: logged once, polling delivers, and the half-started observer leaves no
    thread (the census in ``watching`` checks that)."""
    caplog.set_level(logging.INFO, logger="jupyter_hotconf.core.observers")
    with watching(
        hotconf_dir, requested, observer_factory=_enospc_factory, mounts_file=os.devnull
    ) as h:
        assert h.watcher.kind == "polling"
        write_json(hotconf_dir / "private" / "acme.json", {"name": "Polled after ENOSPC"})
        h.wait_for("acme", "modified")
    warnings = [r for r in caplog.records if "cannot start" in r.getMessage()]
    assert len(warnings) == 1 and "inotify watch limit" in warnings[0].getMessage()


def test_other_observer_errors_are_not_hidden(hotconf_dir: Path) -> None:
    def broken(kind: str, poll_interval_s: float) -> BaseObserver:
        raise OSError(errno.EACCES, "permission denied")

    store = ConfigStore()
    watcher = FileWatcher(hotconf_dir, store, lambda changes: None, observer_factory=broken)
    with pytest.raises(OSError, match="permission denied"):
        watcher.start()
    watcher.stop()


@pytest.mark.parametrize("kind", KINDS)
def test_stop_leaves_no_thread(hotconf_dir: Path, tmp_path: Path, kind: str) -> None:
    """Point 14: count threads before start and after stop, also after a re-arm."""
    before = set(threading.enumerate())
    store = ConfigStore()
    watcher = FileWatcher(
        hotconf_dir,
        store,
        lambda changes: None,
        watcher=kind,
        poll_interval_s=0.1,
        rearm_interval_s=0.1,
    )
    watcher.start()
    assert len(watcher_threads(before)) >= 2  # at least the observer and the worker
    os.rename(hotconf_dir, tmp_path / "away")
    wait_until(lambda: not watcher.watching, what="disarm")
    os.rename(tmp_path / "away", hotconf_dir)
    wait_until(lambda: watcher.watching, what="re-arm")
    watcher.stop()
    assert watcher_threads(before) == []  # stop() joined them all: no waiting here
    watcher.stop()  # idempotent


@pytest.mark.parametrize("kind", KINDS)
def test_dead_observer_means_rearm_and_full_rescan(hotconf_dir: Path, kind: str) -> None:
    """A watcher error: the emitter dies; a change made meanwhile still arrives."""
    with watching(hotconf_dir, kind) as h:
        rearms = h.watcher.stats["rearms"]
        observer = h.watcher._slot._observer
        assert observer is not None
        for emitter in list(observer.emitters):
            emitter.stop()
        write_json(hotconf_dir / "private" / "acme.json", {"name": "Written blind"})
        h.wait_for("acme", "modified")
        wait_until(lambda: h.watcher.stats["rearms"] > rearms, what="re-arm")
        h.sentinel()


def test_a_raising_callback_never_kills_the_watcher(
    hotconf_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def callback(changes: list[Any]) -> None:
        seen.extend(c.tenant_id for c in changes)
        raise RuntimeError("subscriber bug")

    watcher = FileWatcher(hotconf_dir, ConfigStore(), callback, watcher="native")
    watcher.start()
    try:
        write_json(hotconf_dir / "private" / "acme.json", {"name": "one"})
        wait_until(lambda: "acme" in seen, what="first callback")
        write_json(hotconf_dir / "private" / "globex.json", {"name": "two"})
        wait_until(lambda: "globex" in seen, what="second callback after a raise")
    finally:
        watcher.stop()
    assert "on_changes callback raised" in caplog.text


@pytest.mark.asyncio
async def test_iter_changes_delivers_on_the_loop_and_ends_on_stop(hotconf_dir: Path) -> None:
    watcher = FileWatcher(hotconf_dir, ConfigStore(), lambda changes: None, watcher="native")
    watcher.start()
    loop_thread = threading.current_thread()
    got: list[str] = []

    async def consume() -> None:
        async for changes in watcher.iter_changes():
            assert threading.current_thread() is loop_thread
            got.extend(c.tenant_id for c in changes)
            if "acme" in got:
                watcher.stop()

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0)  # let the consumer subscribe before the write (ordering, not timing)
    write_json(hotconf_dir / "private" / "acme.json", {"name": "async"})
    await asyncio.wait_for(task, timeout=20)
    assert got == ["acme"]


def test_bad_arguments_are_refused_clearly(hotconf_dir: Path) -> None:
    store = ConfigStore()
    with pytest.raises(ValueError, match="'auto', 'native' or 'polling'"):
        FileWatcher(hotconf_dir, store, print, watcher="inotify")
    with pytest.raises(ValueError, match="debounce_ms"):
        FileWatcher(hotconf_dir, store, print, debounce_ms=-1)
    with pytest.raises(ValueError, match="reconcile_interval_s"):
        FileWatcher(hotconf_dir, store, print, reconcile_interval_s=-1)


def test_start_loads_silently_and_rescan_reloads(hotconf_dir: Path) -> None:
    with watching(hotconf_dir, "native", start=False) as h:
        with pytest.raises(RuntimeError, match="twice"):
            h.watcher.start()
            h.watcher.start()
        assert h.store.tenant_ids() == ["acme", "globex"] and h.rec.items == []
        reloads = h.watcher.stats["reloads"]
        h.watcher.rescan()
        wait_until(lambda: h.watcher.stats["reloads"] >= reloads + 2, what="rescan")
        h.sentinel()
        assert h.types("acme") == []
