"""watchdog's DelayedQueue.get with the woken wait (core/movewait.py, gorakhargosh/watchdog#649).

Real threads; the tests wait for observable states (a thread waiting on the queue's
condition, a thread done), never sleep to synchronise and assert no durations: a 30 s
delay against 10 s deadlines tells a woken getter from one that sleeps the delay out.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from watchdog.utils import delayed_queue
from watchdog.utils.delayed_queue import DelayedQueue

import jupyter_hotconf.core.observers  # noqa: F401  (installs the fix, as the server does)
from jupyter_hotconf.core import movewait
from jupyter_hotconf.pytest_plugin import wait_until

LONG_DELAY_S = 30.0  # far beyond every deadline below: only a woken getter returns in time
DEADLINE_S = 10.0


class Getter:
    """A thread calling ``get`` once on a queue; ``result`` once ``done`` is set."""

    def __init__(
        self, queue: DelayedQueue[Any], get: Callable[[Any], Any] | None = None
    ) -> None:
        self.queue = queue
        get = get or type(queue).get  # the class's get at call time: the installed one
        self.result: Any = "not returned"
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(get,), daemon=True)
        self.thread.start()

    def _run(self, get: Callable[[Any], Any]) -> None:
        self.result = get(self.queue)
        self.done.set()

    def waiters(self) -> int:
        """Threads waiting on the queue's condition (CPython's ``Condition._waiters``)."""
        with self.queue._not_empty:
            return len(self.queue._not_empty._waiters)  # type: ignore[attr-defined]

    def wait_waiting(self, what: str) -> None:
        wait_until(lambda: self.waiters() == 1, timeout=DEADLINE_S, what=what)

    def returned(self) -> Any:
        assert self.done.wait(DEADLINE_S), f"get() did not return within {DEADLINE_S}s"
        self.thread.join(DEADLINE_S)
        return self.result


def test_the_pair_put_during_the_delay_wakes_the_getter() -> None:
    """The race: get() sees the IN_MOVED_FROM, then the reader swaps it for the pair."""
    queue: DelayedQueue[str] = DelayedQueue(LONG_DELAY_S)
    getter = Getter(queue)
    getter.wait_waiting("the getter to wait on the empty queue")
    queue.put("moved_from", delay=True)  # its notify takes the getter off the waiters
    getter.wait_waiting(
        "the getter to wait out the delayed head on the queue's condition "
        "(an unfixed DelayedQueue.get sleeps instead, and no put can wake it)"
    )
    assert queue.remove(lambda e: e == "moved_from") == "moved_from"
    queue.put("paired move")
    assert getter.returned() == "paired move"  # within 10 s, not after the 30 s delay


def test_an_unpaired_delayed_item_is_still_returned() -> None:
    queue: DelayedQueue[str] = DelayedQueue(0.05)
    getter = Getter(queue)
    queue.put("moved_from", delay=True)
    assert getter.returned() == "moved_from"
    assert not queue._queue


def test_items_behind_a_delayed_head_keep_their_order() -> None:
    queue: DelayedQueue[str] = DelayedQueue(0.05)
    queue.put("moved_from", delay=True)
    queue.put("modified")
    assert [Getter(queue).returned(), Getter(queue).returned()] == ["moved_from", "modified"]


@pytest.mark.parametrize("delayed_head", [False, True], ids=["empty", "delayed-head"])
def test_close_ends_a_waiting_get_with_none(delayed_head: bool) -> None:
    queue: DelayedQueue[str] = DelayedQueue(LONG_DELAY_S)
    if delayed_head:
        queue.put("moved_from", delay=True)
    getter = Getter(queue)
    getter.wait_waiting("the getter to wait on the queue's condition")
    queue.close()
    assert getter.returned() is None


def test_install_is_idempotent_and_active_after_importing_observers() -> None:
    assert DelayedQueue.get is movewait.woken_get  # installed by importing core.observers
    assert movewait.install() is True
    assert movewait.install() is True
    assert DelayedQueue.get is movewait.woken_get
    assert movewait.ORIGINAL_GET is not None
    assert movewait.ORIGINAL_GET.__module__ == "watchdog.utils.delayed_queue"


def test_install_leaves_an_unverified_watchdog_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DelayedQueue, "get", movewait.ORIGINAL_GET)
    monkeypatch.setattr(movewait, "VERIFIED_MAJORS", frozenset({99}))
    assert movewait.install() is False
    assert DelayedQueue.get is movewait.ORIGINAL_GET


def test_the_shape_check_refuses_a_queue_without_the_condition() -> None:
    class Other(DelayedQueue[Any]):
        def __init__(self, delay: float) -> None:
            super().__init__(delay)
            self._not_empty = threading.Lock()  # type: ignore[assignment]

    assert movewait._shape_problem(DelayedQueue) is None
    assert movewait._shape_problem(Other) == "_not_empty is not a threading.Condition"


# -- the original get stalls: what the tests above would catch ---------------------------------


class HeldSleep:
    """Stands in for ``time`` in watchdog's delayed_queue: a clock that moves only when
    ``sleep`` is released, and a ``sleep`` that records its request and blocks until then."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.requests: list[float] = []
        self.sleeping = threading.Event()
        self.release = threading.Event()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.requests.append(seconds)
        self.sleeping.set()
        assert self.release.wait(DEADLINE_S), "the test never released the sleep"
        self.now += seconds


@pytest.fixture
def held_sleep(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldSleep]:
    clock = HeldSleep()
    fake = types.SimpleNamespace(monotonic=clock.monotonic, sleep=clock.sleep)
    monkeypatch.setattr(delayed_queue, "time", fake)
    yield clock
    clock.release.set()  # never leave a getter blocked


def test_the_original_get_sleeps_through_the_pair(held_sleep: HeldSleep) -> None:
    """The same race with watchdog's own get: the getter sleeps the whole delay, off the
    condition, and the put of the pair does not end that sleep."""
    assert movewait.ORIGINAL_GET is not None
    queue: DelayedQueue[str] = DelayedQueue(LONG_DELAY_S)
    getter = Getter(queue, movewait.ORIGINAL_GET)
    getter.wait_waiting("the getter to wait on the empty queue")
    queue.put("moved_from", delay=True)
    assert held_sleep.sleeping.wait(DEADLINE_S), "the original get did not sleep"
    assert held_sleep.requests == [LONG_DELAY_S]  # the whole delay, in one sleep
    assert getter.waiters() == 0  # not waiting on the condition: no put can wake it
    assert queue.remove(lambda e: e == "moved_from") == "moved_from"
    queue.put("paired move")  # notifies no one
    assert not getter.done.is_set() and getter.thread.is_alive()
    assert getter.waiters() == 0
    held_sleep.release.set()  # the delay is over
    assert getter.returned() == "paired move"
    assert held_sleep.requests == [LONG_DELAY_S]
