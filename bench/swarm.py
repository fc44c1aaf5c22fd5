"""Cheap WebSocket subscribers: many sans-I/O ``websockets`` clients in one asyncio process.

A subscriber is an ``asyncio.Protocol`` driving ``websockets.client.ClientProtocol`` — no task,
no queue, no keepalive per connection — so 5,000 of them fit in one process and the time we
measure is the server's, not the clients'. Each frame containing ``ConfigChanged`` is stamped
with ``time.monotonic_ns()`` in ``data_received`` (CLOCK_MONOTONIC is shared by every process
on the machine, so the driver's save time and these stamps compare directly).

Subprocess protocol (JSON lines on stdout): ``{"ready": n, "failed": m}`` once connected,
then ``{"done": k, "ts": [...]}`` when every open subscriber has its k-th change (``ts`` = each
one's stamp of it), ``{"lost": n}`` when connections drop. Any line on stdin ends it.
Protocol-level pings are answered (the sans-I/O protocol queues the pong), so the heartbeat
sees them alive.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from .procs import PYTHON, Spawned, raise_fd_limit

log = logging.getLogger(__name__)
MARKER = b"ConfigChanged"


class Subscriber(asyncio.Protocol):
    """One WebSocket client; ``stamps`` holds the receive time of each change frame."""

    def __init__(self, uri: str, swarm: SwarmState) -> None:
        self.ws = ClientProtocol(parse_uri(uri), max_size=None)
        self.swarm = swarm
        self.stamps: list[int] = []
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.ws.send_request(self.ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response):
                if event.status_code == 101 and not self.opened.done():
                    self.opened.set_result(None)
                elif not self.opened.done():
                    self.opened.set_exception(ConnectionError(f"HTTP {event.status_code}"))
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT and MARKER in event.data:
                self.stamps.append(now)
                self.swarm.got(len(self.stamps))
        self._flush()

    def _flush(self) -> None:
        if self.transport is not None:
            for chunk in self.ws.data_to_send():
                if chunk:
                    self.transport.write(chunk)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during handshake"))
        else:
            self.swarm.lost(self)


class SwarmState:
    """Counts, per change k, how many subscribers have it; reports when all do."""

    def __init__(self) -> None:
        self.subs: list[Subscriber] = []
        self.counts: dict[int, int] = {}
        self.live = 0
        self.reported = 0

    def got(self, k: int) -> None:
        self.counts[k] = self.counts.get(k, 0) + 1
        self._report()

    def lost(self, sub: Subscriber) -> None:
        self.live -= 1
        emit({"lost": 1, "live": self.live})
        self._report()

    def _report(self) -> None:
        while self.live and self.counts.get(self.reported + 1, 0) >= self.live:
            k = self.reported = self.reported + 1
            emit({"done": k, "ts": [s.stamps[k - 1] for s in self.subs if len(s.stamps) >= k]})


def emit(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def run_swarm(uri: str, n: int, concurrency: int) -> None:
    loop = asyncio.get_running_loop()
    state = SwarmState()
    parsed = parse_uri(uri)
    gate = asyncio.Semaphore(concurrency)
    failed = 0

    async def one() -> None:
        nonlocal failed
        async with gate:
            try:
                _, sub = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: Subscriber(uri, state), parsed.host, parsed.port
                    ),
                    30,
                )
                await asyncio.wait_for(sub.opened, 30)
            except (OSError, asyncio.TimeoutError) as exc:
                failed += 1
                if failed <= 3:
                    print(f"connect failed: {exc!r}", file=sys.stderr)
                return
            state.subs.append(sub)
            state.live += 1

    await asyncio.gather(*(one() for _ in range(n)))
    emit({"ready": state.live, "failed": failed})
    stop = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), stop.set)
    await stop.wait()
    for sub in state.subs:
        if sub.transport is not None:
            sub.transport.abort()


class Swarm:
    """Driver side: ``n`` subscribers to ``uri`` in one child process."""

    def __init__(self, name: str, uri: str, n: int, log_dir: Path, concurrency: int = 100) -> None:
        self.n = n
        self.child = Spawned(
            name,
            [
                PYTHON,
                "-m",
                "bench.swarm",
                "--uri",
                uri,
                "-n",
                str(n),
                "--concurrency",
                str(concurrency),
            ],
            log_dir,
            stdin=True,
            stdout_pipe=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.lost = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.child.proc.stdout is not None
        for line in self.child.proc.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                log.warning("swarm %s said: %s", self.child.name, line.rstrip())

    def _next(self, key: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.child.check_alive()
                raise TimeoutError(f"{self.child.name}: no {key!r} within {timeout}s")
            try:
                msg = self.lines.get(timeout=min(left, 1.0))
            except queue.Empty:
                self.child.check_alive()
                continue
            if "lost" in msg:
                self.lost += 1
                continue
            if key in msg:
                return msg

    def wait_ready(self, timeout: float = 300.0) -> int:
        msg = self._next("ready", timeout)
        if msg["failed"]:
            raise RuntimeError(f"{self.child.name}: {msg['failed']} of {self.n} failed to connect")
        return int(msg["ready"])

    def wait_change(self, k: int, timeout: float = 60.0) -> list[int]:
        """Receive stamps (monotonic ns) of the k-th change, once every subscriber has it."""
        while True:
            msg = self._next("done", timeout)
            if msg["done"] == k:
                return [int(ts) for ts in msg["ts"]]

    def close(self) -> None:
        try:
            if self.child.proc.stdin is not None and self.child.proc.poll() is None:
                self.child.proc.stdin.write("quit\n")
                self.child.proc.stdin.flush()
                self.child.proc.wait(10)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass  # it is killed below either way
        finally:
            self.child.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="many WebSocket subscribers, one process")
    parser.add_argument("--uri", required=True)
    parser.add_argument("-n", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    raise_fd_limit()
    asyncio.run(run_swarm(args.uri, args.n, args.concurrency))
