"""The one fan-out loop: hand each value to every listener, whatever fails.

Two producers use it. The watcher's worker thread hands batches of changes to its callback
and to any ``iterate()`` consumers (``ChangeFanout``); the server's broker hands each change
to its hub and event emitter (``server/broker.py``'s ``LocalBroker``). Both need the same
rules, so they live here once: a raising listener is logged and the others still run (the
watcher must never be stopped by a consumer), and a listener that raises ``ListenerGone``
(an async consumer whose loop has closed) is dropped. Nothing here knows about a loop
library: async consumers get their batches through ``loop.call_soon_threadsafe``, so the
server's Tornado loop and a kernel's loop both work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

from .store import Change

log = logging.getLogger(__name__)

T = TypeVar("T")
ChangeCallback = Callable[[list[Change]], None]


class ListenerGone(Exception):
    """Raised by a listener that can never take a value again; ``Listeners`` drops it."""


class Listeners(Generic[T]):
    """Callables that each get every published value, in subscription order.

    Thread-safe: subscribe and publish from any thread; a listener runs on the publisher's.

    >>> seen = []
    >>> listeners = Listeners[int]("example listener", "example")
    >>> unsubscribe = listeners.subscribe(seen.append)
    >>> listeners.publish(1); unsubscribe(); listeners.publish(2)
    >>> seen
    [1]
    """

    def __init__(self, role: str, owner: str) -> None:
        self._role = role  # these two name a failing listener's log line
        self._owner = owner
        self._lock = threading.Lock()
        self._listeners: list[Callable[[T], None]] = []

    def subscribe(self, listener: Callable[[T], None]) -> Callable[[], None]:
        """Add ``listener``; the returned function removes it (calling it twice is fine)."""
        with self._lock:
            self._listeners.append(listener)
        return lambda: self._remove(listener)

    def publish(self, value: T) -> None:
        """Call every listener with ``value``; none can stop the others or the caller."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(value)
            except ListenerGone:
                self._remove(listener)
            except Exception:
                log.exception(
                    "%s raised; the %s carries on (%r)", self._role, self._owner, listener
                )

    def take_all(self) -> list[Callable[[T], None]]:
        """Remove every listener and return them (to tell each one it is the end)."""
        with self._lock:
            taken, self._listeners = self._listeners, []
        return taken

    def _remove(self, listener: Callable[[T], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)


class ChangeFanout:
    """The watcher's hand-over: one callback, then any number of ``iterate()`` consumers;
    ``close()`` ends those."""

    def __init__(self, callback: ChangeCallback) -> None:
        self._callback = Listeners[list[Change]]("on_changes callback", "watcher")
        self._callback.subscribe(callback)
        self._pushes = Listeners[list[Change]]("iter_changes consumer", "watcher")
        self._closed = False
        self._lock = threading.Lock()

    def publish(self, changes: list[Change]) -> None:
        """Called from the worker thread with a non-empty batch."""
        self._callback.publish(changes)
        self._pushes.publish(changes)

    def close(self) -> None:
        """End every ``iterate()`` (an empty batch is the end marker)."""
        with self._lock:
            self._closed = True
        for push in self._pushes.take_all():
            with contextlib.suppress(ListenerGone):
                push([])

    async def iterate(self) -> AsyncIterator[list[Change]]:
        """Batches delivered on the running loop, until ``close()``."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[list[Change]] = asyncio.Queue()

        def push(changes: list[Change]) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, changes)
            except RuntimeError:  # its loop is closed: nobody is listening any more
                raise ListenerGone from None

        with self._lock:
            if self._closed:
                return
            unsubscribe = self._pushes.subscribe(push)
        try:
            while changes := await queue.get():
                yield changes
        finally:
            unsubscribe()
