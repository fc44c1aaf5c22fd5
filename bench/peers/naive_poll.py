"""Peer (c): naive polling — re-read the file once a second and compare.

What a notebook user writes when they do not want a dependency: a loop that sleeps a second,
reads the file and reloads if the bytes differ. Its latency is bounded below by nothing and
above by the interval; on average half of it.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path


class NaivePoller:
    """``stamps`` receives a monotonic-ns stamp each time a poll sees new content."""

    def __init__(self, path: Path, interval_s: float = 1.0) -> None:
        self.path = path
        self.interval_s = interval_s
        self.stamps: queue.Queue[int] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="naive-poll", daemon=True)
        self._last: bytes | None = None

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except OSError:
            return None

    def _run(self) -> None:
        # Event.wait is the poller's own interval (what the user's time.sleep(1) would be),
        # and it ends at once on stop().
        while not self._stop.wait(self.interval_s):
            data = self._read()
            if data != self._last:
                self._last = data
                self.stamps.put(time.monotonic_ns())

    def start(self) -> None:
        self._last = self._read()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
