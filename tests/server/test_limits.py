"""Acceptance 6: limits, each leaving the other clients unaffected."""

from __future__ import annotations

import asyncio

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_hotconf.core.store import Change, ChangeType
from jupyter_hotconf.pytest_plugin import DEADLINE_S

from .clients import RawClient


def big_change(epoch: str, revision: int, size: int = 20_000) -> Change:
    return Change(
        tenant_id="acme",
        change_type=ChangeType.MODIFIED,
        revision=revision,
        epoch=epoch,
        checksum=f"sha256:{revision:064x}",
        timestamp="2026-11-26T00:00:00Z",
        new={"blob": "x" * size},
        changed_paths=["/blob"],
    )


async def still_served(srv, client) -> None:
    """``client`` receives the next change: it was not affected."""
    srv.engine.publish([big_change(srv.engine.store.epoch, 999, size=10)])
    while True:
        msg = await client.recv()
        if msg["ConfigChanged"]["revision"] == 999:
            return


@pytest.mark.asyncio
async def test_per_tenant_limit_429_and_4429(standalone_factory) -> None:
    srv = standalone_factory(max_connections_per_tenant=1)
    first = await srv.client("tenant_id=acme")
    with pytest.raises(HTTPClientError) as info:
        await srv.client("tenant_id=acme")
    assert info.value.code == 429
    assert info.value.response.headers["Retry-After"] == "5"
    v2 = await srv.client("protocol=2&tenant_id=acme")
    code, reason = await v2.closed()
    assert code == 4429 and "max_connections_per_tenant (1)" in reason
    other = await srv.client("tenant_id=globex")  # another tenant is not limited
    other.close()
    await still_served(srv, first)


@pytest.mark.asyncio
async def test_total_limit_and_connect_rate(standalone_factory) -> None:
    srv = standalone_factory(max_connections=1)
    first = await srv.client("tenant_id=acme")
    with pytest.raises(HTTPClientError) as info:
        await srv.client("tenant_id=globex")
    assert info.value.code == 429
    await still_served(srv, first)

    srv = standalone_factory(max_connects_per_second=1)
    await srv.client("tenant_id=acme")
    with pytest.raises(HTTPClientError) as info:
        await srv.client("tenant_id=acme")
    assert info.value.code == 429 and info.value.response.headers["Retry-After"] == "1"


@pytest.mark.asyncio
async def test_oversized_frame_1009(standalone_factory) -> None:
    srv = standalone_factory(max_message_size=1024)
    bystander = await srv.client("tenant_id=acme")
    big = await srv.client("tenant_id=acme")
    big.send('"' + "P" * 2000 + '"')
    code, _reason = await big.closed()
    assert code == 1009
    await still_served(srv, bystander)


@pytest.mark.asyncio
async def test_inbound_flood_and_bad_frame_1008(standalone_factory) -> None:
    srv = standalone_factory(max_messages_per_second=20)
    bystander = await srv.client("tenant_id=acme")
    flooder = await srv.client("tenant_id=acme")
    for _ in range(50):
        flooder.send('"Pong"')
    code, reason = await flooder.closed()
    assert (code, reason) == (1008, "flood: more than 20 frames per second")

    garbage = await srv.client("tenant_id=acme")
    garbage.send("not json")
    code, reason = await garbage.closed()
    assert code == 1008 and reason.startswith("bad frame: frame is not JSON")
    await still_served(srv, bystander)


@pytest.mark.asyncio
async def test_slow_consumer_4413_memory_bounded(standalone_factory) -> None:
    limit = 64 * 1024
    srv = standalone_factory(max_pending_bytes=limit)
    reader = await srv.client("protocol=2&tenant_id=acme&include=config")
    slow = await RawClient.open(
        srv.server.port, "/ws?protocol=2&tenant_id=acme&include=config", rcvbuf=4096
    )
    epoch = srv.engine.store.epoch
    revision = 0
    while srv.hub.closes[4413] == 0:  # the slow one never reads
        revision += 1
        assert revision < 5000, "the slow consumer was never closed"
        srv.engine.publish([big_change(epoch, revision)])
        await reader.recv()  # the healthy client keeps up with every frame
        await asyncio.sleep(0)
    assert srv.hub.max_pending_seen <= limit + 20_100  # one frame may pass onto empty queue
    code, reason = await slow.close_code(timeout=DEADLINE_S)
    assert code == 4413 and reason.startswith("slow consumer:")
    assert len(srv.hub.connections) == 1
    await still_served(srv, reader)
    slow.close()
