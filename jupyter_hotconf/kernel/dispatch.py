"""Run user code on the kernel's main thread (``docs/kernel.md``, "Threads").

The client and watcher threads never call user code or touch traits themselves: they hand
each item to the loop that runs on the main thread with ``call_soon_threadsafe``, so it runs
between cell executions (a blocking cell blocks that loop), one at a time, in the order
handed over. ipykernel 6 and 7 both run a Tornado ``IOLoop`` on the main thread and keep it
as ``kernel.io_loop``; its ``asyncio_loop`` is the loop we want. Where no loop runs on the
main thread (a plain script, the terminal IPython) items run on the handing thread, one at a
time under a lock.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def kernel_loop() -> asyncio.AbstractEventLoop | None:
    """The asyncio loop of the running ipykernel's main thread, if any."""
    ipython_mod = sys.modules.get("IPython")  # never import IPython into a plain script
    if ipython_mod is None:
        return None
    ip = ipython_mod.get_ipython()
    io_loop = getattr(getattr(ip, "kernel", None), "io_loop", None)
    loop = getattr(io_loop, "asyncio_loop", None)
    return loop if isinstance(loop, asyncio.AbstractEventLoop) else None


def main_thread_loop() -> asyncio.AbstractEventLoop | None:
    """The kernel's loop; else the loop running on the main thread when called from it."""
    loop = kernel_loop()
    if loop is not None:
        return loop
    if threading.current_thread() is threading.main_thread():
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return None
    return None


class Dispatcher:
    """Hands callables to the main thread's loop (FIFO), or runs them inline, serialised."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop if loop is not None else main_thread_loop()
        self._lock = threading.RLock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._run, fn, args)
                return
            except RuntimeError:  # loop closed between the check and the call
                pass
        self._run(fn, args)

    def run(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` here and now, serialised with the items handed over (a constructor
        that must see the state before its cell goes on, on the thread that blocks the loop)."""
        self._run(fn, args)

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        with self._lock:
            try:
                fn(*args)
            except Exception:
                log.exception("hotconf: %r raised on dispatch", fn)
