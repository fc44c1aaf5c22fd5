"""Helpers for the scale-out tests (docs/scale-out.md): a group of real ``jupyter-hotconf
serve`` processes on one config dir and one real ``redis-server``, and what they report."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Callable
from typing import Any

import redis

from jupyter_hotconf.pytest_plugin import DEADLINE_S, RedisServer, ServeProcess, wait_until

from .clients import Client, connect

#: A short lease keeps the failover tests quick; every wait below still has DEADLINE_S.
LEASE_MS = 1000


def start_group(serve: Callable[..., ServeProcess], redis_server: RedisServer, n: int = 3,
                *flags: str) -> list[ServeProcess]:
    """``n`` servers of one group; returns once every one has joined and one leads."""
    procs = [serve(f"--broker-url={redis_server.url}", f"--leader-lease-ms={LEASE_MS}",
                   *flags) for _ in range(n)]
    wait_joined(procs)
    return procs


def info(proc: ServeProcess) -> dict[str, Any]:
    with urllib.request.urlopen(f"{proc.base}api/info", timeout=DEADLINE_S) as r:
        return dict(json.loads(r.read()))


def broker(proc: ServeProcess) -> dict[str, Any]:
    return dict(info(proc)["broker"])


def leaders(procs: list[ServeProcess]) -> list[ServeProcess]:
    return [p for p in procs if broker(p)["role"] == "leader"]


def wait_joined(procs: list[ServeProcess], timeout: float = DEADLINE_S) -> ServeProcess:
    """Every server connected, exactly one leader; that leader."""

    def settled() -> ServeProcess | None:
        states = [broker(p) for p in procs]
        if not all(s["connected"] for s in states):
            return None
        leading = [p for p, s in zip(procs, states, strict=True) if s["role"] == "leader"]
        return leading[0] if len(leading) == 1 else None

    return wait_until(settled, timeout=timeout, interval=0.05,
                      what="every server joined and exactly one leader")


def redis_client(server: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(server.url, decode_responses=True, socket_timeout=DEADLINE_S)


async def clients(procs: list[ServeProcess], query: str) -> list[Client]:
    """One client per server on ``/ws?<query>``; with protocol=2 its Snapshots are read."""
    out = []
    for proc in procs:
        client = await connect(f"{proc.ws}/ws?{query}")
        if "protocol=2" in query:
            for _ in query.split("tenant_id=")[1:]:
                assert "Snapshot" in await client.recv()
        out.append(client)
    return out


async def raw_change(client: Client) -> str:
    """The next ``ConfigChanged`` frame exactly as it came off the wire (seed clients)."""
    while True:
        raw = await asyncio.wait_for(client.conn.read_message(), DEADLINE_S)
        assert raw is not None, "the server closed the socket"
        if isinstance(raw, str) and raw.startswith('{"ConfigChanged"'):
            return raw
