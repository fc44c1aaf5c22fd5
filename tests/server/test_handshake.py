"""Acceptance 3: malformed tenant ids and the allow-list, at the handshake (standalone)."""

from __future__ import annotations

import asyncio
import json
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tornado.httpclient import HTTPClientError

from jupyter_hotconf.core.tenants import is_valid_tenant_id

from .clients import connect, fetch


async def refused(url: str) -> tuple[int, dict[str, str], str]:
    """Handshake that must be refused: (status, headers, reason from the JSON body)."""
    with pytest.raises(HTTPClientError) as info:
        await connect(url)
    response = info.value.response
    assert response is not None
    return info.value.code, dict(response.headers), json.loads(response.body)["reason"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("tenant_id=acme%00", "invalid tenant id"),  # get_query_argument would make it "acme"
        ("tenant_id=acme%0A", "invalid tenant id"),
        ("tenant_id=%20acme", "invalid tenant id"),
        ("tenant_id=..", "invalid tenant id"),
        ("tenant_id=a/b", "invalid tenant id"),
        ("tenant_id=" + "a" * 65, "invalid tenant id"),
        ("tenant_id=%D0%B0cme", "invalid tenant id"),  # Cyrillic look-alike
        ("", "missing query parameter tenant_id"),
        ("tenant_id=acme&tenant_id=globex", "several tenant_id values need protocol=2"),
        ("tenant_id=acme&protocol=3", "protocol: unsupported value '3' (supported: 1, 2)"),
        ("tenant_id=acme&include=config", "include needs protocol=2"),
    ],
)
async def test_malformed_query_is_400_with_reason(standalone, query: str, needle: str) -> None:
    status, _headers, reason = await refused(f"{standalone.ws}/ws?{query}")
    assert status == 400
    assert needle in reason


@pytest.mark.asyncio
async def test_malformed_under_protocol2_is_close_4400(standalone) -> None:
    client = await standalone.client("protocol=2&tenant_id=acme%00")
    code, reason = await client.closed()
    assert code == 4400 and "invalid tenant id" in (reason or "")
    client = await standalone.client("protocol=2&tenant_id=acme&include=secrets")
    code, reason = await client.closed()
    assert code == 4400 and reason == "include: unknown value(s) 'secrets' (allowed: config, patch)"


@pytest.mark.asyncio
async def test_allowed_tenants_403_and_4403(standalone_factory) -> None:
    srv = standalone_factory(allowed_tenants=["ac*"])
    status, _h, reason = await refused(f"{srv.ws}/ws?tenant_id=globex")
    assert status == 403 and "'globex' is not allowed" in reason
    client = await srv.client("protocol=2&tenant_id=globex")
    assert await client.closed() == (4403, "tenant 'globex' is not allowed")
    # the wildcard only ever sees allowed tenants
    star = await srv.client("protocol=2&tenant_id=*")
    snap = await star.recv()
    assert snap["Snapshot"]["tenant_id"] == "acme"
    r = await fetch(f"{srv.http}/hotconf/api/tenants/globex")
    assert r.code == 403
    r = await fetch(f"{srv.http}/hotconf/api/tenants")
    assert [t["tenant_id"] for t in json.loads(r.body)] == ["acme"]


ids = st.one_of(
    st.text(max_size=70).map(str.encode),
    st.binary(max_size=70),
    st.sampled_from(
        [b"acme\n", b"acme\x00", b" acme", b"acme ", b"..", b"a/b", b"-x", b"_x", b"a" * 65]
    ),
)


@pytest.mark.asyncio
async def test_fuzzed_tenant_ids_are_refused_at_the_handshake(standalone) -> None:
    """Any id the core rule refuses gets 400 (and 4400 under protocol=2); none is served."""
    loop = asyncio.get_running_loop()
    seen: list[bytes] = []

    @settings(max_examples=50, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(raw=ids)
    def check(raw: bytes) -> None:
        if is_valid_tenant_id(raw) or raw == b"*":
            return
        seen.append(raw)
        query = urllib.parse.urlencode({"tenant_id": raw})
        fut = asyncio.run_coroutine_threadsafe(refused(f"{standalone.ws}/ws?{query}"), loop)
        status, _h, reason = fut.result(60)
        assert status == 400, (raw, reason)
        fut = asyncio.run_coroutine_threadsafe(
            standalone.client(f"protocol=2&{query}"), loop
        )
        client = fut.result(60)
        code, _reason = asyncio.run_coroutine_threadsafe(client.closed(), loop).result(60)
        assert code == 4400, raw

    await loop.run_in_executor(None, check)
    assert seen, "the strategy produced no malformed id"
    assert not standalone.hub.connections
