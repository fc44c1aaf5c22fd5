"""Acceptance 4: one heartbeat sweep, short intervals set through the settings."""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from jupyter_hotconf.core.store import ConfigStore
from jupyter_hotconf.server.broker import LocalBroker
from jupyter_hotconf.server.hub import ConfigHub
from jupyter_hotconf.server.limits import HubLimits
from jupyter_hotconf.server.subscription import Subscription

from .clients import RawClient


@pytest.mark.asyncio
async def test_server_pings_every_interval(standalone_factory) -> None:
    srv = standalone_factory(heartbeat_interval_s=0.1, heartbeat_timeout_s=30)
    client = await srv.client("tenant_id=acme")
    for _ in range(3):
        assert await client.recv(pings=True) == "Ping"


@pytest.mark.asyncio
async def test_silent_client_is_closed_4408_others_stay(standalone_factory) -> None:
    # The alive client's pongs come from this test's own loop, which the server shares: a
    # timeout of several pauses of a busy test process, so only silence closes a socket.
    srv = standalone_factory(heartbeat_interval_s=0.1, heartbeat_timeout_s=1.5)
    silent = await RawClient.open(srv.server.port, "/ws?tenant_id=acme")
    alive = await srv.client("tenant_id=acme")  # Tornado answers protocol pings: life
    code, reason = await silent.close_code()
    assert code == 4408 and reason.startswith("heartbeat timeout: nothing received for")
    # the alive client sees well past the timeout, and only the silent one was closed
    for _ in range(20):
        assert await alive.recv(pings=True) == "Ping"
    assert srv.hub.closes == {4408: 1}
    assert len(srv.hub.connections) == 1
    silent.close()


@pytest.mark.asyncio
async def test_protocol_pongs_alone_count_as_life(standalone_factory) -> None:
    """A raw client that answers only protocol pings (opcode 0xA), never "Pong"."""
    srv = standalone_factory(heartbeat_interval_s=0.1, heartbeat_timeout_s=0.4)
    raw = await RawClient.open(srv.server.port, "/ws?tenant_id=acme")
    pings = 0
    while pings < 12:  # 1.2 s, three timeouts long
        opcode, payload = await raw.frame()
        if opcode == 0x9:  # protocol ping → masked pong
            raw.writer.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
            pings += 1
        else:
            assert (opcode, payload) == (0x1, b'"Ping"')
    assert srv.hub.closes == {}
    assert len(srv.hub.connections) == 1
    raw.close()



class ScriptedSocket:
    """The hub's ``Socket`` protocol, recording what the sweep does (logic test: the real
    sockets are covered above)."""

    def __init__(self) -> None:
        self.sent: list[object] = []
        self.closed_with: tuple[int | None, str | None] | None = None

    def write_message(self, message: object, binary: bool = False) -> Future[None]:
        self.sent.append(message)
        flushed: Future[None] = Future()
        flushed.set_result(None)
        return flushed

    def ping(self, data: bytes = b"") -> None:
        self.sent.append(("ping", data))

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        self.closed_with = (code, reason)


def test_a_late_sweep_does_not_count_the_stall_as_silence() -> None:
    """A sweep firing late means the server's own loop was stalled (GC, a slow handler, a
    starved core): pongs that arrived meanwhile are still unread, so the stall must not be
    taken for the clients' silence — or one stall would close every client with 4408."""
    now = [100.0]
    hub = ConfigHub(
        LocalBroker(), ConfigStore(),
        HubLimits(heartbeat_interval_s=1.0, heartbeat_timeout_s=3.0), clock=lambda: now[0],
    )
    hub.fast_path = False
    sock = ScriptedSocket()
    conn = hub.register(sock, Subscription(frozenset({"acme"})), "127.0.0.1")
    hub.sweep()  # on time
    now[0] += 6.0  # the loop was stuck for 5 s past the next sweep
    hub.sweep()
    assert sock.closed_with is None and hub.closes == {}
    now[0] += 1.0  # back on time, and the client still says nothing: now it is silent
    hub.sweep()
    now[0] += 1.0
    hub.sweep()
    assert sock.closed_with is not None and sock.closed_with[0] == 4408
    assert conn not in hub.connections
