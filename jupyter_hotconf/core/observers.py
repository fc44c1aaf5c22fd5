"""The watchdog observer behind a FileWatcher: choose it, start it, fall back, replace it.

``native`` is inotify on Linux (FSEvents/kqueue/ReadDirectoryChangesW elsewhere, best
effort); ``polling`` compares directory snapshots every ``poll_interval_s``. When native
watching cannot start because of a kernel limit (``ENOSPC``: ``fs.inotify.max_user_watches``;
``EMFILE``: ``max_user_instances`` or open files) we poll instead and say so once
(docs/change-detection.md), rather than fail the server.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from . import movewait

log = logging.getLogger(__name__)

# watchdog's inotify emitter could sleep through the pair of an editor's rename save and
# deliver it 0.5 s late (gorakhargosh/watchdog#649): wait on the queue's condition instead,
# process-wide, on the watchdog versions verified (core/movewait.py, docs/change-detection.md).
movewait.install()

#: The events a config dir is watched for: changes, not reads. Without a filter, inotify
#: reports every open and close of every file, our own reads included — 20,000 events a
#: 10,000-tenant load hands watchdog's threads for nothing (docs/benchmarks.md) — and
#: watchdog adds a directory ``modified`` to each change, which the mapper drops anyway.
WATCHED_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent, DirCreatedEvent, FileDeletedEvent, DirDeletedEvent,
    FileModifiedEvent, FileMovedEvent, DirMovedEvent, FileClosedEvent,
]

#: ``(kind, poll_interval_s) → unstarted observer``; injectable to simulate inotify limits.
ObserverFactory = Callable[[str, float], BaseObserver]

#: Native watching cannot start: inotify watch limit, instance limit, open-file limits.
FALLBACK_ERRNOS = frozenset({errno.ENOSPC, errno.EMFILE, errno.ENFILE})


def default_observer_factory(kind: str, poll_interval_s: float) -> BaseObserver:
    if kind == "polling":
        return PollingObserver(timeout=poll_interval_s)
    return Observer()


class _Handler(FileSystemEventHandler):
    def __init__(self, sink: Callable[[FileSystemEvent], None]) -> None:
        self._sink = sink

    def dispatch(self, event: FileSystemEvent) -> None:
        self._sink(event)


class ObserverSlot:
    """Holds at most one running observer on ``root`` (recursive) feeding ``sink``."""

    def __init__(
        self,
        root: str,
        sink: Callable[[FileSystemEvent], None],
        *,
        planned: str,
        reason: str,
        poll_interval_s: float,
        factory: ObserverFactory = default_observer_factory,
    ) -> None:
        self.root = root
        self._sink = sink
        self._planned = planned
        self._reason = reason
        self._poll_interval_s = poll_interval_s
        self._factory = factory
        self._observer: BaseObserver | None = None
        self._running_kind: str | None = None
        self._native_failed = False
        self._announced = False

    @property
    def kind(self) -> str:
        """The kind running now, else the kind the next ``arm()`` will start."""
        return self._running_kind or ("polling" if self._native_failed else self._planned)

    @property
    def armed(self) -> bool:
        return self._observer is not None

    def arm(self) -> None:
        """Start an observer (the previous one must have been disarmed)."""
        kind = self.kind
        try:
            self._observer = self._start(kind)
        except OSError as exc:
            if kind != "native" or exc.errno not in FALLBACK_ERRNOS:
                raise
            log.warning(
                "native file watching cannot start (%s); polling %s every %.1fs instead",
                exc, self.root, self._poll_interval_s,
            )
            self._native_failed = True  # remembered: a re-arm does not hit the limit again
            kind = "polling"
            self._observer = self._start(kind)
        self._running_kind = kind
        if not self._announced:
            self._announced = True
            log.info("watching %s with the %s observer: %s", self.root, kind, self._reason)

    def _start(self, kind: str) -> BaseObserver:
        observer = self._factory(kind, self._poll_interval_s)
        try:
            observer.schedule(_Handler(self._sink), self.root, recursive=True,
                              event_filter=WATCHED_EVENTS)
            observer.start()
        except BaseException:
            observer.stop()  # releases the inotify instance a half-started observer holds
            if observer.ident is not None:
                observer.join(1.0)
            raise
        return observer

    def disarm(self, timeout: float = 3.0) -> None:
        """Stop and join the observer (its emitters and inotify thread with it)."""
        observer, self._observer, self._running_kind = self._observer, None, None
        if observer is None:
            return
        observer.stop()
        if observer.ident is not None and observer is not threading.current_thread():
            observer.join(timeout)

    def healthy(self) -> bool:
        """False once the observer or an emitter died (an error, or its root was deleted)."""
        observer = self._observer
        return (
            observer is not None
            and observer.is_alive()
            and all(emitter.is_alive() for emitter in observer.emitters)
        )
