"""Reconnect storm: the server restarted on its port under a thousand connected clients that
reconnect with the kernel's own policy (``kernel/backoff.py``: 1 s doubling to 30 s, full
jitter), as a JupyterHub's kernels do when their server restarts.

All must be back within the backoff bound, none refused by the connect-rate limit at its
default (off), and the accept loop must not stall the heartbeat of clients already back
while the rest storm in (docs/benchmarks.md, "Soak").
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient

from jupyter_hotconf.kernel.backoff import Backoff
from jupyter_hotconf.pytest_plugin import DEADLINE_S, ServeProcess, write_json
from jupyter_hotconf.server.hub import GOING_AWAY

from .fleet import SIZE, Link, connect_all, raise_nofile, wait_for, write_figures

CLIENTS = {"ci": 1000, "full": 2000}
#: The restarted server's heartbeat interval: short, so the storm spans several beats.
HEARTBEAT_S = 1.0
#: Per client, the handshake of the attempt that gets it back may wait in the accept queue
#: behind the others' (the whole storm costs the server ≈ 1-2 ms of CPU per client on two
#: shared cores): 5 s is generous for that, and a refused or failed attempt after the
#: restart would cost a whole extra backoff round, which this bound does not cover.
HANDSHAKE_SLACK_S = 5.0
#: The Ping-gap bound's slack: the gap is stamped in this process, whose own loop is busy
#: with the storm's reconnects, so a Ping can be read a little after it arrived.
READ_SLACK_S = 0.5
EARLY = 5


def policy_bound(failed: int) -> float:
    """The longest wait the policy allows before the attempt after ``failed`` failures:
    the project's ``Backoff`` with its jitter pinned to the top of the range."""
    worst = Backoff(uniform=lambda lo, hi: hi)
    delay = 0.0
    for _ in range(failed + 1):
        delay = worst.next_delay()
    return delay


def ping_gaps(link: Link, since: float, until: float) -> list[float]:
    """Gaps between consecutive Pings ``link`` saw from ``since``, up to the first Ping
    after ``until`` (so the gap spanning ``until`` counts)."""
    pings = [p for p in link.pings if p >= since]
    inside = [p for p in pings if p <= until]
    after = [p for p in pings if p > until][:1]
    return [b - a for a, b in itertools.pairwise(inside + after)]


async def info(srv: ServeProcess) -> dict[str, Any]:
    response = await AsyncHTTPClient().fetch(f"{srv.http}/hotconf/api/info",
                                             request_timeout=DEADLINE_S)
    body: dict[str, Any] = json.loads(response.body)
    return body


@pytest.mark.slow
@pytest.mark.asyncio
async def test_reconnect_storm_after_a_restart(serve: Callable[..., ServeProcess],
                                               hotconf_dir: Any) -> None:
    n = CLIENTS[SIZE]
    raise_nofile(n + 500)
    # The connect-rate limit (max_connects_per_second) is left at its default: off, since
    # every kernel of a server connects from one loopback address.
    srv = serve("--max-connections=0", "--max-connections-per-tenant=0",
                f"--heartbeat-interval={HEARTBEAT_S}")
    uri = f"{srv.ws}/ws?tenant_id=acme&protocol=2&include=config"
    links = [Link(uri, backoff=Backoff(), connect_timeout=DEADLINE_S) for _ in range(n)]
    try:
        assert await connect_all(links) == []
        await wait_for(lambda: all(link.seen for link in links), DEADLINE_S, "every Snapshot")
        rev0 = links[0].revision
        assert rev0 is not None
        stopped = time.monotonic()
        await asyncio.to_thread(srv.restart)  # this loop keeps serving the fleet meanwhile
        ready = time.monotonic()
        # the policy's longest wait (30 s once attempts run out) plus the handshake
        await wait_for(lambda: all(len(link.connected_at) >= 2 for link in links),
                       policy_bound(6) + HANDSHAKE_SLACK_S + DEADLINE_S, "every client back")
        await wait_for(lambda: all(len(link.seen) >= 2 for link in links), DEADLINE_S,
                       "every client's Snapshot after the restart")
        back = {id(link): link.connected_at[1] for link in links}
        storm_end = max(back.values())
        early = sorted(links, key=lambda link: back[id(link)])[:EARLY]
        await wait_for(lambda: all(any(p > storm_end + HEARTBEAT_S for p in link.pings)
                                   for link in early), DEADLINE_S, "a Ping after the storm")
        # and one change still reaches every client
        write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.42}})
        await wait_for(lambda: all(link.revision == rev0 + 1 for link in links),
                       DEADLINE_S, "the change after the storm everywhere")
        assert (await info(srv))["connections"] == n
    finally:
        for link in links:
            link.close()

    late_failures, over_bound, handshakes, delays = [], [], [], []
    for link in links:
        assert link.closes == [GOING_AWAY], f"closed with {link.closes}, not only the restart"
        failed = [a for a in link.attempts if a.error]
        success = link.attempts[-1]
        assert not success.error and len(link.attempts) == len(failed) + 1
        late_failures += [a for a in failed if a.started >= ready]
        waited_from = max([ready, *(a.ended for a in failed)])
        handshakes.append(back[id(link)] - success.started)
        delays.append(success.delay)
        if back[id(link)] - waited_from > policy_bound(len(failed)) + HANDSHAKE_SLACK_S:
            over_bound.append((len(failed), back[id(link)] - waited_from))
        # revisions survive the restart (history): the resync Snapshot is the same revision
        assert [s.revision for s in link.seen] == [rev0, rev0, rev0 + 1]
        assert len(link.epochs) == 1
    assert late_failures == [], f"{len(late_failures)} attempts refused after the restart: " \
        f"{late_failures[:3]}"
    assert over_bound == [], f"{len(over_bound)} clients back later than the backoff bound"
    gaps = [g for link in early for g in ping_gaps(link, back[id(link)], storm_end)]
    assert len(gaps) >= EARLY * 2, f"too few Pings to measure the storm's heartbeat: {gaps}"
    figures = {
        "clients": n, "restart_s": round(ready - stopped, 2),
        "storm_s": round(storm_end - ready, 2),
        "attempts": sum(len(link.attempts) for link in links),
        "max_failed_before_back": max(len(link.attempts) - 1 for link in links),
        "max_handshake_s": round(max(handshakes), 3), "max_delay_s": round(max(delays), 3),
        "heartbeat_s": HEARTBEAT_S, "max_ping_gap_s": round(max(gaps), 3),
        "ping_gaps": len(gaps),
    }
    write_figures("storm", figures)
    print(f"\nstorm: {figures}")
    # One sweep may fire late by at most one interval while handshakes queue: 2 intervals.
    assert max(gaps) <= 2 * HEARTBEAT_S + READ_SLACK_S, f"heartbeat stalled: gaps {gaps}"
