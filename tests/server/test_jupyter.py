"""Acceptance 2 and 8 under a real Jupyter server (pytest-jupyter, base_url ``/a%40b/``)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from jupyter_hotconf.pytest_plugin import DEADLINE_S, write_json
from jupyter_hotconf.server.extension import TOKEN_ENV, URL_ENV

from .clients import Client, connect, fetch

pytest_plugins = ["pytest_jupyter.jupyter_server"]



@pytest.fixture
def jp_server_config(hotconf_dir: Path) -> Config:
    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"jupyter_hotconf": True}},
            "HotConf": {"config_dir": str(hotconf_dir), "debounce_ms": 20},
        }
    )


def hotconf(jp_serverapp) -> object:
    return jp_serverapp.extension_manager.extension_apps["jupyter_hotconf"].copy().pop()


async def test_anonymous_refused_token_delivers(
    jp_serverapp, jp_fetch, jp_ws_fetch, jp_http_port, jp_base_url, hotconf_dir: Path
) -> None:
    base = f"127.0.0.1:{jp_http_port}{jp_base_url}hotconf/"
    with pytest.raises(HTTPClientError) as info:
        await connect(f"ws://{base}ws?tenant_id=acme")
    assert info.value.code == 403
    for path in ("api/tenants", "api/tenants/acme", "api/info"):
        assert (await fetch(f"http://{base}{path}")).code == 403

    ws = await jp_ws_fetch("hotconf", "ws", params={"tenant_id": "acme"})
    write_json(hotconf_dir / "private" / "acme.json", {"name": "A2"})
    change = (await Client(ws).recv())["ConfigChanged"]
    assert (change["tenant_id"], change["change_type"]) == ("acme", "modified")

    info_body = json.loads((await jp_fetch("hotconf", "api", "info")).body)
    assert info_body["watcher"] == "native" and info_body["connections"] == 1
    tenants = json.loads((await jp_fetch("hotconf", "api", "tenants")).body)
    assert [t["tenant_id"] for t in tenants] == ["acme", "globex"]
    r = await jp_fetch("hotconf", "api", "tenants", "acme")
    assert r.headers["ETag"] == f'"{json.loads(r.body)["checksum"]}"'
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("hotconf", "api", "tenants", "nobody")
    assert info.value.code == 404
    ws.close()


async def test_protocol2_refusal_and_snapshot_under_jupyter(jp_serverapp, jp_ws_fetch) -> None:
    ws = await jp_ws_fetch("hotconf", "ws", params={"protocol": "2", "tenant_id": "*"})
    first = await Client(ws).recv()
    assert first["Snapshot"]["tenant_id"] == "acme"
    bad = await jp_ws_fetch("hotconf", "ws", params={"protocol": "2", "tenant_id": "a b"})
    assert await asyncio.wait_for(bad.read_message(), DEADLINE_S) is None
    assert bad.close_code == 4400


async def test_secret_is_read_only_and_hotconf_only(
    jp_serverapp, http_server_client, jp_http_port, jp_base_url, hotconf_dir: Path
) -> None:
    secret = os.environ[TOKEN_ENV]
    assert os.environ[URL_ENV] == f"http://127.0.0.1:{jp_http_port}{jp_base_url}hotconf/"
    base = os.environ[URL_ENV]
    for header in (f"token {secret}", f"Bearer {secret}"):
        r = await fetch(base + "api/tenants/acme", headers={"Authorization": header})
        assert r.code == 200
    ws = await connect(base.replace("http", "ws", 1) + f"ws?tenant_id=acme&token={secret}")
    write_json(hotconf_dir / "private" / "acme.json", {"name": "A3"})
    assert "ConfigChanged" in await ws.recv()
    # every other Jupyter API refuses it
    root = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    for path in ("api/contents", "api/kernels", "api/sessions", "api/me"):
        r = await fetch(root + path, headers={"Authorization": f"token {secret}"})
        assert r.code == 403, path
    r = await fetch(root + "api/kernels", method="POST", body="{}",
                    headers={"Authorization": f"token {secret}"})
    assert r.code == 403
    wrong = await fetch(base + "api/info", headers={"Authorization": "token nope"})
    assert wrong.code == 403


def test_environment_restored_on_stop(jp_serverapp, jp_asyncio_loop) -> None:
    assert URL_ENV in os.environ
    jp_asyncio_loop.run_until_complete(jp_serverapp._cleanup())
    assert URL_ENV not in os.environ and TOKEN_ENV not in os.environ


def test_extension_list_shows_enabled() -> None:
    jupyter = Path(sys.executable).with_name("jupyter")
    out = subprocess.run([str(jupyter), "server", "extension", "list"], capture_output=True,
                         text=True, timeout=120)
    text = out.stdout + out.stderr
    line = next(ln for ln in text.splitlines() if "jupyter_hotconf" in ln and "enabled" in ln)
    assert "enabled" in line
    assert "jupyter_hotconf" in text and "OK" in text.split("jupyter_hotconf", 1)[1]


async def test_jupyter_check_origin_stays_in_force(
    jp_serverapp, http_server_client, jp_http_port, jp_base_url
) -> None:
    """A browser's cookie does not open ``hotconf/ws`` from a foreign page: Jupyter's own
    ``check_origin`` decides (a same-origin page, as JupyterLab is, connects)."""
    root = f"127.0.0.1:{jp_http_port}{jp_base_url}"
    token = jp_serverapp.identity_provider.token
    login = await fetch(f"http://{root}api/status?token={token}")
    assert login.code == 200
    cookie = "; ".join(c.split(";", 1)[0] for c in login.headers.get_list("Set-Cookie"))
    assert cookie, "Jupyter set no login cookie"
    url = f"ws://{root}hotconf/ws?tenant_id=acme"
    with pytest.raises(HTTPClientError) as info:
        await connect(url, {"Cookie": cookie, "Origin": "http://evil.example"})
    assert info.value.code == 403
    same = await connect(url, {"Cookie": cookie, "Origin": f"http://127.0.0.1:{jp_http_port}"})
    same.close()
