"""The hub's encode-once fast path — taken for plain streams, byte-identical to
``write_message``, left for compressed connections, and a dead socket loses only itself."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable

import pytest

from jupyter_hotconf.pytest_plugin import DEADLINE_S
from jupyter_hotconf.server import fastwrite

from .clients import RawClient
from .test_limits import big_change, still_served

QUIET = 3600.0  # heartbeat interval that never fires within a test


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Wait on the test's own loop (the server runs on it) for ``predicate``, with a deadline."""
    deadline = asyncio.get_running_loop().time() + DEADLINE_S
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)  # paces the check; the loop serves the sockets meanwhile


async def raw_frame(raw: RawClient) -> bytes:
    """The next frame exactly as it came off the wire (header included)."""

    async def read() -> bytes:
        head = await raw.reader.readexactly(2)
        size = head[1] & 0x7F
        extra = b""
        if size == 126:
            extra = await raw.reader.readexactly(2)
            size = struct.unpack("!H", extra)[0]
        elif size == 127:
            extra = await raw.reader.readexactly(8)
            size = struct.unpack("!Q", extra)[0]
        return head + extra + await raw.reader.readexactly(size)

    return await asyncio.wait_for(read(), DEADLINE_S)


def test_text_frame_lengths() -> None:
    assert fastwrite.text_frame(b"ab") == b"\x81\x02ab"
    assert fastwrite.text_frame(b"x" * 126)[:4] == b"\x81\x7e\x00\x7e"
    assert fastwrite.text_frame(b"x" * 65536)[:10] == b"\x81\x7f" + struct.pack("!Q", 65536)


@pytest.mark.asyncio
async def test_fast_path_taken_and_byte_identical_to_write_message(standalone_factory) -> None:
    srv = standalone_factory(heartbeat_interval_s=QUIET, heartbeat_timeout_s=QUIET)
    raw = await RawClient.open(srv.server.port, "/ws?protocol=2&tenant_id=acme&include=config")
    await raw_frame(raw)  # the Snapshot
    epoch = srv.engine.store.epoch
    # one frame per header form: 7-bit, 16-bit and 64-bit payload lengths
    changes = [big_change(epoch, n + 1, size) for n, size in enumerate((10, 300, 70_000))]
    received: dict[bool, list[bytes]] = {}
    for fast in (True, False):
        srv.hub.fast_path = fast
        before = srv.hub.writes.copy()
        for change in changes:
            assert srv.hub.broadcast(change) == 1
        received[fast] = [await raw_frame(raw) for _ in changes]
        taken = srv.hub.writes - before
        assert taken == ({"fast": 3} if fast else {"slow": 3})
    assert received[True] == received[False]
    assert received[True][2][1] == 127 and b'"revision":3' in received[True][2]
    raw.close()


@pytest.mark.asyncio
async def test_compressed_connection_falls_back(standalone_factory) -> None:
    srv = standalone_factory(
        compression=True, heartbeat_interval_s=QUIET, heartbeat_timeout_s=QUIET
    )
    deflated = await srv.client("tenant_id=acme", compression_options={})
    plain = await srv.client("tenant_id=acme")  # did not ask for permessage-deflate
    before = srv.hub.writes.copy()
    srv.engine.publish([big_change(srv.engine.store.epoch, 1, size=5000)])
    for client in (deflated, plain):
        assert (await client.recv())["ConfigChanged"]["revision"] == 1
    assert srv.hub.writes - before == {"slow": 1, "fast": 1}
    negotiated = [c.socket.ws_connection._compressor is not None for c in srv.hub.connections]
    assert sorted(negotiated) == [False, True]


