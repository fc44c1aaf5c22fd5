"""Soak: a thousand ``protocol=2`` clients on one real ``serve`` process while acme's file
changes every 200 ms (docs/benchmarks.md, "Soak").

Every client must see strictly increasing, gap-free revisions ending at the final one with
the final config, none may be closed, and the server's RSS must stay flat after warm-up
(bounded: peak < 2x the warm-up figure; both printed). CI size: 1,000 clients for 30 s;
``python -m bench soak`` runs it at full size (``HOTCONF_SOAK=full``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient

from jupyter_hotconf.pytest_plugin import DEADLINE_S, EXAMPLE_DEFAULTS, ServeProcess, write_json

from .fleet import (
    SIZE,
    Link,
    connect_all,
    nofile_of,
    open_fds,
    raise_nofile,
    rss_bytes,
    wait_for,
    write_figures,
)

SIZES: dict[str, dict[str, float]] = {
    "ci": {"clients": 1000, "seconds": 30.0},
    "full": {"clients": 2000, "seconds": 180.0},
}
CHANGE_EVERY_S = 0.2
#: RSS is taken as warmed up once this share of the changes is in (history, caches and
#: buffers have reached their working size).
WARM_UP = 0.25
HEARTBEAT_S = 5.0  # the server's default interval, left as it is


def document(seq: int) -> dict[str, Any]:
    return {"pricing": {"discount": (seq % 100) / 100}, "name": "Acme", "seq": seq}


async def tenant(srv: ServeProcess, tenant_id: str) -> dict[str, Any]:
    response = await AsyncHTTPClient().fetch(
        f"{srv.http}/hotconf/api/tenants/{tenant_id}", request_timeout=DEADLINE_S
    )
    body: dict[str, Any] = json.loads(response.body)
    return body


async def sample(pid: int, samples: list[dict[str, float]], t0: float, stop: asyncio.Event,
                 every: float = 0.5) -> None:
    """RSS and open fds of ``pid`` every ``every`` s until ``stop``."""
    while not stop.is_set():
        samples.append({"t": time.monotonic() - t0, "rss": rss_bytes(pid), "fds": open_fds(pid)})
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


@pytest.mark.slow
@pytest.mark.asyncio
async def test_soak_every_client_sees_every_revision_and_rss_stays_flat(
    serve: Callable[..., ServeProcess], hotconf_dir: Path
) -> None:
    n = int(SIZES[SIZE]["clients"])
    changes = int(SIZES[SIZE]["seconds"] / CHANGE_EVERY_S)
    raise_nofile(n + 500)  # before serve starts: it inherits the limit
    srv = serve("--max-connections=0", "--max-connections-per-tenant=0")
    assert srv.proc is not None
    pid = srv.proc.pid
    assert nofile_of(pid) >= n + 100, "the server cannot hold the fleet's sockets"
    uri = f"{srv.ws}/ws?tenant_id=acme&protocol=2&include=config"
    links = [Link(uri) for _ in range(n)]
    samples: list[dict[str, float]] = []
    stop = asyncio.Event()
    t0 = time.monotonic()
    sampler = asyncio.get_running_loop().create_task(sample(pid, samples, t0, stop))
    try:
        assert await connect_all(links) == []
        await wait_for(lambda: all(link.seen for link in links), DEADLINE_S, "every Snapshot")
        start_rev = links[0].seen[0].revision
        assert {link.seen[0].revision for link in links} == {start_rev}
        connected_s = time.monotonic() - t0

        # the load: one atomic save every 200 ms (the schedule paces the load generator)
        begin = time.monotonic()
        warm_at = 0.0
        for seq in range(changes):
            write_json(hotconf_dir / "private" / "acme.json", document(seq))
            if seq == int(changes * WARM_UP):
                warm_at = time.monotonic() - t0
            await asyncio.sleep(max(0.0, begin + (seq + 1) * CHANGE_EVERY_S - time.monotonic()))
        final = changes - 1

        async def applied() -> dict[str, Any]:
            while True:
                body = await tenant(srv, "acme")
                if body["config"].get("seq") == final:
                    return body
                await asyncio.sleep(0.05)  # paces the probe; the wait is for the state

        state = await asyncio.wait_for(applied(), DEADLINE_S)
        final_rev = state["revision"]
        await wait_for(lambda: all(link.revision == final_rev for link in links), DEADLINE_S * 2,
                       f"every client at revision {final_rev}")
        stop.set()
        await sampler
        loaded_s = time.monotonic() - t0 - connected_s
    finally:
        stop.set()
        for link in links:
            link.close()

    expected_config = {
        **EXAMPLE_DEFAULTS, **document(final),
        "pricing": {**EXAMPLE_DEFAULTS["pricing"], **document(final)["pricing"]},
    }
    assert state["config"] == expected_config
    counts = [len(link.seen) - 1 for link in links]
    for link in links:
        revisions = [s.revision for s in link.seen]
        assert all(b > a for a, b in itertools.pairwise(revisions)), revisions
        assert revisions == list(range(start_rev, final_rev + 1)), "a revision was skipped"
        assert link.config == expected_config
        assert link.closes == [] and link.up, "a client was closed"
        assert len(link.epochs) == 1 and link.bad_frames == 0
        # the heartbeat kept running under the load: about one Ping per interval
        assert len(link.pings) >= int(loaded_s // HEARTBEAT_S) - 1
    warm = [s for s in samples if s["t"] >= warm_at]
    assert warm, "no RSS sample after warm-up"
    warm_rss, peak_rss, end_rss = warm[0]["rss"], max(s["rss"] for s in warm), samples[-1]["rss"]
    figures = {
        "clients": n, "changes": changes, "change_every_s": CHANGE_EVERY_S,
        "revisions": [start_rev, final_rev], "deliveries": sum(counts),
        "per_client": [min(counts), max(counts)], "connected_s": round(connected_s, 2),
        "warm_at_s": round(warm_at, 2), "rss_warm": warm_rss, "rss_peak": peak_rss,
        "rss_end": end_rss, "samples": samples,
    }
    write_figures("soak", figures)
    mib = 1 / 2**20
    print(
        f"\nsoak: {n} clients, {changes} changes, {sum(counts)} deliveries "
        f"({min(counts)}..{max(counts)} per client), server RSS warm {warm_rss * mib:.1f} MiB "
        f"→ peak {peak_rss * mib:.1f} MiB → end {end_rss * mib:.1f} MiB, "
        f"fds {samples[-1]['fds']:.0f}"
    )
    assert peak_rss < 2 * warm_rss, f"server RSS grew {peak_rss / warm_rss:.2f}x after warm-up"
