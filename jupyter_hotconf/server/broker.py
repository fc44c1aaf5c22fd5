"""The seam between whoever produces changes and the hubs that deliver them.

Today one process watches the files and one hub delivers; a ``Broker`` lets several
servers share one change stream later (Redis pub/sub, Postgres NOTIFY …) without touching
the hub: the engine publishes to the broker, the hub and the event emitter subscribe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from ..core.store import Change

log = logging.getLogger(__name__)

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
    is logged and does not stop the others."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def publish(self, change: Change) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:
                log.exception("hotconf listener %r failed on %s", listener, change.tenant_id)
