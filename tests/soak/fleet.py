"""A fleet of cheap ``protocol=2`` clients in one asyncio process, for the soak and the
reconnect storm (docs/benchmarks.md, "Soak").

Each connection is an ``asyncio.Protocol`` driving ``websockets``' sans-I/O
``ClientProtocol``: no task, queue or keepalive per connection, so a thousand of them cost
the test process little and the time measured is the server's. A ``Link`` is one logical
client across its connections: what it saw (Snapshot and ConfigChanged revisions, the last
config), when it saw a heartbeat ``"Ping"``, how each connection ended and, with a
``Backoff`` (the kernel's own reconnect policy, imported, not copied), every reconnect
attempt it made.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from jupyter_hotconf.kernel.backoff import Backoff

PING = b'"Ping"'
PONG = b'"Pong"'
#: The soak's size: ``ci`` in the test command, ``full`` from ``python -m bench soak``.
SIZE = os.environ.get("HOTCONF_SOAK", "ci")
#: Where the tests write their figures (``bench soak`` sets it); unset: nowhere.
OUT = os.environ.get("HOTCONF_SOAK_OUT", "")


@dataclass
class Attempt:
    """One reconnect attempt: when it started, the backoff delay waited before it, and how
    it went (``error`` empty: the handshake completed)."""

    started: float
    delay: float
    error: str = ""
    ended: float = 0.0


@dataclass
class Seen:
    kind: str  # "Snapshot" | "ConfigChanged"
    revision: int
    at: float


class Conn(asyncio.Protocol):
    """One TCP connection of a ``Link``: the handshake, then frames handed to the link."""

    def __init__(self, link: Link, uri: str) -> None:
        self.link = link
        self.ws = ClientProtocol(parse_uri(uri), max_size=None)
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.ws.send_request(self.ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response):
                if self.opened.done():
                    continue
                if event.status_code == 101:
                    self.opened.set_result(None)
                else:
                    self.opened.set_exception(ConnectionRefusedError(f"HTTP {event.status_code}"))
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                if event.data == PING:
                    self.link.pings.append(now)
                    self.ws.send_text(PONG)
                else:
                    self.link.message(event.data, now)
        self._flush()

    def eof_received(self) -> bool | None:
        self.ws.receive_eof()
        return None

    def _flush(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            for chunk in self.ws.data_to_send():
                if chunk:
                    self.transport.write(chunk)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionResetError("closed during handshake"))
            return
        self.link.lost(self, self.ws.close_code)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


@dataclass(eq=False)
class Link:
    """One logical client: its current connection, what it saw, and (with ``backoff``) the
    reconnects it made after losing a connection it did not close itself."""

    uri: str
    backoff: Backoff | None = None
    connect_timeout: float = 30.0
    seen: list[Seen] = field(default_factory=list)
    config: Any = None
    epochs: set[str] = field(default_factory=set)
    pings: list[float] = field(default_factory=list)
    closes: list[int | None] = field(default_factory=list)  # close code of each lost conn
    attempts: list[Attempt] = field(default_factory=list)
    connected_at: list[float] = field(default_factory=list)
    conn: Conn | None = None
    closing: bool = False
    bad_frames: int = 0
    _task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        """Open one connection (raises ``OSError``/``TimeoutError``/``ConnectionError``)."""
        loop = asyncio.get_running_loop()
        parsed = parse_uri(self.uri)

        async def handshake() -> Conn:
            _, conn = await loop.create_connection(
                lambda: Conn(self, self.uri), parsed.host, parsed.port
            )
            try:
                await conn.opened
            except BaseException:
                conn.abort()
                raise
            return conn

        self.conn = await asyncio.wait_for(handshake(), self.connect_timeout)
        self.connected_at.append(time.monotonic())

    @property
    def up(self) -> bool:
        return self.conn is not None

    @property
    def revision(self) -> int | None:
        return self.seen[-1].revision if self.seen else None

    def message(self, data: bytes, now: float) -> None:
        try:
            message = json.loads(data)
            (kind, body), = message.items()
        except (ValueError, AttributeError):
            self.bad_frames += 1
            return
        if kind in ("Snapshot", "ConfigChanged"):
            self.seen.append(Seen(kind, int(body["revision"]), now))
            self.epochs.add(body.get("epoch", ""))
            if "config" in body:
                self.config = body["config"]

    def lost(self, conn: Conn, code: int | None) -> None:
        if conn is not self.conn:
            return
        self.conn = None
        self.closes.append(code)
        if self.backoff is not None and not self.closing:
            self._task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        """The kernel's loop (``kernel/client.py``): wait the policy's delay, try, repeat."""
        assert self.backoff is not None
        self.backoff.disconnected()
        while not self.closing:
            delay = self.backoff.next_delay()
            await asyncio.sleep(delay)  # the reconnect policy's own wait, not a synchronisation
            attempt = Attempt(time.monotonic(), delay)
            self.attempts.append(attempt)
            try:
                await self.connect()
            except (OSError, asyncio.TimeoutError, ConnectionError) as err:
                attempt.error, attempt.ended = repr(err), time.monotonic()
                continue
            attempt.ended = time.monotonic()
            self.backoff.connected()
            return

    def close(self) -> None:
        self.closing = True
        if self._task is not None:
            self._task.cancel()
        if self.conn is not None:
            self.conn.abort()


async def connect_all(links: list[Link], concurrency: int = 100) -> list[str]:
    """Connect every link (``concurrency`` handshakes at a time); the errors, if any."""
    gate = asyncio.Semaphore(concurrency)
    errors: list[str] = []

    async def one(link: Link) -> None:
        async with gate:
            try:
                await link.connect()
            except (OSError, asyncio.TimeoutError, ConnectionError) as err:
                errors.append(repr(err))

    await asyncio.gather(*(one(link) for link in links))
    return errors


async def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> float:
    """Await ``predicate()`` becoming true (checked every ``interval`` s while the loop keeps
    serving the fleet); the seconds it took. Raises ``AssertionError`` after ``timeout``."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)  # paces the check; the wait is for the state
    return time.monotonic() - start


def raise_nofile(needed: int) -> int:
    """Raise this process's ``RLIMIT_NOFILE`` soft limit to the hard one (children, such as
    a ``serve`` started afterwards, inherit it); fail if even that is below ``needed``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert soft >= needed, f"RLIMIT_NOFILE hard limit {soft} < {needed} sockets needed"
    return soft


def nofile_of(pid: int) -> int:
    """The soft ``Max open files`` of process ``pid`` (from /proc)."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            value = line.split()[3]
            return 1 << 62 if value == "unlimited" else int(value)
    raise AssertionError(f"no 'Max open files' in /proc/{pid}/limits")


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` (/proc/<pid>/statm)."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def write_figures(name: str, figures: dict[str, Any]) -> None:
    """Write ``figures`` as ``<HOTCONF_SOAK_OUT>/<name>.json`` when a run asked for them."""
    if OUT:
        Path(OUT).mkdir(parents=True, exist_ok=True)
        (Path(OUT) / f"{name}.json").write_text(json.dumps(figures, indent=1) + "\n")
