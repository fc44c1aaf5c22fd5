"""The seam between whoever produces changes and the hubs that deliver them.

By default one process watches the files and one hub delivers (``LocalBroker``). With a
``broker_url`` several servers share one change stream on Redis (``redis_broker.py``,
docs/scale-out.md) without touching the hub: the engine hands the watcher's changes to the
broker, the hub and the event emitter subscribe to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..core.errors import HotconfError
from ..core.fanout import Listeners
from ..core.store import Change, ConfigStore

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

    kind = "local"
    connected = True
    leader = True
    #: ``GET info``'s ``broker``: this process alone is the whole group.
    INFO: dict[str, Any] = {"kind": "local", "role": "leader", "connected": True, "lag_ms": 0}

    def __init__(self) -> None:
        self._listeners = Listeners[Change]("hotconf listener", "broker")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    def publish(self, change: Change) -> None:
        self._listeners.publish(change)

    def info(self) -> dict[str, Any]:
        return dict(self.INFO)


class BrokerUnavailable(HotconfError):
    """``broker_url`` names a broker this installation cannot reach (its client missing)."""


class SharedBroker(Broker, Protocol):
    """A broker shared by several servers: the engine offers it the watcher's changes
    (it decides who publishes) and it delivers the group's changes to its listeners."""

    kind: str
    store: ConfigStore
    on_resync: Callable[[], None] | None

    def offer(self, changes: list[Change]) -> None: ...
    def start(self) -> None: ...
    async def stop(self) -> None: ...
    def info(self) -> dict[str, Any]: ...
    def write_lock(self, tenant_id: str) -> Any: ...
    async def expect(self, tenant_id: str, checksum: str | None, source: str,
                     actor: str | None) -> None: ...


def check_broker_url(url: str) -> None:
    """Raise ``BrokerUnavailable`` naming the extra when ``url`` needs a missing client."""
    if not url:
        return
    try:
        import redis.asyncio  # noqa: F401
    except ImportError:
        raise BrokerUnavailable(
            f"broker_url {url.split('@')[-1]!r} needs the Redis client: "
            "pip install 'jupyter_hotconf[redis]'"
        ) from None


def shared_broker(settings: Any, store: ConfigStore) -> tuple[SharedBroker, ConfigStore]:
    """The broker ``settings.broker_url`` names, and the store this server's watcher fills
    (its own: ``store`` then holds the group's shared state). Imports ``redis`` only here."""
    check_broker_url(settings.broker_url)
    from .redis_broker import RedisBroker

    files = ConfigStore()
    return RedisBroker(settings, store, files), files
