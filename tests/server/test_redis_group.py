"""Three real ``jupyter-hotconf serve`` processes on one config dir and one real
``redis-server`` (docs/scale-out.md): one leader, one revision and one epoch on every
server's clients, tenant isolation, seed clients' frames unchanged on followers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_hotconf.pytest_plugin import RedisServer, wait_until, write_json

from .clients import fetch
from .promtext import scrape, value
from .redis_group import broker, clients, info, leaders, raw_change, redis_client, start_group

pytestmark = pytest.mark.asyncio


async def test_local_mode_reports_an_in_process_broker(serve) -> None:
    proc = serve()
    assert info(proc)["broker"] == {"kind": "local", "role": "leader", "connected": True,
                                    "lag_ms": 0}


async def test_three_servers_one_leader_one_revision_one_epoch(
        serve, redis_server, hotconf_dir: Path) -> None:
    procs = start_group(serve, redis_server)
    assert len(leaders(procs)) == 1
    assert {broker(p)["kind"] for p in procs} == {"redis"}
    acme = await clients(procs, "protocol=2&tenant_id=acme")
    globex = await clients(procs, "protocol=2&tenant_id=globex")
    seeds = await clients(procs, "tenant_id=acme")  # the seed's clients: no protocol=2

    write_json(hotconf_dir / "private" / "acme.json", {"name": "Acme v2"})
    changes = [await c.next_change() for c in acme]
    assert {(c["revision"], c["epoch"], c["checksum"]) for c in changes} == {
        (changes[0]["revision"], changes[0]["epoch"], changes[0]["checksum"])}
    assert changes[0]["revision"] == 2 and changes[0]["change_type"] == "modified"
    frames = [await raw_change(c) for c in seeds]
    assert len(set(frames)) == 1, frames  # byte for byte the same frame on every server
    assert frames[0].startswith('{"ConfigChanged":{"tenant_id":"acme","change_type":"modified",')
    for proc in procs:  # REST and Snapshots serve the shared state on followers too
        body = json.loads((await fetch(f"{proc.base}api/tenants/acme")).body)
        assert (body["revision"], body["config"]["name"]) == (2, "Acme v2")
        assert info(proc)["epoch"] == changes[0]["epoch"]

    # tenant isolation: globex's clients saw nothing of acme; globex's change reaches them
    write_json(hotconf_dir / "private" / "globex.json", {"name": "Globex v2"})
    for client in globex:
        change = await client.next_change()
        assert (change["tenant_id"], change["revision"]) == ("globex", 2)
    for client in acme:  # the next thing acme's clients see is acme's own next change
        write_json(hotconf_dir / "private" / "acme.json", {"name": f"Acme {id(client)}"})
        assert (await client.next_change())["tenant_id"] == "acme"

    # the shared state in Redis: one stream, one hash per tenant, the leader's token on each
    r = redis_client(redis_server)
    entries = r.xrange("hotconf:changes")
    assert {e[1]["tenant"] for e in entries} == {"acme", "globex"}
    assert r.hget("hotconf:tenant:globex", "revision") == "2"
    assert {e[1]["term"] for e in entries} == {broker(leaders(procs)[0])["token"]}
    assert r.xlen("hotconf:history:acme") >= 3
    # the broker's state on /metrics: every server connected, exactly one leader
    scraped = [await scrape(f"{proc.http}/metrics") for proc in procs]
    assert [value(m, "hotconf_broker_connected") for m in scraped] == [1.0, 1.0, 1.0]
    assert sorted(value(m, "hotconf_broker_leader") for m in scraped) == [0.0, 0.0, 1.0]
    for client in acme + globex + seeds:
        client.close()


async def test_wrong_password_and_a_non_redis_port_never_crash(
        serve, tmp_path: Path) -> None:
    guarded = RedisServer(tmp_path, "--requirepass", "right").start()
    try:
        wrong = serve(f"--broker-url=redis://:wrong@127.0.0.1:{guarded.port}/0")
        http = serve()  # an HTTP server is no Redis
        not_redis = serve(f"--broker-url=redis://127.0.0.1:{http.port}/0")
        for proc in (wrong, not_redis):
            state = broker(proc)
            assert state["connected"] is False, state
            # it keeps serving the files (leader of itself until it can join)
            assert state["role"] == "leader"
            body = json.loads((await fetch(f"{proc.base}api/tenants/acme")).body)
            assert body["config"]["name"] == "Acme"
        wait_until(lambda: "password" in (broker(wrong)["error"] or ""), what="a clear error")
        assert "check the password in broker_url" in wrong.tail()  # the log line says so
        assert "wrong@" not in wrong.tail()  # and never shows the password
        wait_until(lambda: "not Redis" in (broker(not_redis)["error"] or ""),
                   what="an error for the HTTP port")
        assert wrong.proc is not None and wrong.proc.poll() is None
        assert not_redis.proc is not None and not_redis.proc.poll() is None
    finally:
        guarded.stop()
