"""Write-back under a real Jupyter server (pytest-jupyter, base_url ``/a%40b/``): every write
route needs ``write`` on ``hotconf``, reading the document needs ``read``; anonymous gets
nothing; the kernel secret may write hotconf and nothing else; ``prod`` is read-only
(docs/write-back.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from jupyter_hotconf.server.extension import TOKEN_ENV, URL_ENV

from .clients import Client, connect, fetch
from .rest import MERGE
from .samples import SwitchableAuthorizer, jupyter_config

pytest_plugins = ["pytest_jupyter.jupyter_server"]



@pytest.fixture
def hotconf_mode() -> str:
    return "dev"


@pytest.fixture
def jp_server_config(hotconf_dir: Path, tmp_path: Path, hotconf_mode: str) -> Config:
    return jupyter_config(hotconf_dir, tmp_path / "history.sqlite", mode=hotconf_mode)


async def test_writes_need_write_reads_need_read(
    jp_serverapp, jp_fetch, jp_ws_fetch, jp_http_port, jp_base_url, hotconf_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acme = hotconf_dir / "private" / "acme.json"
    ws = Client(await jp_ws_fetch("hotconf", "ws", params={"tenant_id": "acme"}))
    tag = (await jp_fetch("hotconf", "api", "tenants", "acme")).headers["ETag"]
    before = acme.read_bytes()

    monkeypatch.setattr(SwitchableAuthorizer, "refused", {"write"})  # a reader only
    for method, body, ctype in (("PATCH", {"name": "x"}, MERGE),
                                ("PUT", {"name": "x"}, "application/json"),
                                ("DELETE", None, None)):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("hotconf", "api", "tenants", "acme", method=method,
                           body=None if body is None else json.dumps(body),
                           headers={"If-Match": tag, **({"Content-Type": ctype} if ctype
                                                          else {})},
                           allow_nonstandard_methods=True)
        assert info.value.code == 403, method
    doc = json.loads((await jp_fetch("hotconf", "api", "tenants", "acme",
                                     params={"view": "document"})).body)
    assert doc["document"] == {"pricing": {"discount": 0.1}, "name": "Acme"}
    monkeypatch.setattr(SwitchableAuthorizer, "refused", {"read"})
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("hotconf", "api", "tenants", "acme", params={"view": "document"})
    assert info.value.code == 403
    assert acme.read_bytes() == before
    monkeypatch.setattr(SwitchableAuthorizer, "refused", set())

    r = await jp_fetch("hotconf", "api", "tenants", "acme", method="PATCH",
                       body=json.dumps({"name": "Written"}),
                       headers={"If-Match": tag, "Content-Type": MERGE})
    answer = json.loads(r.body)
    assert answer["revision"] == 2 and r.headers["ETag"] == f'"{answer["checksum"]}"'
    change = await ws.next_change()
    assert (change["revision"], change["source"]) == (2, "api") and change["actor"]
    assert json.loads(acme.read_text())["name"] == "Written"

    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}hotconf/api/tenants/acme"
    for method in ("PATCH", "PUT", "DELETE"):
        anonymous = await fetch(base, method=method, allow_nonstandard_methods=True,
                                body=None if method == "DELETE" else json.dumps({"a": 1}),
                                headers={"If-Match": answer["checksum"],
                                         "Content-Type": MERGE if method == "PATCH"
                                         else "application/json"})
        assert anonymous.code == 403, method
    assert (await fetch(base + "?view=document")).code == 403
    assert json.loads(acme.read_text())["name"] == "Written"


async def test_kernel_secret_may_write_hotconf_only(
    jp_serverapp, http_server_client, hotconf_dir: Path
) -> None:
    headers = {"Authorization": f"token {os.environ[TOKEN_ENV]}"}
    base = os.environ[URL_ENV] + "api/tenants/acme"
    ws = await connect(os.environ[URL_ENV].replace("http", "ws", 1) + "ws?tenant_id=acme",
                       headers)
    tag = (await fetch(base, headers=headers)).headers["ETag"]
    r = await fetch(base, method="PATCH", body=json.dumps({"name": "From a kernel"}),
                    headers={**headers, "If-Match": tag, "Content-Type": MERGE})
    assert r.code == 200, r.body
    change = await ws.next_change()
    assert (change["source"], change["actor"]) == ("api", "jupyter-hotconf-kernel")
    other = await fetch(os.environ[URL_ENV].replace("hotconf/", "api/contents"),
                        headers=headers)
    assert other.code == 403  # the secret is for hotconf only
    written = await fetch(os.environ[URL_ENV].replace("hotconf/", "api/contents/x.txt"),
                          method="PUT", headers=headers,
                          body=json.dumps({"type": "file", "format": "text", "content": "x"}))
    assert written.code == 403


@pytest.mark.parametrize("hotconf_mode", ["prod"])
async def test_prod_is_read_only_with_the_reason(
    jp_serverapp, jp_fetch, hotconf_dir: Path, hotconf_mode: str
) -> None:
    acme = hotconf_dir / "private" / "acme.json"
    before = acme.read_bytes()
    tag = (await jp_fetch("hotconf", "api", "tenants", "acme")).headers["ETag"]
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("hotconf", "api", "tenants", "acme", method="PATCH",
                       body=json.dumps({"name": "x"}),
                       headers={"If-Match": tag, "Content-Type": MERGE})
    assert info.value.code == 403
    assert info.value.response is not None
    assert "read-only" in json.loads(info.value.response.body)["message"]
    assert acme.read_bytes() == before
