"""History REST under a real Jupyter server (pytest-jupyter, base_url ``/a%40b/``): reading
needs ``read`` on ``hotconf``, rollback needs ``write``; the kernel secret may do both;
anonymous gets nothing (docs/history.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from jupyter_hotconf.pytest_plugin import write_json
from jupyter_hotconf.server.extension import TOKEN_ENV, URL_ENV

from .clients import Client, connect, fetch
from .samples import SwitchableAuthorizer, jupyter_config

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_server_config(hotconf_dir: Path, tmp_path: Path) -> Config:
    return jupyter_config(hotconf_dir, tmp_path / "history.sqlite")


async def test_read_with_read_rollback_with_write(
    jp_serverapp, jp_fetch, jp_ws_fetch, jp_http_port, jp_base_url, hotconf_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws = Client(await jp_ws_fetch("hotconf", "ws", params={"tenant_id": "acme"}))
    write_json(hotconf_dir / "private" / "acme.json", {"name": "A2"})
    assert (await ws.next_change())["revision"] == 2

    body = json.loads((await jp_fetch("hotconf", "api", "tenants", "acme", "history")).body)
    assert [e["revision"] for e in body["entries"]] == [2, 1]
    r = await jp_fetch("hotconf", "api", "tenants", "acme", "revisions", "1")
    assert json.loads(r.body)["document"]["name"] == "Acme"
    diff = json.loads((await jp_fetch("hotconf", "api", "tenants", "acme", "diff",
                                      params={"from": "1", "to": "2"})).body)
    assert "/name" in diff["changed_paths"]

    monkeypatch.setattr(SwitchableAuthorizer, "refused", {"write"})  # a user with read only
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("hotconf", "api", "tenants", "acme", "rollback", method="POST",
                       body=json.dumps({"revision": 1}))
    assert info.value.code == 403
    assert json.loads((await jp_fetch("hotconf", "api", "tenants", "acme", "history")).body)
    monkeypatch.setattr(SwitchableAuthorizer, "refused", set())

    r = await jp_fetch("hotconf", "api", "tenants", "acme", "rollback", method="POST",
                       body=json.dumps({"revision": 1}))
    done = json.loads(r.body)
    assert (done["revision"], done["changed"], done["rolled_back_to"]) == (3, True, 1)
    change = await ws.next_change()
    assert change["source"] == "rollback" and change["actor"]  # the token user's name
    entries = json.loads((await jp_fetch("hotconf", "api", "tenants", "acme", "history")).body)
    assert entries["entries"][0]["actor"] == change["actor"]

    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}hotconf/api/tenants/acme/"
    for method, path in (("GET", "history"), ("GET", "revisions/1"), ("GET", "diff?from=1"),
                         ("POST", "rollback")):
        body_arg = json.dumps({"revision": 1}) if method == "POST" else None
        anonymous = await fetch(base + path, method=method, body=body_arg)
        assert anonymous.code == 403, path


async def test_kernel_secret_may_roll_back(
    jp_serverapp, http_server_client, hotconf_dir: Path
) -> None:
    headers = {"Authorization": f"token {os.environ[TOKEN_ENV]}"}
    base = os.environ[URL_ENV] + "api/tenants/acme/"
    ws = await connect(os.environ[URL_ENV].replace("http", "ws", 1) + "ws?tenant_id=acme",
                       headers)
    write_json(hotconf_dir / "private" / "acme.json", {"name": "A2"})
    assert (await ws.next_change())["revision"] == 2
    r = await fetch(base + "rollback", method="POST", headers=headers,
                    body=json.dumps({"revision": 1}))
    assert r.code == 200, r.body
    change = await ws.next_change()
    assert (change["source"], change["actor"]) == ("rollback", "jupyter-hotconf-kernel")
    entries = json.loads((await fetch(base + "history", headers=headers)).body)["entries"]
    assert (entries[0]["source"], entries[0]["actor"]) == ("rollback", "jupyter-hotconf-kernel")
    other = await fetch(os.environ[URL_ENV].replace("hotconf/", "api/contents"),
                        headers=headers)
    assert other.code == 403  # still hotconf only
