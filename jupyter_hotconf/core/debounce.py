"""Coalescing debouncer: collect keys until the events go quiet (docs/change-detection.md).

A save is several events (vim: move + create + modify + attrib); a burst of writes is
hundreds. Reloading on each would read half-written files and flood clients. The batch is
due ``quiet_s`` after its LAST event, but never later than ``max_wait_s`` after its FIRST,
so a file written continuously still reloads. Sans-I/O and clock-injected, so the timing
rules are tested without sleeping; the watcher wraps it with its own lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Debouncer(Generic[K]):
    """Pending keys with the time of the first and the last event of the current batch.

    >>> now = [0.0]
    >>> d = Debouncer(quiet_s=0.1, max_wait_s=1.0, clock=lambda: now[0])
    >>> d.add(["acme"]); d.take_due() is None
    True
    >>> now[0] = 0.1; d.take_due()
    {'acme'}
    """

    def __init__(
        self, quiet_s: float, max_wait_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if quiet_s < 0 or max_wait_s < 0:
            raise ValueError(f"quiet_s and max_wait_s must be >= 0, got {quiet_s}, {max_wait_s}")
        self.quiet_s = quiet_s
        # A cap shorter than the quiet window would make the window meaningless.
        self.max_wait_s = max(max_wait_s, quiet_s)
        self._clock = clock
        self._keys: set[K] = set()
        self._first: float | None = None
        self._last: float | None = None
        self._started: float | None = None  # the batch's first event; force() leaves it
        #: Clock time of the first event of the batch last taken (None: not yet), so whoever
        #: applies that batch can time first event → applied.
        self.taken_started: float | None = None

    def add(self, keys: Iterable[K]) -> bool:
        """Record an event touching ``keys``; returns whether anything was added."""
        keys = set(keys)
        if not keys:
            return False
        now = self._clock()
        if self._first is None:
            self._first = self._started = now
        self._last = now
        self._keys |= keys
        return True

    @property
    def pending(self) -> frozenset[K]:
        """The keys of the batch being collected (empty when none)."""
        return frozenset(self._keys)

    def deadline(self) -> float | None:
        """Clock time at which the pending batch is due, or None if nothing is pending."""
        if self._first is None or self._last is None:
            return None
        return min(self._last + self.quiet_s, self._first + self.max_wait_s)

    def take_due(self) -> set[K] | None:
        """The batch, if it is due now (and start a new one); else None."""
        deadline = self.deadline()
        if deadline is None or self._clock() < deadline:
            return None
        return self.take()

    def force(self) -> None:
        """Make the pending batch due now (an explicit rescan need not wait for quiet)."""
        if self._keys:
            self._first = self._last = self._clock() - self.max_wait_s

    def take(self) -> set[K]:
        """The pending keys regardless of timing (used on stop and for forced rescans)."""
        keys, self._keys = self._keys, set()
        self.taken_started = self._started
        self._first = self._last = self._started = None
        return keys
