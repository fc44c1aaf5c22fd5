"""FileWatcher: watchdog observer, coalescing debouncer, reconcile scan (docs/change-detection.md).

Threads: the watchdog observer (and its emitters) only map events to tenant ids and hand
them to the debouncer; ONE worker thread owns everything else — the quiet windows, the
re-reads of parse failures and missing files, the reconcile scan, the config-dir re-arm
check — and does every reload, so loading never runs on the observer's event thread and
there are no timer threads to leak. ``stop()`` joins the worker and the observer.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

from watchdog.events import FileSystemEvent

from .debounce import Debouncer
from .documents import DEFAULT_MAX_FILE_BYTES
from .eventmap import ALL, EventMapper
from .fanout import ChangeCallback, ChangeFanout
from .fsinfo import choose_kind
from .loading import LoadResult, Shared, load_shared, load_tenant
from .observers import ObserverFactory, ObserverSlot, default_observer_factory
from .reconcile import StampBook
from .recurring import ErrorTally
from .rereads import Rereads, Suspect, suspect_of
from .rootwatch import Rearm, RootWatch
from .store import Change, ChangeType, ConfigStore
from .tenants import ConfigLayout

log = logging.getLogger(__name__)


class FileWatcher:
    """Watches one config dir and feeds a ``ConfigStore``.

    ``start()`` loads every tenant synchronously into the store, then watches. Each settled
    batch of reloads calls ``on_changes(changes)`` from the worker thread with the changes
    that are not UNCHANGED, in tenant order. The owner of a loop hands them over itself
    (``loop.call_soon_threadsafe``), or uses ``async for changes in watcher.iter_changes()``.
    ``stop()`` leaves no thread, observer or inotify instance behind.

    Extra keywords: ``mounts_file`` (mount table read by ``watcher="auto"``), ``observer_factory``
    (``ObserverFactory``), ``rearm_interval_s`` (how often the dir and observer are checked).
    """

    def __init__(
        self,
        config_dir: str | Path,
        store: ConfigStore,
        on_changes: ChangeCallback,
        *,
        debounce_ms: int = 100,
        max_wait_ms: int = 1000,
        watcher: str = "auto",  # auto | native | polling
        poll_interval_s: float = 1.0,
        reconcile_interval_s: float = 30.0,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        mounts_file: str | Path | None = None,
        observer_factory: ObserverFactory = default_observer_factory,
        rearm_interval_s: float = 1.0,
    ) -> None:
        if debounce_ms < 0 or max_wait_ms < 0 or poll_interval_s <= 0 or rearm_interval_s <= 0:
            raise ValueError(
                "debounce_ms and max_wait_ms must be >= 0, poll_interval_s and rearm_interval_s"
                f" > 0 (got {debounce_ms}, {max_wait_ms}, {poll_interval_s}, {rearm_interval_s})"
            )
        if reconcile_interval_s < 0:
            raise ValueError(f"reconcile_interval_s must be >= 0, got {reconcile_interval_s}")
        self._root = os.path.realpath(config_dir)
        self._layout = ConfigLayout(self._root)
        self._map = EventMapper(self._layout)
        self._store = store
        self._fanout = ChangeFanout(on_changes)
        planned, reason = choose_kind(watcher, self._root, mounts_file=mounts_file)
        self._slot = ObserverSlot(
            self._root, self._on_event, planned=planned, reason=reason,
            poll_interval_s=poll_interval_s, factory=observer_factory,
        )
        self._roots = RootWatch(config_dir, self._slot, self._repoint)
        #: Worker errors, logged once then counted (``errors.total`` for metrics).
        self.errors = ErrorTally(log)
        self._reconcile_s = reconcile_interval_s
        self._rearm_s = rearm_interval_s
        self._max_file_bytes = max_file_bytes
        self._cond = threading.Condition()
        self.debouncer: Debouncer[str] = Debouncer(debounce_ms / 1000, max_wait_ms / 1000)
        self._stopping = False
        self._worker: threading.Thread | None = None
        # Worker-thread state (no lock): reads awaiting their confirmation, file stamps.
        self._rereads = Rereads(debounce_ms / 1000)
        self._stamps = StampBook(self._layout)
        #: Counters for health endpoints and tests: events, loads, deferred reads (parse
        #: failures, missing files), re-arms, reconcile scans, scans that found a missed event.
        self.stats = dict.fromkeys(
            ("events", "reloads", "deferred", "rearms", "reconciles", "repairs"), 0)

    def __repr__(self) -> str:
        return f"FileWatcher({self._root!r}, kind={self.kind!r})"

    @property
    def kind(self) -> str:
        """The observer actually running: ``"native"`` or ``"polling"``."""
        return self._slot.kind

    @property
    def config_dir(self) -> str:
        return self._root

    @property
    def watching(self) -> bool:
        """Whether an observer is armed (False while the config dir is missing)."""
        return self._slot.armed

    @property
    def config_dir_present(self) -> bool:
        return self._roots.identity() is not None

    @property
    def error(self) -> dict[str, object] | None:
        """The worker error recurring now (``{"message", "count", "since"}``), else None."""
        return self.errors.current()

    def _repoint(self, real: str) -> None:
        """The config dir resolves elsewhere now (a re-pointed symlink): read and map
        there. Worker thread, observer disarmed; the rescan that follows re-stamps."""
        self._root = real
        self._layout = ConfigLayout(real)
        self._map = EventMapper(self._layout)
        self._stamps = StampBook(self._layout)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, *, emit_initial: bool = False) -> None:
        """Load every tenant, then watch; ``emit_initial`` delivers what the load changed (in
        a store resumed from a history: edits made while nobody watched, docs/history.md)."""
        if self._worker is not None:
            raise RuntimeError("FileWatcher.start() called twice")
        present = self._roots.start()  # arms before loading: nothing written meanwhile is missed
        if not present:
            log.warning("config dir %s does not exist; watching for it to appear", self._root)
        self._stamps.note_all()
        for name in self._layout.iter_names():  # misnamed files say so once, as events do
            self._map.warn_ignored(str(self._layout.private_dir / name))
        shared = self._shared(listing=True)
        initial: list[Change] = []
        for tenant in self._tenants_to_load({ALL}, shared):
            result = self._load(tenant, shared)
            if result is None or (not result.exists and not present):
                continue  # no config dir: a resumed tenant is not deleted, it stays in force
            change = self._store.apply(result)
            if emit_initial and change.change_type is not ChangeType.UNCHANGED:
                initial.append(change)
        if initial:
            self._deliver(initial)
        self._worker = threading.Thread(target=self._run, name="hotconf-watcher", daemon=True)
        self._worker.start()

    def stop(self, timeout: float = 3.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._worker is not None and self._worker is not threading.current_thread():
            self._worker.join(timeout)
            if self._worker.is_alive():
                log.warning("watcher worker did not stop within %.1fs (a slow callback?)", timeout)
        self._slot.disarm(timeout)
        self._fanout.close()

    def rescan(self) -> None:
        """Reload every tenant now (through the same path as events)."""
        self._request({ALL}, now=True)

    def iter_changes(self) -> AsyncIterator[list[Change]]:
        """``async for changes in watcher.iter_changes():`` — batches delivered on the
        caller's loop (via ``call_soon_threadsafe``); ends when the watcher stops."""
        return self._fanout.iterate()

    # -- events ---------------------------------------------------------------------------

    def _on_event(self, event: FileSystemEvent) -> None:
        """Runs on the observer thread: map and queue, nothing else (and never raise)."""
        try:
            keys = self._map(event)
        except Exception:
            log.exception("cannot map %r; rescanning everything", event)
            keys = {ALL}
        if keys:
            self.stats["events"] += 1
            self._request(keys)

    def _request(self, keys: set[str], *, now: bool = False) -> None:
        with self._cond:
            if self.debouncer.add(keys):
                if now:
                    self.debouncer.force()
                self._cond.notify_all()

    # -- worker ------------------------------------------------------------------------------

    def _run(self) -> None:
        start = time.monotonic()
        next_check = start + self._rearm_s
        next_reconcile = start + self._reconcile_s if self._reconcile_s > 0 else math.inf
        while True:
            with self._cond:
                while not self._stopping:
                    deadlines = [next_check, next_reconcile, *self._rereads.deadlines()]
                    batch_due = self.debouncer.deadline()
                    if batch_due is not None:
                        deadlines.append(batch_due)
                    wait = min(deadlines) - time.monotonic()
                    if wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._stopping:
                    return
                batch = self.debouncer.take_due() or set()
                pending = self.debouncer.pending
            now = time.monotonic()
            reread = self._rereads.take_due(now, pending)
            try:
                worked = now >= next_reconcile
                if now >= next_check:
                    next_check = now + self._rearm_s
                    reason = self._roots.check()
                    if reason is not None:
                        self.stats["rearms"] += reason is not Rearm.AFTER_ERROR
                        batch.add(ALL)
                if worked:
                    next_reconcile = now + self._reconcile_s
                    covered = batch | pending | reread.keys() | self._rereads.tenants()
                    batch |= self._reconcile(covered)
                if batch or reread:
                    self._reload(batch, reread)
                    worked = True
                if worked:
                    self.errors.ok("")
            except Exception as exc:
                # A watcher error means a full rescan at the next check (and a re-arm if the
                # observer is unwell). Logged once while it recurs (core/recurring.py).
                self.errors.failed("", f"watcher error in {self._root}; rescanning", exc)
                self._roots.rearm_requested = True

    def _reconcile(self, covered: set[str] | frozenset[str]) -> set[str]:
        """Tenants whose files moved since the watcher last read them, that no event of
        ``covered`` (this batch, pending ones, re-reads) will read: missed events."""
        keys: set[str] = set()
        for path in self._stamps.scan():
            keys |= self._map.keys_for_path(path)
        self.stats["reconciles"] += 1
        missed = set() if ALL in covered else keys - covered
        if missed:
            self.stats["repairs"] += 1
            log.info("reconcile scan found changes no event reported: %s", sorted(missed))
        return missed

    def _tenants_to_load(self, keys: set[str], shared: Shared | None) -> list[str]:
        tenants = keys - {ALL}
        if ALL in keys:
            listed = self._layout.scan_tenants() if shared is None else shared.files
            tenants |= set(self._store.tenant_ids()) | set(listed or ())
        return sorted(tenants)

    def _shared(self, listing: bool) -> Shared | None:
        """``defaults.*``, ``schema.json`` (and a listing) once for this batch (None: each
        load reads them itself). A change to either after this read starts another batch."""
        try:
            return load_shared(self._layout, max_file_bytes=self._max_file_bytes, listing=listing)
        except Exception:  # vanished mid-read, or worse: the per-tenant path decides
            log.debug("cannot read defaults/schema once for the batch", exc_info=True)
            return None

    def _load(self, tenant: str, shared: Shared | None) -> LoadResult | None:
        try:
            result = load_tenant(
                self._layout, tenant, max_file_bytes=self._max_file_bytes, shared=shared
            )
        except Exception as exc:
            what = f"cannot reload tenant {tenant}; its last good config stays"
            self.errors.failed(tenant, what, exc)
            return None
        self.errors.ok(tenant)
        return result

    def _reload(self, keys: set[str], reread: dict[str, Suspect]) -> None:
        """Load and apply ``keys`` (event-driven) and ``reread`` (deferred confirmations).

        The re-read rule: a parse failure or a missing tenant file found by an event-driven
        read is not reported but read again after one more quiet window; only the same
        failure found by that quiet re-read is reported (``invalid``/``deleted``). So a
        writer pausing mid-file never flashes an error, git's delete-then-write is one
        ``modified``, and a half-written file never becomes the config.
        """
        if not self.config_dir_present:
            return  # the whole dir is gone: keep every last good config until it returns
        confirm = {} if ALL in keys else {t: why for t, why in reread.items() if t not in keys}
        changes: list[Change] = []
        if ALL in keys:  # shared files are re-stamped only when applied to every tenant
            self._stamps.note_shared()
        shared = self._shared(listing=ALL in keys)
        for tenant in self._tenants_to_load(keys | reread.keys(), shared):
            self._stamps.note_tenant(tenant)
            result = self._load(tenant, shared)
            if result is None:
                continue
            self.stats["reloads"] += 1
            state = self._store.get(tenant)
            suspect = suspect_of(result, had_file=state is not None and state.exists)
            if suspect is not None and confirm.get(tenant) is not suspect:
                self._rereads.defer(tenant, suspect, time.monotonic())
                self.stats["deferred"] += 1
                continue
            self._rereads.discard(tenant)
            if not result.exists and not self.config_dir_present:
                continue  # the dir vanished while we read: not a deletion
            change = self._store.apply(result)
            if change.change_type is not ChangeType.UNCHANGED:
                changes.append(change)
        if changes:
            self._deliver(changes)

    def _deliver(self, changes: list[Change]) -> None:
        each = log.info if len(changes) <= 20 else log.debug  # a first start: one line
        for change in changes:
            each("tenant %s: %s (revision %d)", change.tenant_id, change.change_type.value,
                 change.revision)
        if len(changes) > 20:
            log.info("%d tenants changed in one batch", len(changes))
        self._fanout.publish(changes)
