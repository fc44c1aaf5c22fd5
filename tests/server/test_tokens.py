"""Scoped JSON Web Tokens on a real standalone server (docs/operations.md, "Tokens"): read and
write scopes on sockets and REST, every bad token a 401 with its reason, and an open socket
closed 4401 when its token expires."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from tornado.httpclient import HTTPClientError

from jupyter_hotconf.pytest_plugin import write_json

from .clients import Standalone, fetch
from .keys import SECRET, claims, ec_key, forge, mint, public_pem, rsa_key

pytestmark = pytest.mark.asyncio


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def get(srv: Standalone, path: str, token: str) -> tuple[int, Any]:
    r = await fetch(f"{srv.http}/hotconf/api/{path}", headers=bearer(token))
    return r.code, json.loads(r.body) if r.body else None


async def test_read_scope_on_sockets_and_rest(standalone_factory, hotconf_dir: Path) -> None:
    srv = standalone_factory(jwt_secret=SECRET)
    acme_only = mint(read=("acme",))
    with pytest.raises(HTTPClientError) as info:
        await srv.client("tenant_id=globex", headers=bearer(acme_only))
    assert info.value.code == 403
    refused = await srv.client("protocol=2&tenant_id=globex", headers=bearer(acme_only))
    code, reason = await refused.closed()
    assert code == 4403 and "may not read tenant 'globex'" in reason

    narrow = await srv.client("protocol=2&tenant_id=*", headers=bearer(acme_only))
    assert (await narrow.recv())["Snapshot"]["tenant_id"] == "acme"
    witness = await srv.client("protocol=2&tenant_id=*", headers=bearer(mint()))
    assert {(await witness.recv())["Snapshot"]["tenant_id"] for _ in range(2)} == {
        "acme", "globex"}
    # globex changes and the witness sees it broadcast; then acme changes: the narrowed
    # socket's next frame is acme's, so globex's never reached it.
    write_json(hotconf_dir / "private" / "globex.json", {"name": "G2"})
    assert (await witness.next_change())["tenant_id"] == "globex"
    write_json(hotconf_dir / "private" / "acme.json", {"name": "A2"})
    assert (await narrow.next_change())["tenant_id"] == "acme"

    assert [t["tenant_id"] for t in (await get(srv, "tenants", acme_only))[1]] == ["acme"]
    assert (await get(srv, "tenants/acme", acme_only))[0] == 200
    code, body = await get(srv, "tenants/globex", acme_only)
    assert code == 403 and "may not read tenant 'globex'" in body["reason"]
    assert (await get(srv, "tenants/globex/history", acme_only))[0] == 403
    for client in (narrow, witness):
        client.close()


async def rollback(srv: Standalone, token: str, revision: int = 1) -> tuple[int, Any]:
    r = await fetch(f"{srv.http}/hotconf/api/tenants/acme/rollback", method="POST",
                    body=json.dumps({"revision": revision}), headers=bearer(token))
    return r.code, json.loads(r.body) if r.body else None


async def test_write_scope_and_the_subject_as_actor(
    standalone_factory, hotconf_dir: Path, tmp_path: Path
) -> None:
    srv = standalone_factory(jwt_secret=SECRET, token="static",
                             history=str(tmp_path / "history.sqlite"))
    watcher = await srv.client("protocol=2&tenant_id=acme", headers=bearer("static"))
    await watcher.recv()
    write_json(hotconf_dir / "private" / "acme.json", {"name": "A2"})
    await watcher.next_change()

    code, body = await rollback(srv, mint(write=("globex",)))
    assert code == 403 and "may not write tenant 'acme'" in body["reason"]
    r = await fetch(f"{srv.http}/hotconf/api/tenants/acme", method="PATCH",
                    body=json.dumps({"name": "x"}), headers={
                        **bearer(mint(read=("acme",))), "If-Match": "*",
                        "Content-Type": "application/merge-patch+json"})
    assert r.code == 403
    code, body = await rollback(srv, mint(sub="carol", write=("ac*",)))
    assert code == 200 and body["rolled_back_to"] == 1
    change = await watcher.next_change()
    assert (change["source"], change["actor"]) == ("rollback", "carol")
    code, history = await get(srv, "tenants/acme/history", "static")  # full access
    assert history["entries"][0]["actor"] == "carol"
    watcher.close()


async def test_bad_tokens_are_401_with_the_reason(standalone_factory) -> None:
    srv = standalone_factory(jwt_secret=SECRET, jwt_audience="hotconf", jwt_issuer="idp")
    good = {"aud": "hotconf", "iss": "idp"}
    assert (await get(srv, "tenants", mint(**good)))[0] == 200
    cases = {
        "token expired": mint(exp_in=-60, **good),
        "bad token signature": mint(key="another-secret-another-secret-another!", **good),
        "token algorithm not accepted": forge({"alg": "none", "typ": "JWT"},
                                              claims(**good), None),
        "wrong token audience": mint(aud="other", iss="idp"),
        "wrong token issuer": mint(aud="hotconf", iss="evil"),
        "no 'sub' claim": mint(sub=None, **good),
        "malformed token": "not.a.token",
        "missing token": "",
    }
    for reason, token in cases.items():
        r = await fetch(f"{srv.http}/hotconf/api/tenants",
                        headers=bearer(token) if token else {})
        assert r.code == 401, (reason, r.code)
        assert reason in json.loads(r.body)["reason"], (reason, r.body)
    with pytest.raises(HTTPClientError) as info:
        await srv.client("tenant_id=acme", headers=bearer(cases["token expired"]))
    assert info.value.code == 401


@pytest.mark.parametrize("kind", ["rsa", "ec"])
async def test_public_keys_and_no_algorithm_confusion(
    standalone_factory, tmp_path: Path, kind: str
) -> None:
    private = rsa_key() if kind == "rsa" else ec_key()
    algorithm = "RS256" if kind == "rsa" else "ES256"
    pem = tmp_path / "public.pem"
    pem.write_bytes(public_pem(private))
    srv = standalone_factory(jwt_public_key=str(pem))
    assert (await get(srv, "tenants", mint(private, algorithm)))[0] == 200
    stranger = rsa_key() if kind == "rsa" else ec_key()
    code, body = await get(srv, "tenants", mint(stranger, algorithm))
    assert code == 401 and "bad token signature" in body["reason"]
    # The classic confusion: HS256 "signed" with the public key (which anyone has).
    confused = forge({"alg": "HS256", "typ": "JWT"}, claims(), public_pem(private))
    code, body = await get(srv, "tenants", confused)
    assert code == 401 and "algorithm not accepted" in body["reason"]
    code, body = await get(srv, "tenants", mint())  # HS256 with a shared secret: no
    assert code == 401


async def test_expiry_closes_an_open_socket_4401(standalone_factory) -> None:
    srv = standalone_factory(jwt_secret=SECRET, heartbeat_interval_s=0.2)
    token = mint(exp_in=2)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    client = await srv.client("protocol=2&tenant_id=acme", headers=bearer(token))
    assert "Snapshot" in await client.recv()
    code, reason = await client.closed()
    # The sweep closes it at the first beat after exp; only the order is asserted, since
    # when a beat lands is the loop's business (no speed is promised beyond "a beat").
    assert (code, reason) == (4401, "token expired")
    assert time.time() >= exp
    static = standalone_factory(jwt_secret=SECRET, token="static", heartbeat_interval_s=0.2)
    lasting = await static.client("protocol=2&tenant_id=acme", headers=bearer("static"))
    assert "Snapshot" in await lasting.recv()
    assert static.hub.connections and next(iter(static.hub.connections)).expires is None
    lasting.close()
