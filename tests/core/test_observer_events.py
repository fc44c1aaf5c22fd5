"""The observer is asked for changes only: reads of the config files (ours, an editor's, a
backup's) never reach watchdog's threads (core/observers.py ``WATCHED_EVENTS``)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from watchdog.events import FileSystemEvent

from jupyter_hotconf.core.observers import ObserverSlot
from jupyter_hotconf.pytest_plugin import wait_until


@pytest.mark.parametrize("kind", ["native", "polling"])
def test_reads_make_no_events_and_changes_still_do(tmp_path: Path, kind: str) -> None:
    private = tmp_path / "private"
    private.mkdir()
    acme = private / "acme.json"
    acme.write_text('{"a": 1}', encoding="utf-8")
    seen: list[FileSystemEvent] = []
    lock = threading.Lock()

    def sink(event: FileSystemEvent) -> None:
        with lock:
            seen.append(event)

    slot = ObserverSlot(str(tmp_path), sink, planned=kind, reason="test", poll_interval_s=0.1)
    slot.arm()
    try:
        for _ in range(20):
            acme.read_bytes()  # an open and a close without a write, each
        marker = private / "globex.json"
        marker.write_text('{"g": 1}', encoding="utf-8")
        os.replace(marker, private / "initech.json")  # a rename, as editors save

        def renamed() -> bool:  # native: moved; polling may see only the file appear
            target = str(private / "initech.json")
            with lock:
                return any(target in (e.src_path, getattr(e, "dest_path", "")) for e in seen)

        wait_until(renamed, what="the rename's event")
    finally:
        slot.disarm()
    with lock:
        kinds = {(e.event_type, e.is_directory) for e in seen}
    assert ("opened", False) not in kinds and ("closed_no_write", False) not in kinds, kinds
    assert ("modified", True) not in kinds, kinds  # the mapper drops them: not asked for
    assert ("moved" if kind == "native" else "created", False) in kinds
