"""Prometheus metrics of a real standalone server (docs/operations.md, "Metrics"): each one
moves when its event happens, read the way Prometheus reads them (``/metrics`` text parsed by
``prometheus_client.parser``). Counters are process-wide (pytest runs several servers in one
process), so tests compare before and after; gauges sum over running servers, and each test
runs one."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_hotconf.core.store import Change, ChangeType
from jupyter_hotconf.pytest_plugin import DEADLINE_S, write_json

from .clients import Client, RawClient, Standalone, fetch
from .promtext import Samples, scrape, value

pytestmark = pytest.mark.asyncio


async def next_message(client: Client, kind: str) -> dict:
    while True:
        message = await client.recv()
        if kind in message:
            return message[kind]


async def scrape_until(srv: Standalone, check, what: str) -> Samples:
    """Scrape until ``check(samples)`` holds (a gauge follows a close on the server's own
    time); fail after the deadline."""
    deadline = asyncio.get_running_loop().time() + DEADLINE_S
    while True:
        samples = await scrape(f"{srv.http}/metrics")
        if check(samples):
            return samples
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)  # paces the polling only


def delta(after: Samples, before: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_connections_changes_history_and_timings(
    standalone_factory, hotconf_dir: Path, tmp_path: Path
) -> None:
    srv = standalone_factory(history=str(tmp_path / "history.sqlite"))
    url = f"{srv.http}/metrics"
    before = await scrape(url)
    assert value(before, "hotconf_connections") == 0
    assert value(before, "hotconf_tenants", state="valid") == 2
    assert value(before, "hotconf_tenants", state="invalid") == 0
    assert value(before, "hotconf_watcher_info", kind=srv.engine.watcher.kind) == 1
    assert value(before, "hotconf_broker_connected") == 1
    assert value(before, "hotconf_broker_leader") == 1
    assert value(before, "hotconf_history_entries") == 2  # acme and globex at startup

    client = await srv.client("protocol=2&tenant_id=acme")
    await next_message(client, "Snapshot")
    opened = await scrape(url)
    assert value(opened, "hotconf_connections") == 1
    assert delta(opened, before, "hotconf_messages_sent_total") >= 1  # the Snapshot

    acme = hotconf_dir / "private" / "acme.json"
    write_json(acme, {"pricing": {"discount": 0.3}})
    await next_message(client, "ConfigChanged")
    changed = await scrape(url)
    assert delta(changed, opened, "hotconf_changes_total", change_type="modified") == 1
    assert delta(changed, opened, "hotconf_reload_duration_seconds_count") >= 1
    assert delta(changed, opened, "hotconf_delivery_duration_seconds_count") == 1
    assert delta(changed, opened, "hotconf_messages_sent_total") >= 1
    assert delta(changed, opened, "hotconf_history_entries") == 1
    # Only the ordering of the buckets can be asserted, never a speed: the reload includes
    # the 20 ms debounce, so at least that much lands at or above the 10 ms bucket.
    reloads = delta(changed, opened, "hotconf_reload_duration_seconds_count")
    assert delta(changed, opened, "hotconf_reload_duration_seconds_bucket", le="0.01") < reloads

    acme.write_text('{"pricing": ')
    await next_message(client, "ConfigInvalid")
    invalid = await scrape(url)
    assert delta(invalid, changed, "hotconf_changes_total", change_type="invalid") == 1
    assert value(invalid, "hotconf_tenants", state="invalid") == 1
    assert value(invalid, "hotconf_tenants", state="valid") == 1

    client.close()
    await scrape_until(srv, lambda s: value(s, "hotconf_connections") == 0, "the close")


async def test_refusals_by_reason(standalone_factory) -> None:
    srv = standalone_factory(allowed_tenants=["acme", "globex"], max_connections_per_tenant=1)
    before = await scrape(f"{srv.http}/metrics")
    first = await srv.client("tenant_id=acme")
    for query, headers, status in (
        ("tenant_id=initech", {}, 403),
        ("tenant_id=acme", {}, 429),
        ("tenant_id=a%20b", {}, 400),
        ("tenant_id=globex", {"Origin": "https://evil.example"}, 403),
    ):
        with pytest.raises(HTTPClientError) as info:
            await srv.client(query, headers=headers)
        assert info.value.code == status
    v2 = await srv.client("protocol=2&tenant_id=initech")
    assert (await v2.closed())[0] == 4403
    after = await scrape(f"{srv.http}/metrics")
    for reason, n in (("tenant", 2), ("limit", 1), ("bad_request", 1), ("origin", 1)):
        assert delta(after, before, "hotconf_refusals_total", reason=reason) == n, reason
    first.close()


def big_change(epoch: str, revision: int) -> Change:
    return Change("acme", ChangeType.MODIFIED, revision, epoch, f"sha256:{revision:064x}",
                  "2026-11-29T00:00:00Z", new={"blob": "x" * 20_000}, changed_paths=["/blob"])


async def test_slow_consumer_close_is_counted(standalone_factory) -> None:
    srv = standalone_factory(max_pending_bytes=64 * 1024)
    before = await scrape(f"{srv.http}/metrics")
    slow = await RawClient.open(srv.server.port, "/ws?protocol=2&tenant_id=acme&include=config",
                                 rcvbuf=4096)
    await scrape_until(srv, lambda s: value(s, "hotconf_connections") == 1, "the open")
    revision = 0
    while srv.hub.closes[4413] == 0:  # it never reads
        revision += 1
        assert revision < 5000, "the slow consumer was never closed"
        srv.engine.publish([big_change(srv.engine.store.epoch, revision)])
        await asyncio.sleep(0)  # let the loop flush what the socket takes
    after = await scrape(f"{srv.http}/metrics")
    assert delta(after, before, "hotconf_slow_consumer_closes_total") == 1
    assert value(after, "hotconf_connections") == 0
    slow.close()


async def rollback(srv: Standalone, revision: int) -> int:
    r = await fetch(f"{srv.http}/hotconf/api/tenants/acme/rollback", method="POST",
                    body=json.dumps({"revision": revision}))
    return r.code


async def test_writes_by_result(standalone_factory, hotconf_dir: Path, tmp_path: Path) -> None:
    srv = standalone_factory(history=str(tmp_path / "history.sqlite"))
    client = await srv.client("protocol=2&tenant_id=acme")
    await next_message(client, "Snapshot")
    write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.5}})
    await next_message(client, "ConfigChanged")
    before = await scrape(f"{srv.http}/metrics")
    assert await rollback(srv, 1) == 200
    assert await rollback(srv, 42) == 404
    after = await scrape(f"{srv.http}/metrics")
    assert delta(after, before, "hotconf_writes_total", result="ok") == 1
    assert delta(after, before, "hotconf_writes_total", result="not_found") == 1

    read_only = standalone_factory(history=str(tmp_path / "other.sqlite"), read_only=True)
    assert await rollback(read_only, 1) == 403
    refused = await scrape(f"{srv.http}/metrics")
    assert delta(refused, after, "hotconf_writes_total", result="forbidden") == 1
    client.close()


async def test_metrics_follow_the_token_rule(standalone_factory) -> None:
    srv = standalone_factory(token="s3cret")
    assert (await fetch(f"{srv.http}/metrics")).code == 401
    assert (await fetch(f"{srv.http}/metrics", headers={"Authorization": "Bearer no"})).code == 401
    samples = await scrape(f"{srv.http}/metrics", headers={"Authorization": "Bearer s3cret"})
    assert value(samples, "hotconf_tenants", state="valid") == 2


async def test_metrics_per_tenant_label(standalone_factory, hotconf_dir: Path) -> None:
    srv = standalone_factory(metrics_per_tenant=True)
    before = await scrape(f"{srv.http}/metrics")
    assert value(before, "hotconf_tenants", state="valid", tenant="globex") == 1
    client = await srv.client("protocol=2&tenant_id=globex")
    await next_message(client, "Snapshot")
    write_json(hotconf_dir / "private" / "globex.json", {"name": "G2"})
    await next_message(client, "ConfigChanged")
    after = await scrape(f"{srv.http}/metrics")
    assert delta(after, before, "hotconf_changes_total", change_type="modified",
                 tenant="globex") == 1
    client.close()


async def test_without_per_tenant_there_is_no_tenant_label(standalone_factory) -> None:
    srv = standalone_factory()
    text = (await fetch(f"{srv.http}/metrics")).body.decode()
    assert 'hotconf_tenants{state="valid"} 2.0' in text
    assert "tenant=" not in "\n".join(
        line for line in text.splitlines() if line.startswith("hotconf_"))
