"""FileWatcher: watchdog observer, coalescing debouncer, reconcile scan (DESIGN.md §4).

CONTRACT STUB — signatures are fixed; bodies are filled in by the watcher work.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .documents import DEFAULT_MAX_FILE_BYTES
from .store import Change, ConfigStore

ChangeCallback = Callable[[list[Change]], None]


class FileWatcher:
    """Watches one config dir and feeds a ``ConfigStore``.

    ``start()`` loads every tenant synchronously into the store (emitting nothing), then
    watches. Each settled batch of reloads calls ``on_changes(changes)`` from the watcher's
    worker thread with the non-UNCHANGED changes (created/modified/deleted/invalid/recovered),
    in tenant order. The owner of a loop hands them over itself
    (``loop.call_soon_threadsafe``). ``stop()`` leaves no thread, observer or inotify
    instance behind.
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
    ) -> None:
        raise NotImplementedError

    @property
    def kind(self) -> str:
        """The observer actually running: ``"native"`` or ``"polling"``."""
        raise NotImplementedError

    @property
    def config_dir_present(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self, timeout: float = 3.0) -> None:
        raise NotImplementedError

    def rescan(self) -> None:
        """Reload every tenant now (through the same path as events)."""
        raise NotImplementedError
