"""Cross-site WebSocket hijacking: which browser origins may open a standalone socket.

Any web page the user visits can open a WebSocket to a loopback port; only the server can
refuse it. The rule (docs/server.md): no ``Origin`` → accepted (not a browser); a loopback
origin or one in ``allow_origins`` → accepted; anything else → 403 (close 4403 under
protocol=2), with or without a token, on every bind. The real browser side of this is
``tests/e2e/test_origins_browser.py``.
"""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_hotconf.core.protocol import CloseCode
from jupyter_hotconf.server.origins import OriginPolicy

from .clients import RawClient, connect

LOOPBACK = [
    "http://localhost:3000",
    "http://LOCALHOST",
    "http://127.0.0.1:7945",
    "http://127.8.9.10",
    "http://[::1]:8080",
    "https://app.localhost",
]
FOREIGN = [
    "http://evil.example",
    "https://127.0.0.1.evil.example",
    "http://localhost.evil.example",
    "null",  # a file:// page or a sandboxed iframe
    "http://10.0.0.1",
]


@pytest.mark.parametrize("origin", LOOPBACK)
def test_loopback_origins_pass(origin: str) -> None:
    assert OriginPolicy([]).refusal(origin) is None


@pytest.mark.parametrize("origin", FOREIGN)
def test_foreign_origins_refused_with_the_reason(origin: str) -> None:
    reason = OriginPolicy([]).refusal(origin)
    assert reason is not None and repr(origin) in reason and "allow_origins" in reason


def test_no_origin_is_not_a_browser() -> None:
    assert OriginPolicy([]).refusal(None) is None


def test_allow_origins_exact_glob_and_star() -> None:
    policy = OriginPolicy(["https://app.example.com/", "https://*.corp.example"])
    assert policy.refusal("https://APP.example.com") is None
    assert policy.refusal("https://dash.corp.example") is None
    assert policy.refusal("http://dash.corp.example") is not None  # scheme is part of it
    assert policy.refusal("https://app.example.com.evil.example") is not None
    assert OriginPolicy(["*"]).refusal("http://anything.example") is None


@pytest.mark.asyncio
@pytest.mark.parametrize("token", ["", "t"])
async def test_loopback_bind_refuses_a_foreign_page(standalone_factory, token: str) -> None:
    """The field bug: on 127.0.0.1 without a token any page read every config."""
    srv = standalone_factory(token=token)
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    evil = {**auth, "Origin": "http://evil.example"}
    with pytest.raises(HTTPClientError) as info:
        await connect(f"{srv.ws}/ws?tenant_id=acme", evil)
    assert info.value.code == 403
    assert "evil.example" in json.loads(info.value.response.body)["reason"]

    v2 = await srv.client("protocol=2&tenant_id=*&include=config", headers=evil)
    code, reason = await v2.closed()
    assert code == CloseCode.FORBIDDEN and "evil.example" in (reason or "")
    assert not srv.hub.connections

    for headers in (auth, {**auth, "Origin": "http://localhost:5173"}):
        ok = await srv.client("protocol=2&tenant_id=acme", headers=headers)
        assert "Snapshot" in await ok.recv()
        ok.close()


@pytest.mark.asyncio
async def test_a_refusal_quoting_any_origin_fits_its_close_frame(standalone_factory) -> None:
    """The 4403 reason quotes the origin; cut by characters, a non-ASCII origin made it more
    than a close frame's 123 bytes, Tornado refused the close and the client got no frame."""
    srv = standalone_factory()
    origin = "http://" + "\u00e9" * 80 + ".example"
    raw = await RawClient.open(srv.server.port, "/ws?tenant_id=acme&protocol=2",
                               headers={"Origin": origin})
    code, reason = await raw.close_code()  # decodes as UTF-8: cut at a character boundary
    assert code == CloseCode.FORBIDDEN and "origin" in reason
    assert len(reason.encode()) <= 123
    raw.close()
    assert (await srv.client("tenant_id=acme")).conn is not None  # and it still serves


@pytest.mark.asyncio
async def test_allowed_origin_on_a_non_loopback_bind(standalone_factory) -> None:
    srv = standalone_factory(host="0.0.0.0", token="t", allow_origins=["http://good.example"])
    auth = {"Authorization": "Bearer t"}
    with pytest.raises(HTTPClientError) as info:
        await connect(f"{srv.ws}/ws?tenant_id=acme", {**auth, "Origin": "http://evil.example"})
    assert info.value.code == 403
    ok = await connect(f"{srv.ws}/ws?tenant_id=acme", {**auth, "Origin": "http://good.example"})
    ok.close()


@pytest.mark.asyncio
async def test_serve_flag_allow_origins(serve) -> None:
    proc = serve("--allow-origins", "https://*.corp.example")
    ok = await connect(f"{proc.ws}/ws?tenant_id=acme", {"Origin": "https://dash.corp.example"})
    ok.close()
    with pytest.raises(HTTPClientError) as info:
        await connect(f"{proc.ws}/ws?tenant_id=acme", {"Origin": "https://corp.example.evil"})
    assert info.value.code == 403
