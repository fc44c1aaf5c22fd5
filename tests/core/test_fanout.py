"""The one fan-out loop (``core/fanout.py``): the watcher's hand-over and the server's
broker both rely on it, so one listener's failure or departure never reaches the others."""

from __future__ import annotations

import asyncio
import gc
import sys

import pytest

from jupyter_hotconf.core.fanout import ChangeFanout, ListenerGone, Listeners
from jupyter_hotconf.core.store import Change, ChangeType


def change(tenant_id: str) -> Change:
    return Change(
        tenant_id=tenant_id, change_type=ChangeType.MODIFIED, revision=1, epoch="e",
        checksum="sha256:0", timestamp="2026-01-01T00:00:00Z",
    )


def test_a_raising_listener_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[tuple[str, int]] = []

    def broken(value: int) -> None:
        raise RuntimeError("subscriber bug")

    listeners = Listeners[int]("test listener", "producer")
    listeners.subscribe(lambda v: seen.append(("first", v)))
    listeners.subscribe(broken)
    listeners.subscribe(lambda v: seen.append(("last", v)))
    listeners.publish(1)
    listeners.publish(2)
    assert seen == [("first", 1), ("last", 1), ("first", 2), ("last", 2)]
    assert caplog.text.count("test listener raised; the producer carries on") == 2


def test_a_listener_that_is_gone_is_dropped_and_unsubscribe_is_idempotent() -> None:
    calls: list[int] = []

    def gone(value: int) -> None:
        calls.append(value)
        raise ListenerGone

    listeners = Listeners[int]("test listener", "producer")
    listeners.subscribe(gone)
    kept: list[int] = []
    unsubscribe = listeners.subscribe(kept.append)
    listeners.publish(1)
    listeners.publish(2)
    assert calls == [1] and kept == [1, 2]
    unsubscribe()
    unsubscribe()
    listeners.publish(3)
    assert kept == [1, 2] and listeners.take_all() == []


def test_an_iterator_whose_loop_closed_is_dropped_and_close_still_ends_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kernel's loop may close while it still iterates: publishing must neither raise on
    the worker thread nor keep calling it, and ``close()`` must still end a live consumer."""
    fanout = ChangeFanout(lambda changes: None)
    held: list[object] = []  # keeps the abandoned consumer from being collected (and closed)

    async def subscribe_then_leave() -> None:
        agen = fanout.iterate()
        step = asyncio.ensure_future(agen.__anext__())
        held.extend((agen, step))
        await asyncio.sleep(0)  # let the generator reach its first wait (ordering, not time)

    dead_loop = asyncio.new_event_loop()
    dead_loop.run_until_complete(subscribe_then_leave())  # ends with the consumer waiting
    dead_loop.close()
    assert len(fanout._pushes._listeners) == 1
    step = held[1]

    async def live() -> list[list[str]]:
        got: list[list[str]] = []
        async for changes in fanout.iterate():
            got.append([c.tenant_id for c in changes])
            if len(got) == 1:
                fanout.close()
        return got

    async def main() -> list[list[str]]:
        task = asyncio.ensure_future(live())
        await asyncio.sleep(0)  # the live consumer subscribes
        fanout.publish([change("acme")])  # the dead one raises RuntimeError inside
        assert len(fanout._pushes._listeners) == 1  # only the live one is left
        return await asyncio.wait_for(task, 20)

    assert asyncio.run(main()) == [["acme"]]
    assert fanout._pushes.take_all() == []
    # The abandoned consumer cannot be finalised on its closed loop; collect it here, on
    # purpose, so its "Task was destroyed" noise does not land in some later test.
    step._log_destroy_pending = False  # type: ignore[attr-defined]
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: None)
    held.clear()
    del step
    gc.collect()
