"""Reconnect policy of docs/kernel.md, free of I/O so it can be tested with a fake clock.

1 s doubling to 30 s with FULL jitter (``delay = uniform(0, min(cap, base * 2**n))``, the
AWS "full jitter" scheme: thousands of kernels restarted with their server do not reconnect
in lock-step), reset after 60 s connected; after ``max_attempts`` the caller reports
``error`` and keeps retrying every ``retry_every`` s (unless ``retry_forever`` is off).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Counts failed attempts and says how long to wait before the next one."""

    base: float = 1.0
    cap: float = 30.0
    max_attempts: int = 5
    reset_after: float = 60.0
    retry_every: float = 30.0
    retry_forever: bool = True
    clock: Callable[[], float] = time.monotonic
    uniform: Callable[[float, float], float] = field(default=random.uniform)
    attempts: int = 0
    _connected_at: float | None = None

    @property
    def exhausted(self) -> bool:
        """More failed attempts than allowed: the link is reported as ``error``."""
        return self.attempts > self.max_attempts

    @property
    def gave_up(self) -> bool:
        """Exhausted and not told to retry forever: stop trying."""
        return self.exhausted and not self.retry_forever

    def connected(self) -> None:
        """The link is up; the attempt count resets only once it has stayed up long enough."""
        self._connected_at = self.clock()

    def disconnected(self) -> None:
        """The link went down; a link that lasted ``reset_after`` s starts a fresh count."""
        if self._connected_at is not None and self.clock() - self._connected_at >= self.reset_after:
            self.attempts = 0
        self._connected_at = None

    def reset(self) -> None:
        self.attempts = 0
        self._connected_at = None

    def next_delay(self, retry_after: float | None = None) -> float:
        """Count one failed attempt and return the wait before the next one (seconds).

        ``retry_after`` (a server's ``Retry-After``) is honoured as a lower bound.
        """
        self.attempts += 1
        if self.exhausted:
            delay = self.retry_every
        else:
            delay = self.uniform(0.0, min(self.cap, self.base * 2 ** (self.attempts - 1)))
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay
