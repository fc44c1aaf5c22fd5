"""A reentrant lock whose hold can be handed to another thread.

A server's first start ends its history batch on the loop thread, but the batch commits on a
thread of its own after the server serves (``HistoryStore.batch``'s ``commit_later``). Every
other use of the history must wait for that commit, with no moment in between when another
thread could take the lock and write inside the uncommitted batch. ``threading.RLock`` can
only be released by its owner; this lock's owner can name its successor instead
(``hand_to``), and the successor releases it.
"""

from __future__ import annotations

import threading


class HandoverLock:
    """Reentrant, like ``threading.RLock``; ``hand_to`` passes a hold of depth 1 on."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: threading.Thread | None = None
        self._depth = 0

    def acquire(self) -> None:
        me = threading.current_thread()
        with self._cond:
            if self._owner is me:
                self._depth += 1
                return
            while self._owner is not None:
                self._cond.wait()
            self._owner, self._depth = me, 1

    def release(self) -> None:
        with self._cond:
            if self._owner is not threading.current_thread():
                raise RuntimeError("release of a HandoverLock this thread does not hold")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify()

    def hand_to(self, successor: threading.Thread) -> None:
        """Make ``successor`` the owner of this thread's single hold; it must release it."""
        with self._cond:
            if self._owner is not threading.current_thread() or self._depth != 1:
                raise RuntimeError("hand_to needs this thread's only hold of the lock")
            self._owner = successor

    def __enter__(self) -> HandoverLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
