"""The seam between whoever produces changes and the hubs that deliver them.

Today one process watches the files and one hub delivers; a ``Broker`` lets several
servers share one change stream later (Redis pub/sub, Postgres NOTIFY …) without touching
the hub: the engine publishes to the broker, the hub and the event emitter subscribe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..core.fanout import Listeners
from ..core.store import Change

Listener = Callable[[Change], None]


class Broker(Protocol):
    """Fan-out of ``Change`` objects. Listeners run on the server's loop thread."""

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add ``listener``; the returned function removes it."""
        ...

    def publish(self, change: Change) -> None:
        """Deliver ``change`` to every listener (call on the loop thread)."""
        ...


class LocalBroker:
    """In-process broker: ``publish`` calls each listener in turn; one raising listener
    is logged and does not stop the others (the core's one fan-out loop does both)."""

    def __init__(self) -> None:
        self._listeners = Listeners[Change]("hotconf listener", "broker")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    def publish(self, change: Change) -> None:
        self._listeners.publish(change)
