"""Acceptance 1 and 7 against the real ``jupyter-hotconf serve`` subprocess."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
import websockets

from jupyter_hotconf.pytest_plugin import DEADLINE_S, write_json

from .clients import connect, fetch


@pytest.mark.asyncio
async def test_change_reaches_only_its_tenant_as_seed_json(serve, hotconf_dir: Path) -> None:
    srv = serve()
    acme = await connect(f"{srv.ws}/ws?tenant_id=acme")
    globex = await connect(f"{srv.ws}/hotconf/ws?tenant_id=globex")

    write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.3}})
    raw = await asyncio.wait_for(acme.conn.read_message(), DEADLINE_S)
    # the seed's compact JSON: externally tagged, no spaces, tenant_id and change_type first
    assert raw.startswith('{"ConfigChanged":{"tenant_id":"acme","change_type":"modified",')
    assert " " not in raw
    body = json.loads(raw)["ConfigChanged"]
    assert body["changed_paths"] == ["/name", "/pricing/discount"]
    assert "config" not in body  # include= needs protocol=2

    # globex's first message is its own change: acme's never reached it
    write_json(hotconf_dir / "private" / "globex.json", {"name": "G"})
    first = await globex.recv()
    assert first["ConfigChanged"]["tenant_id"] == "globex"

    acme.send('"Ping"')
    assert await acme.recv() == "Pong"


@pytest.mark.asyncio
async def test_plain_client_answering_only_protocol_pings_stays(serve) -> None:
    """Like wscat: never sends "Pong", only answers protocol pings (websockets does)."""
    srv = serve("--heartbeat-interval", "0.2", "--heartbeat-timeout", "0.6")
    async with websockets.connect(f"{srv.ws}/ws?tenant_id=acme", ping_interval=None) as ws:
        pings = 0
        while pings < 8:  # 8 sweeps = 1.6 s, well past the 0.6 s timeout
            frame = await asyncio.wait_for(ws.recv(), DEADLINE_S)
            pings += frame == '"Ping"'
        assert ws.state is websockets.protocol.State.OPEN


@pytest.mark.asyncio
async def test_rest_tenants_tenant_etag_info_health(serve, hotconf_dir: Path) -> None:
    srv = serve()
    r = await fetch(f"{srv.http}/hotconf/api/tenants")
    assert r.code == 200
    tenants = json.loads(r.body)
    assert [t["tenant_id"] for t in tenants] == ["acme", "globex"]
    assert set(tenants[0]) == {"tenant_id", "revision", "checksum", "valid", "error"}

    r = await fetch(f"{srv.http}/hotconf/api/tenants/acme")
    body = json.loads(r.body)
    assert body["config"]["pricing"] == {"currency": "USD", "discount": 0.1}  # merged
    assert r.headers["ETag"] == f'"{body["checksum"]}"'
    r = await fetch(f"{srv.http}/hotconf/api/tenants/acme",
                    headers={"If-None-Match": r.headers["ETag"]})
    assert r.code == 304

    r = await fetch(f"{srv.http}/hotconf/api/tenants/nobody")
    assert r.code == 404 and "nobody" in json.loads(r.body)["reason"]
    r = await fetch(f"{srv.http}/hotconf/api/tenants/a%20b")
    assert r.code == 400 and "invalid tenant id" in json.loads(r.body)["reason"]

    for path in ("/hotconf/api/info", "/health", "/hotconf/api/health"):
        info = json.loads((await fetch(srv.http + path)).body)
        assert info["mode"] == "dev" and info["watcher"] == "native"
        assert info["config_dir_present"] is True and info["tenants"] == 2
        assert set(info) >= {"version", "connections"}


@pytest.mark.asyncio
async def test_token_enforced(serve) -> None:
    srv = serve("--token", "s3cret")
    for headers, query in (({}, ""), ({"Authorization": "Bearer wrong"}, "")):
        r = await fetch(f"{srv.http}/health{query}", headers=headers)
        assert r.code == 401 and "token" in json.loads(r.body)["reason"]
    assert (await fetch(f"{srv.http}/health?token=s3cret")).code == 200
    for scheme in ("Bearer", "token"):
        r = await fetch(f"{srv.http}/health", headers={"Authorization": f"{scheme} s3cret"})
        assert r.code == 200
    with pytest.raises(Exception, match="401"):
        await connect(f"{srv.ws}/ws?tenant_id=acme")
    ok = await connect(f"{srv.ws}/ws?tenant_id=acme", {"Authorization": "Bearer s3cret"})
    ok.close()


def test_token_from_environment(serve) -> None:
    srv = serve(env={"HOTCONF_TOKEN": "from-env"})
    r = asyncio.run(fetch(f"{srv.http}/health"))
    assert r.code == 401


def test_non_loopback_bind_without_token_refused(hotconf_dir: Path) -> None:
    cmd = [sys.executable, "-m", "jupyter_hotconf.cli", "serve", "--config-dir",
           str(hotconf_dir), "--host", "0.0.0.0", "--port", "0"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    assert "refusing to listen on 0.0.0.0 without a token" in proc.stderr
    assert "--no-auth" in proc.stderr


def test_bad_flag_value_names_the_flag(hotconf_dir: Path) -> None:
    cmd = [sys.executable, "-m", "jupyter_hotconf.cli", "serve", "--config-dir",
           str(hotconf_dir), "--heartbeat-interval", "0"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--heartbeat-interval" in proc.stderr and "must be > 0" in proc.stderr
