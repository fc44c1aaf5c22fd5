"""Log a recurring watcher error once, then count it (docs/change-detection.md).

A fault that does not go away (``private/`` unreadable, a symlink loop, an I/O error on a
flaky mount) fails every re-arm and rescan, once a second: logging a traceback each time
buries everything else in the log. Each distinct error is logged once with its traceback,
then at most one summary per ``summary_s`` ("… (repeated 37 times in the last 60 s)"),
and one line when it stops. ``current()`` is what the server's ``info`` shows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

#: Distinct errors kept at once; beyond this the oldest is forgotten (and logs anew).
MAX_ERRORS = 32


@dataclass(frozen=True)
class Recurring:
    """One distinct error: its message, how often it happened, since when (UTC)."""

    message: str
    count: int
    since: float
    reported: int  # count at the last log line
    reported_at: float  # monotonic time of the last log line

    def as_json(self) -> dict[str, Any]:
        since = datetime.fromtimestamp(self.since, timezone.utc)
        return {"message": self.message, "count": self.count,
                "since": since.isoformat(timespec="seconds").replace("+00:00", "Z")}


class ErrorTally:
    """Errors grouped by ``scope`` (``""`` for the watcher itself, a tenant id for one
    tenant's load) and message; ``ok(scope)`` says the scope works again."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        summary_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._log = logger
        self._summary_s = summary_s
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()  # written by the worker, read by a server's loop
        self._errors: dict[tuple[str, str], Recurring] = {}
        self.total = 0  # every failure, distinct or not (a counter for metrics)

    def failed(self, scope: str, what: str, exc: BaseException) -> None:
        """Record ``exc``; ``what`` says, for a person, what failed and what happens now."""
        message = f"{type(exc).__name__}: {exc}"
        key = (scope, message)
        now = self._clock()
        with self._lock:
            self.total += 1
            seen = self._errors.pop(key, None)
            if seen is None:
                if len(self._errors) >= MAX_ERRORS:
                    self._errors.pop(next(iter(self._errors)))
                self._errors[key] = Recurring(message, 1, self._wall(), 1, now)
                self._log.error("%s: %s (logged once while it recurs)", what, message,
                                exc_info=exc)
                return
            seen = replace(seen, count=seen.count + 1)
            if now - seen.reported_at >= self._summary_s:
                self._log.warning(
                    "%s: %s (repeated %d times in the last %.0f s)",
                    what, message, seen.count - seen.reported, now - seen.reported_at,
                )
                seen = replace(seen, reported=seen.count, reported_at=now)
            self._errors[key] = seen  # re-inserted last: the newest error is current()

    def ok(self, scope: str) -> None:
        """``scope`` worked: its errors stopped; say so once with their total."""
        with self._lock:
            gone = [key for key in self._errors if key[0] == scope]
            for key in gone:
                err = self._errors.pop(key)
                self._log.warning("recovered%s after %d failures since %s: %s",
                                  f" ({scope})" if scope else "", err.count,
                                  err.as_json()["since"], err.message)

    def current(self) -> dict[str, Any] | None:
        """The latest error still recurring, as ``{"message", "count", "since"}``, or None."""
        with self._lock:
            if not self._errors:
                return None
            return next(reversed(self._errors.values())).as_json()
