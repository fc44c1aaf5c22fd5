"""Peer (a), the floor: a raw watchdog callback in the benchmark's own process.

Nothing can tell a process about a save faster than the OS event reaching it, so this is
the latency every other system pays at least: inotify → watchdog's emitter thread → its
dispatch thread → our callback. It stamps ``time.monotonic_ns()`` on the first event that
names the watched file (an atomic replace shows up as a move onto it).
"""

from __future__ import annotations

import queue
import time
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer


class WatchdogFloor(FileSystemEventHandler):
    """``stamps`` receives one monotonic-ns stamp per event naming ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = str(path.resolve())
        self.stamps: queue.Queue[int] = queue.Queue()
        self._observer = Observer()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # our own reads, not a save
        if self.path in (event.src_path, getattr(event, "dest_path", None)):
            self.stamps.put(time.monotonic_ns())

    def start(self) -> None:
        self._observer.schedule(self, str(Path(self.path).parent), recursive=False)
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(5)
