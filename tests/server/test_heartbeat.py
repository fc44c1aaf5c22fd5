"""Acceptance 4: one heartbeat sweep, short intervals set through the settings."""

from __future__ import annotations

import pytest

from .conftest import RawClient


@pytest.mark.asyncio
async def test_server_pings_every_interval(standalone_factory) -> None:
    srv = standalone_factory(heartbeat_interval_s=0.1, heartbeat_timeout_s=30)
    client = await srv.client("tenant_id=acme")
    for _ in range(3):
        assert await client.recv(pings=True) == "Ping"


@pytest.mark.asyncio
async def test_silent_client_is_closed_4408_others_stay(standalone_factory) -> None:
    srv = standalone_factory(heartbeat_interval_s=0.1, heartbeat_timeout_s=0.5)
    silent = await RawClient.open(srv.server.port, "/ws?tenant_id=acme")
    alive = await srv.client("tenant_id=acme")  # Tornado answers protocol pings: life
    code, reason = await silent.close_code()
    assert code == 4408 and reason.startswith("heartbeat timeout: nothing received for")
    # the alive client sees well past the timeout, and only the silent one was closed
    for _ in range(10):
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
