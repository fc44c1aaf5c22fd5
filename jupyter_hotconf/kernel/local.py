"""Local mode (``docs/kernel.md``): no server, the engine runs in the kernel.

Both feeds speak the wire: they turn each store ``Change`` into its frame with
``core.protocol.frames_for`` and hand the typed message (``message_from_frame``) to
``on_message`` on their own thread, so a local link folds exactly what a socket would through
the same reducer (``core.follow``). ``start()`` returns the first ``Snapshot``.

``DirFeed`` runs the core ``FileWatcher`` + ``ConfigStore`` on a config dir (the servers'
engine: the layout and change-detection rules hold unchanged); ``FileFeed`` follows one file
(``config_path=``) without defaults or schema, with a ``ConfigStore`` and the core
``Debouncer`` — and the watcher's re-read rule: a file that reads as unparsable or missing is
read once more after a quiet window before it counts, so a writer mid-save never shows.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.debounce import Debouncer
from ..core.documents import read_document
from ..core.errors import InvalidDocument
from ..core.history import HistoryStore
from ..core.loading import LoadResult
from ..core.messages import Message, Snapshot
from ..core.protocol import frames_for, message_from_frame, snapshot
from ..core.rereads import Rereads, Suspect, suspect_of
from ..core.store import Change as StoreChange
from ..core.store import ConfigStore
from ..core.watcher import FileWatcher
from .client import THREAD_PREFIX
from .journal import Journal, local_history_path, open_journal

log = logging.getLogger(__name__)

MessageCallback = Callable[[Message], None]
#: ``ConfigChanged`` of a local feed carries what a socket asks for, and the patch for free.
INCLUDE = ("config", "patch")


def _mode() -> str:
    return os.environ.get("HOTCONF_MODE", "dev")


def _publish(change: StoreChange, on_message: MessageCallback) -> None:
    frame = frames_for(change, include=INCLUDE)
    message = message_from_frame(frame) if frame is not None else None
    if message is not None:
        on_message(message)


def _snapshot(store: ConfigStore, tenant_id: str) -> Snapshot:
    message = message_from_frame(
        snapshot(store.get(tenant_id), tenant_id, epoch=store.epoch, mode=_mode())
    )
    assert isinstance(message, Snapshot)
    return message


class DirFeed:
    """Follows one tenant of a config dir with the core watcher."""

    def __init__(
        self, config_dir: Path, tenant_id: str, *, on_message: MessageCallback,
        debounce_ms: int = 100,
    ) -> None:
        if not config_dir.is_dir():
            raise FileNotFoundError(f"config dir {config_dir} does not exist")
        self.config_dir = config_dir
        self.tenant_id = tenant_id
        self._on_message = on_message
        self.store = ConfigStore()
        self.watcher = FileWatcher(config_dir, self.store, self._changes, debounce_ms=debounce_ms)
        self.journal: Journal | None = None
        self.stopped = False

    @property
    def history(self) -> HistoryStore | None:
        """The config dir's history database this feed records to (None: history is off)."""
        return self.journal.history if self.journal is not None else None

    def expect(self, checksum: str, source: str) -> None:
        """A write of this kernel's own is coming (``Journal.expect``)."""
        if self.journal is not None:
            self.journal.expect(checksum, source)

    def start(self) -> Snapshot:
        """Resume the tenant's numbering from the history, load every tenant, start
        watching; return this tenant's state now (numbered as the database numbers it)."""
        journal = self.journal = open_journal(local_history_path(self.config_dir), self.tenant_id)
        if journal is not None:
            self.store.resume(journal.history.epoch, journal.resumed(), journal)
            journal.starting = True
        try:
            self.watcher.start()  # the load records what changed while nobody watched
        finally:
            if journal is not None:
                journal.starting = False
        return _snapshot(self.store, self.tenant_id)

    def reload(self) -> None:
        self.watcher.rescan()

    def stop(self) -> None:
        self.stopped = True
        self.watcher.stop()
        if self.journal is not None:
            self.journal.history.close()

    def _changes(self, changes: list[StoreChange]) -> None:
        for change in changes:
            if change.tenant_id == self.tenant_id:
                _publish(change, self._on_message)


class FileFeed:
    """Follows a single config file (``config_path=``) with a watchdog observer."""

    def __init__(
        self, path: Path, tenant_id: str, *, on_message: MessageCallback, debounce_ms: int = 100,
    ) -> None:
        self.path = path.absolute()
        self.tenant_id = tenant_id
        self._on_message = on_message
        self.store = ConfigStore()
        quiet_s = debounce_ms / 1000
        self._debouncer: Debouncer[str] = Debouncer(quiet_s, max(1.0, quiet_s))
        self._rereads = Rereads(quiet_s)  # the worker's own, like the watcher's
        self._cond = threading.Condition()
        self._stopping = False
        self._observer: Any = None
        self._worker = threading.Thread(
            target=self._work, name=f"{THREAD_PREFIX}file-{self.path.name}", daemon=True
        )

    def start(self) -> Snapshot:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        feed = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return  # our own reads
                names = {os.fsdecode(event.src_path), os.fsdecode(getattr(event, "dest_path", ""))}
                if str(feed.path) in names:
                    feed._request()

        self.store.apply(self._read())  # the first read counts as it is: nothing to compare
        self._observer = Observer()
        self._observer.name = f"{THREAD_PREFIX}observer-{self.path.name}"
        self._observer.schedule(Handler(), str(self.path.parent), recursive=False)
        self._observer.start()
        self._worker.start()
        return _snapshot(self.store, self.tenant_id)

    def reload(self) -> None:
        self._request(now=True)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(3)
        if self._worker.is_alive():
            self._worker.join(3)

    def _request(self, now: bool = False) -> None:
        with self._cond:
            self._debouncer.add([self.tenant_id])
            if now:
                self._debouncer.force()
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    due = [*self._rereads.deadlines()]
                    batch_due = self._debouncer.deadline()
                    if batch_due is not None:
                        due.append(batch_due)
                    wait = min(due) - time.monotonic() if due else None
                    if wait is not None and wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._stopping:
                    return
                batch = self._debouncer.take_due()
                pending = self._debouncer.pending
            reread = self._rereads.take_due(time.monotonic(), pending)
            if batch or reread:
                self._load(confirm=None if batch else reread.get(self.tenant_id))

    def _read(self) -> LoadResult:
        try:
            config = read_document(self.path, file=self.path.name)
        except FileNotFoundError:
            return LoadResult(self.tenant_id, exists=False)
        except InvalidDocument as e:
            return LoadResult(self.tenant_id, exists=True, error=e)
        return LoadResult(self.tenant_id, exists=True, config=config)

    def _load(self, *, confirm: Suspect | None) -> None:
        """Apply a fresh read, unless it is suspect and not the re-read that confirms it."""
        result = self._read()
        state = self.store.get(self.tenant_id)
        suspect = suspect_of(result, had_file=state is not None and state.exists)
        if suspect is not None and confirm is not suspect:
            self._rereads.defer(self.tenant_id, suspect, time.monotonic())
            return
        self._rereads.discard(self.tenant_id)
        _publish(self.store.apply(result), self._on_message)
