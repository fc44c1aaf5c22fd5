"""Hand batches of changes from the watcher's worker thread to whoever owns a loop.

The worker must never be stopped by a consumer: a raising callback is logged, a consumer
whose loop has closed is dropped. Async consumers get the batches on their own loop through
``loop.call_soon_threadsafe`` (so the server's Tornado loop and a kernel's loop both work).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable

from .store import Change

log = logging.getLogger(__name__)

ChangeCallback = Callable[[list[Change]], None]


class ChangeFanout:
    """One callback plus any number of ``iterate()`` consumers; ``close()`` ends them."""

    def __init__(self, callback: ChangeCallback) -> None:
        self._callback = callback
        self._lock = threading.Lock()
        self._pushes: list[ChangeCallback] = []
        self._closed = False

    def publish(self, changes: list[Change]) -> None:
        """Called from the worker thread with a non-empty batch."""
        try:
            self._callback(changes)
        except Exception:
            log.exception("on_changes callback raised; the watcher carries on")
        with self._lock:
            pushes = list(self._pushes)
        for push in pushes:
            self._push(push, changes)

    def close(self) -> None:
        """End every ``iterate()`` (an empty batch is the end marker)."""
        with self._lock:
            self._closed = True
            pushes, self._pushes = self._pushes, []
        for push in pushes:
            self._push(push, [])

    def _push(self, push: ChangeCallback, changes: list[Change]) -> None:
        try:
            push(changes)
        except RuntimeError:  # its loop is closed: nobody is listening any more
            with self._lock:
                if push in self._pushes:
                    self._pushes.remove(push)

    async def iterate(self) -> AsyncIterator[list[Change]]:
        """Batches delivered on the running loop, until ``close()``."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[list[Change]] = asyncio.Queue()

        def push(changes: list[Change]) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, changes)

        with self._lock:
            if self._closed:
                return
            self._pushes.append(push)
        try:
            while changes := await queue.get():
                yield changes
        finally:
            with self._lock:
                if push in self._pushes:
                    self._pushes.remove(push)