@pytest.mark.asyncio
async def test_a_tornado_without_the_stream_state_it_reads_takes_the_slow_path(
    standalone_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path reads IOStream's private write state (pinned Tornado range in
    pyproject.toml); a Tornado that moved it gets ``write_message`` for every socket."""
    monkeypatch.setattr(fastwrite, "_NEEDED", (*fastwrite._NEEDED, "_renamed_in_a_future_tornado"))
    srv = standalone_factory(heartbeat_interval_s=QUIET, heartbeat_timeout_s=QUIET)
    client = await srv.client("tenant_id=acme")
    before = srv.hub.writes.copy()
    srv.engine.publish([big_change(srv.engine.store.epoch, 1, size=500)])
    assert (await client.recv())["ConfigChanged"]["revision"] == 1
    assert srv.hub.writes - before == {"slow": 1}


@pytest.mark.asyncio
async def test_dead_socket_closes_only_its_connection(standalone_factory) -> None:
    srv = standalone_factory(heartbeat_interval_s=QUIET, heartbeat_timeout_s=QUIET)
    healthy = await srv.client("tenant_id=acme")
    doomed = await RawClient.open(srv.server.port, "/ws?tenant_id=acme")
    await until(lambda: len(srv.hub.connections) == 2, "both registered")
    port = doomed.writer.get_extra_info("sockname")[1]
    [conn] = [
        c for c in srv.hub.connections
        if c.socket.ws_connection.stream.socket.getpeername()[1] == port  # type: ignore[attr-defined]
    ]
    stream = conn.socket.ws_connection.stream  # type: ignore[attr-defined]
    stream.socket.shutdown(socket.SHUT_WR)  # the next send() fails with EPIPE
    srv.engine.publish([big_change(srv.engine.store.epoch, 1, size=10)])
    assert (await healthy.recv())["ConfigChanged"]["revision"] == 1
    await until(lambda: len(srv.hub.connections) == 1 and stream.closed(), "the dead one gone")
    assert conn.closed and conn not in srv.hub.connections
    await still_served(srv, healthy)
    doomed.close()


@pytest.mark.asyncio
async def test_heartbeat_is_one_fast_write_of_ping_and_protocol_ping(standalone_factory) -> None:
    srv = standalone_factory(heartbeat_interval_s=0.1, heartbeat_timeout_s=30)
    raw = await RawClient.open(srv.server.port, "/ws?tenant_id=acme")
    for _ in range(3):
        assert await raw.frame() == (0x1, b'"Ping"')
        assert await raw.frame() == (0x9, b"")
    assert srv.hub.writes["fast"] >= 3 and srv.hub.writes["slow"] == 0
    raw.close()


@pytest.mark.asyncio
async def test_eligibility_is_decided_once_at_registration(
    standalone_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compression, TLS and the stream's class cannot change on an open socket, so the
    hub asks ``plain_stream`` when the socket registers and never again per write."""
    asked: list[object] = []
    real = fastwrite.plain_stream

    def counting(socket: object) -> fastwrite.PlainStream | None:
        asked.append(socket)
        return real(socket)

    monkeypatch.setattr(fastwrite, "plain_stream", counting)
    srv = standalone_factory(heartbeat_interval_s=QUIET, heartbeat_timeout_s=QUIET)
    raw = await RawClient.open(srv.server.port, "/ws?protocol=2&tenant_id=acme")
    await raw_frame(raw)  # the Snapshot: registered
    assert len(asked) == 1
    before = srv.hub.writes.copy()
    for revision in (1, 2, 3):
        srv.hub.broadcast(big_change(srv.engine.store.epoch, revision, size=10))
    srv.hub.sweep()
    for _ in range(3):
        assert b'"ConfigChanged"' in await raw_frame(raw)
    assert srv.hub.writes - before == {"fast": 4}
    assert len(asked) == 1
    raw.close()


@pytest.mark.asyncio
async def test_a_closing_socket_gets_no_frame_after_its_close(standalone_factory) -> None:
    """A socket may start closing while the hub still holds it (the server sent its close
    frame, the client has not answered yet): a data frame written past that close would
    break the protocol, so the send falls back to ``write_message``, which refuses."""
    srv = standalone_factory(heartbeat_interval_s=QUIET, heartbeat_timeout_s=QUIET)
    raw = await RawClient.open(srv.server.port, "/ws?tenant_id=acme")
    await until(lambda: len(srv.hub.connections) == 1, "registered")
    [conn] = srv.hub.connections
    assert conn.plain is not None  # a plain stream: the fast path would be taken
    conn.socket.close(1000, "bye")  # behind the hub's back: still registered
    before = srv.hub.writes.copy()
    assert srv.hub.broadcast(big_change(srv.engine.store.epoch, 1, size=10)) == 0
    srv.hub.sweep()
    assert srv.hub.writes - before == {}
    assert conn.closed and conn not in srv.hub.connections
    assert await raw.frame() == (0x8, struct.pack("!H", 1000) + b"bye")  # nothing before it
    raw.close()
