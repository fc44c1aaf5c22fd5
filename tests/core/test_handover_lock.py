"""``HandoverLock``: reentrant like ``RLock``, and a hold passed to another thread keeps
every other thread out until that thread releases it."""

from __future__ import annotations

import concurrent.futures
import threading

import pytest

from jupyter_hotconf.core.handover_lock import HandoverLock
from jupyter_hotconf.pytest_plugin import DEADLINE_S


def test_it_is_reentrant_and_only_its_owner_releases_it() -> None:
    lock = HandoverLock()
    with lock, lock:
        pool = concurrent.futures.ThreadPoolExecutor(1)
        with pytest.raises(RuntimeError, match="does not hold"):
            pool.submit(lock.release).result(DEADLINE_S)
    taken = pool.submit(lock.acquire)  # free again: another thread takes it at once
    taken.result(DEADLINE_S)
    pool.submit(lock.release).result(DEADLINE_S)
    pool.shutdown()


def test_a_handed_hold_keeps_others_out_until_the_successor_releases() -> None:
    lock, gate, order = HandoverLock(), threading.Event(), []

    def successor_work() -> None:
        assert gate.wait(DEADLINE_S)
        with lock:  # reentrant for the successor: the hold is its own now
            order.append("successor")
        lock.release()  # the handed hold

    def other() -> None:
        with lock:
            order.append("other")

    pool = concurrent.futures.ThreadPoolExecutor(1)
    lock.acquire()
    successor = threading.Thread(target=successor_work)
    lock.hand_to(successor)
    with pytest.raises(RuntimeError, match="does not hold"):
        lock.release()  # the first owner let go of it
    waiting = pool.submit(other)
    successor.start()
    assert not waiting.done()
    gate.set()
    waiting.result(DEADLINE_S)
    successor.join(DEADLINE_S)
    assert order == ["successor", "other"]
    pool.shutdown()


def test_only_a_single_hold_can_be_handed() -> None:
    lock = HandoverLock()
    with lock, lock, pytest.raises(RuntimeError, match="only hold"):
        lock.hand_to(threading.Thread(target=lambda: None))
    with pytest.raises(RuntimeError, match="only hold"):
        lock.hand_to(threading.Thread(target=lambda: None))  # not held at all
