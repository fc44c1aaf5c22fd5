"""A woken wait for watchdog's delayed move events (gorakhargosh/watchdog#649).

On Linux, watchdog holds an ``IN_MOVED_FROM`` for 0.5 s in a ``DelayedQueue`` so that its
``IN_MOVED_TO`` can be paired with it. ``DelayedQueue.get`` (watchdog 4.0 to 7.1 at least)
reads the delayed head, releases the lock and ``time.sleep()``s the whole remaining delay.
When the emitter reaches ``get()`` between the two puts of an editor's rename-onto-the-file
save, the pair arrives while it sleeps and nothing can wake it: the save is delivered
0.5 s late (about 0.4 % of saves, docs/change-detection.md).

``install()`` replaces that ``get`` with one that waits on the queue's own condition for the
remaining delay: every ``put`` notifies that condition, so the pair wakes the getter, which
re-checks the head and returns the pair at once. Same return values otherwise: an unpaired
delayed item is returned once its delay is over, and ``close()`` ends a waiting ``get``
with None. The one difference: a ``get`` waiting out a delay when the queue is closed
returns None at once, where the original returned the delayed item after its delay (which
the emitter, stopped by then, drops anyway).

The replacement is installed only on a watchdog whose ``DelayedQueue`` was read and found
to have the expected shape (see ``VERIFIED_MAJORS``); anything else is left alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from watchdog.utils.delayed_queue import DelayedQueue

log = logging.getLogger(__name__)

T = TypeVar("T")

#: watchdog major versions whose ``DelayedQueue`` was read: 7.0.0 and 7.1.0 have the same
#: ``get``, with ``delay`` and ``time.monotonic()``. 4.x to 6.x have the same algorithm but
#: keep ``delay_sec`` and stamp items with ``time.time()``, so the replacement would not fit.
VERIFIED_MAJORS = frozenset({7})

#: Set on the installed function: ``install()`` sees it and does nothing the second time.
MARKER = "_jupyter_hotconf_movewait"

#: The ``DelayedQueue.get`` that ``install()`` replaced (None before, or if it did not).
ORIGINAL_GET: Callable[[DelayedQueue[Any]], Any] | None = None


def woken_get(self: DelayedQueue[T]) -> T | None:
    """``DelayedQueue.get`` that waits out a delayed head on ``_not_empty``, so a put wakes it.

    ``self`` is a watchdog ``DelayedQueue``; its private attributes are checked by
    ``install()`` before this is used.
    """
    cond = self._not_empty  # built on _lock, which put, remove, find and clear take
    with cond:
        while True:
            while not self._queue and not self._closed:
                cond.wait()
            if self._closed:
                return None
            head, insert_time, delay = self._queue[0]
            if delay:
                left = insert_time + self.delay - time.monotonic()
                if left > 0:
                    cond.wait(left)  # a put (e.g. the IN_MOVED_TO's pair) or close wakes it
                    continue  # re-check: the head may be the pair now, or gone
            self._queue.popleft()
            return head


# setattr, not an assignment: mypy knows no such attribute on a function.
setattr(woken_get, MARKER, True)


def _watchdog_major() -> int | None:
    """watchdog's major version, or None if it cannot be read."""
    try:
        from watchdog import version
    except ImportError:
        return None
    major = getattr(version, "VERSION_MAJOR", None)
    return major if isinstance(major, int) else None


def _shape_problem(cls: type[DelayedQueue[Any]]) -> str | None:
    """Why ``woken_get`` does not fit ``cls``, or None if an instance has what it uses."""
    try:
        queue = cls(0.5)
    except Exception as exc:  # a changed constructor: not the class that was read
        return f"DelayedQueue(0.5) failed: {exc!r}"
    cond = getattr(queue, "_not_empty", None)
    if not isinstance(cond, threading.Condition):
        return "_not_empty is not a threading.Condition"
    if getattr(cond, "_lock", None) is not getattr(queue, "_lock", None):
        return "_not_empty is not built on _lock"
    if not isinstance(getattr(queue, "_queue", None), deque):
        return "_queue is not a deque"
    if not isinstance(getattr(queue, "_closed", None), bool):
        return "_closed is missing"
    if getattr(queue, "delay", None) != 0.5:
        return "delay is not the attribute set by the constructor"
    return None


def install() -> bool:
    """Replace ``DelayedQueue.get`` by ``woken_get``; True if it is installed (now or before).

    Idempotent. Leaves watchdog alone (one debug line, False) if its version or the
    class's shape is not the one verified.
    """
    global ORIGINAL_GET
    try:
        from watchdog.utils.delayed_queue import DelayedQueue
    except ImportError as exc:
        log.debug("watchdog move-wait fix not installed: %s", exc)
        return False
    current = DelayedQueue.__dict__.get("get")
    if getattr(current, MARKER, False):
        return True
    major = _watchdog_major()
    if major not in VERIFIED_MAJORS:
        problem: str | None = f"watchdog major version {major} not in {sorted(VERIFIED_MAJORS)}"
    elif getattr(current, "__module__", None) != DelayedQueue.__module__:
        problem = "DelayedQueue.get is not watchdog's own (replaced by someone else)"
    else:
        problem = _shape_problem(DelayedQueue)
    if problem is not None:
        log.debug("watchdog move-wait fix not installed: %s", problem)
        return False
    ORIGINAL_GET = current
    setattr(DelayedQueue, "get", woken_get)  # noqa: B010  (mypy refuses assigning a method)
    return True
