"""TLS on the standalone server (docs/operations.md, "TLS"): a self-signed certificate made
here; a ``wss://`` client trusting it gets Snapshots, changes and Pings (through Tornado's
own writes: the encode-once path is for plain streams only); ``ws://`` to the TLS port fails
cleanly; a token on a non-loopback bind without TLS is warned about."""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_hotconf.pytest_plugin import DEADLINE_S, write_json

from .clients import Client, connect, fetch
from .keys import self_signed

pytestmark = pytest.mark.asyncio


async def wss(url: str, context: ssl.SSLContext | None = None) -> Client:
    request = HTTPRequest(url, ssl_options=context, connect_timeout=DEADLINE_S)
    return Client(await asyncio.wait_for(websocket_connect(request), DEADLINE_S))


async def test_wss_delivers_changes_and_pings(
    standalone_factory, hotconf_dir: Path, tmp_path: Path
) -> None:
    certfile, keyfile = self_signed(tmp_path)
    srv = standalone_factory(certfile=str(certfile), keyfile=str(keyfile),
                             heartbeat_interval_s=0.2)
    assert srv.server.url.startswith("https://")
    context = ssl.create_default_context(cafile=str(certfile))
    port = srv.server.port
    client = await wss(f"wss://127.0.0.1:{port}/ws?protocol=2&tenant_id=acme", context)
    assert (await client.recv())["Snapshot"]["tenant_id"] == "acme"
    write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.1}, "name": "A2"})
    while "ConfigChanged" not in (message := await client.recv()):
        pass
    assert message["ConfigChanged"]["changed_paths"] == ["/name"]
    assert await client.recv(pings=True) == "Ping"
    assert srv.hub.writes["fast"] == 0 and srv.hub.writes["slow"] >= 3
    r = await fetch(f"https://localhost:{port}/hotconf/api/tenants/acme",
                    ssl_options=context)
    assert r.code == 200

    plain_failed = False
    try:
        await connect(f"ws://127.0.0.1:{port}/ws?tenant_id=acme")
    except Exception:  # the TLS server hangs up on a cleartext request
        plain_failed = True
    assert plain_failed
    untrusted = False
    try:
        await wss(f"wss://127.0.0.1:{port}/ws?tenant_id=acme")  # system CAs only
    except ssl.SSLError:
        untrusted = True
    assert untrusted
    write_json(hotconf_dir / "private" / "acme.json", {"name": "A3"})
    while "ConfigChanged" not in (message := await client.recv()):
        pass  # the good client is unaffected by either failure
    client.close()


async def test_cleartext_token_on_the_network_is_warned(
    standalone_factory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="jupyter_hotconf.server.standalone"):
        standalone_factory(host="0.0.0.0", token="s3cret")
    assert any("clear text" in r.getMessage() for r in caplog.records)
    caplog.clear()
    certfile, keyfile = self_signed(tmp_path)
    with caplog.at_level(logging.WARNING, logger="jupyter_hotconf.server.standalone"):
        standalone_factory(host="0.0.0.0", token="s3cret", certfile=str(certfile),
                           keyfile=str(keyfile))
        standalone_factory(token="s3cret")  # loopback: nothing crosses a network
    assert not any("clear text" in r.getMessage() for r in caplog.records)
