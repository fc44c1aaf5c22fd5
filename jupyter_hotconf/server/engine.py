"""The running engine of one server: store, history, watcher, broker, hub (and the event bus).

Both apps build exactly one ``HotConfEngine``; handlers reach it through their settings.
The watcher calls back on its own thread; ``IOLoop.add_callback`` (``call_soon_threadsafe``
underneath) hands each batch to the loop thread, where the broker, the hub and
``jupyter_events`` run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tornado.ioloop import IOLoop

from .._version import __version__
from ..core.store import Change, ConfigStore, TenantState
from ..core.tenants import tenant_allowed
from ..core.watcher import FileWatcher
from . import metrics
from .broker import Broker, LocalBroker, SharedBroker, shared_broker
from .events import ChangeEvents
from .history_backend import HistoryBackend, open_backend
from .hub import ConfigHub
from .recording import HistoryRecording
from .settings import HotConfSettings
from .writes import WriteCoordinator, file_lock

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 3.0
#: A batch of more changes than this is logged as one line (each change at debug level).
LOG_EACH_UP_TO = 20


def summary(changes: list[Change]) -> str:
    """``created 9998, modified 2``: a large batch in a few words."""
    counts = Counter(change.change_type.value for change in changes)
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))

#: Close code (RFC 6455 "service restart") of clients told to resync from fresh Snapshots.
RESYNC_CLOSE = 1012


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during the initial load: it makes a few objects per
    tenant that all stay (configs, states, history rows), so each collection on the way only
    walks a growing heap to free nothing (a tenth of a 10,000-tenant load:
    docs/benchmarks.md). Reference counting still frees what is dropped."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class HotConfEngine:
    """Owns the store, the watcher and the hub for one config dir."""

    def __init__(
        self,
        settings: HotConfSettings,
        config_dir: str | Path,
        *,
        broker: Broker | None = None,
        event_logger: Any = None,
        contents_root: str | Path | None = None,
    ) -> None:
        self.settings = settings
        self.config_dir = Path(config_dir).absolute()
        self.contents_root = Path(contents_root).absolute() if contents_root else None
        self.store = ConfigStore()
        watched = self.store  # the watcher's (with a broker_url: its own; store = shared)
        #: With a ``broker_url``: the group's broker, which delivers the shared state.
        self.shared: SharedBroker | None = None
        if broker is None and settings.broker_url:
            self.shared, watched = shared_broker(settings, self.store)
            self.shared.on_resync = self._resync
        self.broker: Broker = broker or self.shared or LocalBroker()
        self.hub = ConfigHub(self.broker, self.store, settings.hub_limits())
        if event_logger is not None:
            self.broker.subscribe(ChangeEvents(event_logger))
        self.watcher = FileWatcher(
            self.config_dir, watched, self._on_changes, **settings.watcher_options()
        )
        self.recording = HistoryRecording(settings, self.config_dir)
        #: What the history routes read: the database, or the group's Redis streams.
        self.history: HistoryBackend | None = None
        self.writes = WriteCoordinator()
        if self.shared is not None:  # read-your-writes on the group's publish
            self.broker.subscribe(self.writes.applied)
        self._loop: IOLoop | None = None
        self._timed: float | None = None  # the batch start last timed (worker thread)
        self.started = False

    def start(self) -> None:
        """Open the history and resume its revisions, load every tenant (recording what
        changed while nobody watched, as ``startup``), start watching and the heartbeat.
        Runs on the loop thread before anything is served."""
        self._loop = IOLoop.current()
        self.recording.open()
        # A first start has told no client anything yet: nothing to deliver.
        with self.recording.startup(self.store), collector_paused():
            self.watcher.start(emit_initial=self.recording.resumed > 0)
        self.history = open_backend(self)
        self.hub.start()
        if self.shared is not None:
            self.shared.start()
        self.started = True
        metrics.track(self)
        log.info(
            "hotconf: watching %s (%s watcher, mode %s, %d tenants)",
            self.config_dir,
            self.watcher.kind,
            self.settings.mode,
            len(self.store.tenant_ids()),
        )

    def _on_changes(self, changes: list[Change]) -> None:
        """Watcher thread → loop thread (counted and timed here, where they are applied)."""
        applied = time.monotonic()
        # The watcher's debouncer knows when the batch it handed over began; a batch is
        # timed once (a later re-read or reconcile pass sees the same start again).
        started = self.watcher.debouncer.taken_started
        if started is not None and started != self._timed:
            self._timed = started
            metrics.RELOAD_DURATION.observe(applied - started)
        for change in changes:
            metrics.changed(change.change_type.value, change.tenant_id)
        loop = self._loop
        if loop is not None:
            loop.add_callback(self.publish, changes, applied)

    def publish(self, changes: list[Change], applied: float | None = None) -> None:
        """Publish on the loop thread; ``applied`` (``time.monotonic()`` when the store
        applied them) starts the hub's delivery timing, else the publish does. In a group
        the shared broker decides (docs/scale-out.md): only its leader publishes."""
        if self.shared is not None:
            self.shared.offer(changes)
            return
        self.hub.quiet = len(changes) > LOG_EACH_UP_TO
        for change in changes:
            self.hub.applied_at = applied if applied is not None else time.monotonic()
            self.broker.publish(change)
            self.writes.applied(change)
        self.hub.applied_at, self.hub.quiet = None, False
        if len(changes) > LOG_EACH_UP_TO:
            log.info("hotconf broadcast: %d changes (%s)", len(changes), summary(changes))

    async def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Close every socket and stop the watcher, within ``timeout`` seconds."""
        if not self.started:
            return
        self.started = False
        metrics.untrack(self)
        self.hub.stop()
        if self.shared is not None:
            await self.shared.stop()
        # A thread of our own rather than the loop's default executor, whose idle worker
        # would outlive the server (pytest-jupyter runs many servers in one process).
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def finished() -> None:
            if not done.done():
                done.set_result(None)

        def stop_watcher() -> None:
            try:
                self.watcher.stop(timeout)
            finally:
                with contextlib.suppress(RuntimeError):  # loop already closed
                    loop.call_soon_threadsafe(finished)

        stopper = threading.Thread(target=stop_watcher, name="hotconf-stop", daemon=True)
        stopper.start()
        try:
            await asyncio.wait_for(asyncio.shield(done), timeout + 0.5)
        except asyncio.TimeoutError:
            log.warning("hotconf: watcher did not stop within %.1fs", timeout)
        stopper.join(0.5)
        self.writes.close()
        if self.history is not None:
            with contextlib.suppress(Exception):  # bounded stop: a dead Redis is no error
                await asyncio.wait_for(self.history.close(), 1.0)
        self.recording.close()

    # -- what the REST handlers read -----------------------------------------------------
    def allowed(self, tenant_id: str) -> bool:
        return tenant_allowed(tenant_id, self.settings.allowed_tenants)

    def tenant(self, tenant_id: str) -> TenantState | None:
        return self.store.get(tenant_id) if self.allowed(tenant_id) else None

    def tenants(self) -> list[TenantState]:
        return [s for s in self.store.states() if s.exists and self.allowed(s.tenant_id)]

    def info(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "mode": self.settings.mode,
            "watcher": self.watcher.kind,
            "config_dir_present": self.watcher.config_dir_present,
            # A fault the watcher keeps hitting (docs/change-detection.md), None when well.
            "watcher_error": self.watcher.error,
            "connections": len(self.hub.connections),
            "tenants": len(self.tenants()),
            "epoch": self.store.epoch,
            "config_dir_relative": self.config_dir_relative(),
            "history": self.recording.info(),
            "broker": self.shared.info() if self.shared is not None else LocalBroker.INFO,
        }

    def _resync(self) -> None:
        """The group's state was reloaded (a new epoch, or this server missed more than the
        stream holds): every client reconnects and resyncs from fresh Snapshots."""
        for conn in list(self.hub.connections):
            self.hub.close(conn, RESYNC_CLOSE, "the shared state was reloaded: resync")

    def write_lock(self, tenant_id: str) -> Any:
        """A tenant's cross-process write lock (``acquire``/``release``): the group's in
        Redis with a ``broker_url``, else the ``flock`` beside the history database."""
        if self.shared is not None:
            return self.shared.write_lock(tenant_id)
        return file_lock(self.config_dir, self.recording.path, tenant_id)

    def config_dir_relative(self) -> str | None:
        """The config dir relative to Jupyter's contents root (``configs``), so a frontend
        can open a broken file at its line; None when it lies outside or there is no root."""
        if self.contents_root is None:
            return None
        try:
            rel = self.config_dir.resolve().relative_to(self.contents_root.resolve())
        except ValueError:
            return None
        return rel.as_posix()
