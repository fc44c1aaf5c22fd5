"""Local mode (DESIGN.md §7): no server, the engine runs in the kernel.

``DirFeed`` runs the core ``FileWatcher`` + ``ConfigStore`` on a config dir (the same
engine as the servers, so the rules of §3/§4 hold unchanged); ``FileFeed`` follows one file
(``config_path=``), without defaults or schema. Both report through three callbacks, called
on their own thread: ``on_update(Update)``, ``on_invalid(error_dict)``, ``on_valid()``.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.documents import checksum, read_document
from ..core.errors import InvalidDocument
from ..core.store import Change as CoreChange
from ..core.store import ChangeType, ConfigStore, TenantState
from ..core.watcher import FileWatcher
from .change import Update
from .client import THREAD_PREFIX

log = logging.getLogger(__name__)

UpdateCallback = Callable[[Update], None]
InvalidCallback = Callable[[dict[str, Any]], None]
ValidCallback = Callable[[], None]


def _state_update(state: TenantState | None, epoch: str) -> Update:
    if state is None:
        return Update(revision=0, epoch=epoch, checksum=None, config=None, exists=False,
                      valid=True)
    return Update(
        revision=state.revision, epoch=epoch, checksum=state.checksum, config=state.config,
        exists=state.exists, valid=state.valid,
        error=state.error.to_dict() if state.error else None, timestamp=state.last_change,
    )


class DirFeed:
    """Follows one tenant of a config dir with the core watcher."""

    def __init__(
        self, config_dir: Path, tenant_id: str, *, on_update: UpdateCallback,
        on_invalid: InvalidCallback, on_valid: ValidCallback, debounce_ms: int = 100,
    ) -> None:
        if not config_dir.is_dir():
            raise FileNotFoundError(f"config dir {config_dir} does not exist")
        self.config_dir = config_dir
        self.tenant_id = tenant_id
        self._on_update, self._on_invalid, self._on_valid = on_update, on_invalid, on_valid
        self.store = ConfigStore()
        self.watcher = FileWatcher(config_dir, self.store, self._changes, debounce_ms=debounce_ms)

    def start(self) -> Update:
        """Load every tenant, start watching; return this tenant's state now."""
        self.watcher.start()
        return _state_update(self.store.get(self.tenant_id), self.store.epoch)

    def reload(self) -> None:
        self.watcher.rescan()

    def stop(self) -> None:
        self.watcher.stop()

    def _changes(self, changes: list[CoreChange]) -> None:
        for c in changes:
            if c.tenant_id != self.tenant_id:
                continue
            if c.change_type is ChangeType.INVALID and c.error is not None:
                self._on_invalid(c.error.to_dict())
            elif c.change_type is ChangeType.RECOVERED:
                self._on_valid()
            elif c.is_wire_change:
                self._on_update(Update(
                    revision=c.revision, epoch=c.epoch, checksum=c.checksum, config=c.new,
                    exists=c.change_type is not ChangeType.DELETED,
                    change_type=c.change_type.value, patch=list(c.patch),
                    changed_paths=list(c.changed_paths), timestamp=c.timestamp, valid=True,
                ))


class FileFeed:
    """Follows a single config file (``config_path=``) with a watchdog observer."""

    def __init__(
        self, path: Path, *, on_update: UpdateCallback, on_invalid: InvalidCallback,
        on_valid: ValidCallback, debounce_s: float = 0.1,
    ) -> None:
        self.path = path.absolute()
        self._on_update, self._on_invalid, self._on_valid = on_update, on_invalid, on_valid
        self.epoch = uuid.uuid4().hex
        self.revision = 0
        self.checksum: str | None = None
        self.error: InvalidDocument | None = None
        self.debounce_s = debounce_s
        self._dirty = threading.Event()
        self._stopping = False
        self._observer: Any = None
        self._worker = threading.Thread(
            target=self._work, name=f"{THREAD_PREFIX}file-{self.path.name}", daemon=True
        )

    def start(self) -> Update:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        feed = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return  # our own reads
                names = {os.fsdecode(event.src_path), os.fsdecode(getattr(event, "dest_path", ""))}
                if str(feed.path) in names:
                    feed._dirty.set()

        first = self._load(initial=True)
        self._observer = Observer()
        self._observer.name = f"{THREAD_PREFIX}observer-{self.path.name}"
        self._observer.schedule(Handler(), str(self.path.parent), recursive=False)
        self._observer.start()
        self._worker.start()
        return first

    def reload(self) -> None:
        self._dirty.set()

    def stop(self) -> None:
        self._stopping = True
        self._dirty.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(3)
        if self._worker.is_alive():
            self._worker.join(3)

    def _work(self) -> None:
        while not self._stopping:
            self._dirty.wait()
            # quiet window: let a burst of events (write, rename, chmod) settle first
            while self._dirty.is_set() and not self._stopping:
                self._dirty.clear()
                self._dirty.wait(self.debounce_s)
            if not self._stopping:
                self._load(initial=False)

    def _load(self, *, initial: bool) -> Update:
        try:
            config = read_document(self.path, file=self.path.name)
        except FileNotFoundError:
            config = None
        except InvalidDocument as e:
            if not initial and e != self.error:
                self._on_invalid(e.to_dict())
            self.error = e
            return Update(self.revision, self.epoch, self.checksum, None, valid=False,
                          error=e.to_dict())
        was_invalid, self.error = self.error is not None, None
        digest = checksum(config) if config is not None else None
        if digest == self.checksum and not initial:
            if was_invalid:
                self._on_valid()
            return Update(self.revision, self.epoch, digest, config)
        existed = self.checksum is not None
        self.revision += 1
        self.checksum = digest
        update = Update(
            revision=self.revision, epoch=self.epoch, checksum=digest, config=config,
            exists=config is not None,
            change_type="deleted" if config is None else ("modified" if existed else "created"),
            valid=True,
        )
        if not initial:
            self._on_update(update)
        return update
