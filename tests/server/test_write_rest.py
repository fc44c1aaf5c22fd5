"""Write-back over REST on a real standalone server, real files, a real history and a real
subscribed socket (docs/write-back.md): read-your-writes, every refusal (file byte-identical,
nothing broadcast), 20 racing PATCHes, format-preserving YAML/TOML, 504."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from .clients import Client, Standalone, fetch
from .samples import COMMENTED_TOML, COMMENTED_YAML

pytestmark = pytest.mark.asyncio

MERGE = "application/merge-patch+json"
JSONPATCH = "application/json-patch+json"
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def call(srv: Standalone, method: str, tenant: str = "acme", body: Any = None, *,
               ctype: str | None = MERGE, raw: bytes | None = None, query: str = "",
               **headers: str) -> tuple[int, Any, Any]:
    """(status, JSON body, response headers) of one request with the token."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    hdrs = {**AUTH, **({"Content-Type": ctype} if ctype and data is not None else {}),
            **{k.replace("_", "-"): v for k, v in headers.items()}}
    r = await fetch(f"{srv.http}/hotconf/api/tenants/{tenant}{query}", method=method,
                    body=data, headers=hdrs, allow_nonstandard_methods=True)
    return r.code, json.loads(r.body) if r.body else None, r.headers


async def etag(srv: Standalone, tenant: str = "acme") -> str:
    code, _, headers = await call(srv, "GET", tenant)
    assert code == 200
    return str(headers["ETag"])


async def next_message(client: Client) -> dict[str, Any]:
    return dict(await client.recv())


@pytest.fixture
def srv(standalone_factory: Any, tmp_path: Path) -> Standalone:
    return standalone_factory(token=TOKEN, history=str(tmp_path / "history.sqlite"))


async def subscribe(srv: Standalone, tenant: str = "acme") -> Client:
    client = await srv.client(f"protocol=2&tenant_id={tenant}&token={TOKEN}")
    assert "Snapshot" in await client.recv()
    return client


async def test_patch_is_read_your_writes_broadcast_once_as_api(
    srv: Standalone, hotconf_dir: Path
) -> None:
    acme = hotconf_dir / "private" / "acme.json"
    client = await subscribe(srv)
    code, body, headers = await call(srv, "PATCH", body={"pricing": {"discount": 0.3}},
                                     If_Match=await etag(srv))
    assert code == 200, body
    assert set(body) == {"tenant_id", "revision", "checksum"} and body["revision"] == 2
    assert headers["ETag"] == f'"{body["checksum"]}"'
    # Right after the 200: GET shows it, the socket already has exactly this change.
    code, state, _ = await call(srv, "GET")
    assert (state["revision"], state["config"]["pricing"]) == (
        2, {"currency": "USD", "discount": 0.3})
    change = (await next_message(client))["ConfigChanged"]
    assert (change["revision"], change["source"], change["actor"], change["checksum"]) == (
        2, "api", "token", body["checksum"])
    # The own document is patched; the defaults are never copied into the file.
    assert json.loads(acme.read_text()) == {"pricing": {"discount": 0.3}, "name": "Acme"}
    code, doc, headers = await call(srv, "GET", query="?view=document")
    assert code == 200 and doc["document"] == {"pricing": {"discount": 0.3}, "name": "Acme"}
    assert headers["ETag"] == f'"{body["checksum"]}"' and doc["revision"] == 2

    ops = [{"op": "test", "path": "/name", "value": "Acme"},
           {"op": "add", "path": "/features", "value": {"beta": True}},
           {"op": "remove", "path": "/pricing/discount"}]
    code, body, _ = await call(srv, "PATCH", body=ops, ctype=JSONPATCH,
                               If_Match=await etag(srv))
    assert (code, body["revision"]) == (200, 3)
    assert json.loads(acme.read_text()) == {"pricing": {}, "name": "Acme",
                                            "features": {"beta": True}}
    assert (await next_message(client))["ConfigChanged"]["revision"] == 3  # the very next

    code, body, _ = await call(srv, "PUT", body={"name": "Acme 2"}, ctype="application/json",
                               If_Match=await etag(srv))
    assert (code, body["revision"]) == (200, 4)
    assert json.loads(acme.read_text()) == {"name": "Acme 2"}
    assert (await next_message(client))["ConfigChanged"]["source"] == "api"

    code, body, _ = await call(srv, "DELETE", If_Match=await etag(srv))
    assert (code, body["revision"], body["checksum"]) == (200, 5, None)
    assert not acme.exists()
    change = (await next_message(client))["ConfigChanged"]
    assert (change["change_type"], change["source"], change["actor"]) == (
        "deleted", "api", "token")
    code, entries, _ = await call(srv, "GET", query="/history")
    assert [(e["revision"], e["source"]) for e in entries["entries"]][:4] == [
        (5, "api"), (4, "api"), (3, "api"), (2, "api")]


async def test_put_if_none_match_creates_a_json_tenant_once(
    srv: Standalone, hotconf_dir: Path
) -> None:
    client = await subscribe(srv, "initech")
    code, body, _ = await call(srv, "PUT", "initech", {"name": "Initech"},
                               ctype="application/json", If_None_Match="*")
    assert (code, body["revision"]) == (200, 1), body
    created = hotconf_dir / "private" / "initech.json"
    assert json.loads(created.read_text()) == {"name": "Initech"}
    change = (await next_message(client))["ConfigChanged"]
    assert (change["change_type"], change["source"]) == ("created", "api")
    before = created.read_bytes()
    code, body, _ = await call(srv, "PUT", "initech", {"name": "Other"},
                               ctype="application/json", If_None_Match="*")
    assert code == 412 and (body["revision"], body["checksum"]) == (1, change["checksum"])
    assert created.read_bytes() == before


async def test_every_refusal_leaves_the_file_and_broadcasts_nothing(
    standalone_factory: Any, hotconf_dir: Path, tmp_path: Path
) -> None:
    srv = standalone_factory(token=TOKEN, history=str(tmp_path / "h.sqlite"),
                             max_file_bytes=4096)
    acme = hotconf_dir / "private" / "acme.json"
    before = acme.read_bytes()
    client = await subscribe(srv)
    tag = await etag(srv)
    _, state, _ = await call(srv, "GET")

    async def refused(status: int, method: str, *args: Any, **kw: Any) -> dict[str, Any]:
        code, body, _ = await call(srv, method, *args, **kw)
        assert code == status, (method, args, kw, body)
        assert body["message"], body  # always a reason
        assert acme.read_bytes() == before, (method, args, kw)
        return dict(body)

    for method in ("PATCH", "DELETE"):
        body = await refused(428, method, body={"name": "x"} if method == "PATCH" else None)
        assert "If-Match" in body["message"]
    assert "If-Match" in (await refused(428, "PUT", body={"name": "x"},
                                        ctype="application/json"))["message"]
    stale = await refused(412, "PATCH", body={"name": "x"}, If_Match='"sha256:0000"')
    assert {k: stale[k] for k in ("tenant_id", "revision", "checksum")} == {
        "tenant_id": "acme", "revision": 1, "checksum": state["checksum"]}
    assert (await refused(412, "DELETE", If_Match='"sha256:0000"'))["revision"] == 1
    assert (await refused(412, "PUT", body={"a": 1}, ctype="application/json",
                          If_Match='"sha256:0000"'))["checksum"] == state["checksum"]
    invalid = await refused(422, "PATCH", body={"pricing": {"discount": 7}}, If_Match=tag)
    assert invalid["error"]["pointer"] == "/pricing/discount"
    assert invalid["error"]["file"] == "private/acme.json"
    assert invalid["error"]["line"] == 3 and invalid["error"]["column"]
    assert "maximum" in invalid["error"]["message"] or "7" in invalid["error"]["message"]
    failed_test = await refused(409, "PATCH", body=[{"op": "test", "path": "/name",
                                                     "value": "Nope"}], ctype=JSONPATCH,
                                If_Match=tag)
    assert "not equal" in failed_test["message"]
    missing = await refused(409, "PATCH", body=[{"op": "remove", "path": "/nope"}],
                            ctype=JSONPATCH, If_Match=tag)
    assert "nope" in missing["message"]
    await refused(422, "PATCH", body=[{"op": "frob", "path": "/a"}], ctype=JSONPATCH,
                  If_Match=tag)
    await refused(422, "PATCH", body={"not": "a list"}, ctype=JSONPATCH, If_Match=tag)
    assert "not JSON" in (await refused(400, "PATCH", raw=b"{nope", If_Match=tag))["message"]
    assert "object" in (await refused(422, "PATCH", body=[1, 2], If_Match=tag))["message"]
    await refused(422, "PUT", body="text", ctype="application/json", If_Match=tag)
    await refused(422, "PATCH", body=[{"op": "replace", "path": "", "value": 3}],
                  ctype=JSONPATCH, If_Match=tag)
    assert "max_file_bytes" in (await refused(413, "PATCH", body={"name": "x" * 5000},
                                              If_Match=tag))["message"]
    assert "max_file_bytes" in (await refused(413, "PATCH", body={"name": "x" * 3000,
                                                                  "n2": "y" * 3000},
                                              If_Match=tag))["message"]
    assert "Content-Type" in (await refused(415, "PATCH", body={"name": "x"},
                                            ctype="text/plain", If_Match=tag))["message"]
    await refused(415, "PUT", body={"name": "x"}, ctype=MERGE, If_Match=tag)
    await refused(404, "PATCH", "nobody", {"name": "x"}, If_Match=tag)
    await refused(400, "PATCH", "bad.id", {"name": "x"}, If_Match=tag)
    await refused(400, "GET", query="?view=nonsense")

    # Nothing was broadcast: the next message is the next valid change.
    code, body, _ = await call(srv, "PATCH", body={"name": "Acme 2"}, If_Match=tag)
    assert code == 200
    assert (await next_message(client))["ConfigChanged"]["checksum"] == body["checksum"]
    code, history, _ = await call(srv, "GET", query="/history")
    assert [e["revision"] for e in history["entries"]] == [2, 1]  # no invalid attempt either


async def test_read_only_refuses_every_write_with_the_reason(
    standalone_factory: Any, hotconf_dir: Path
) -> None:
    srv = standalone_factory(token=TOKEN, read_only=True)
    acme = hotconf_dir / "private" / "acme.json"
    before = acme.read_bytes()
    tag = await etag(srv)
    for method, body, ctype in (("PATCH", {"name": "x"}, MERGE),
                                ("PUT", {"name": "x"}, "application/json"),
                                ("DELETE", None, None)):
        code, answer, _ = await call(srv, method, body=body, ctype=ctype, If_Match=tag)
        assert code == 403 and "read-only" in answer["message"], (method, answer)
    assert acme.read_bytes() == before
    assert (await call(srv, "GET", query="?view=document"))[0] == 200  # reading still works


async def test_token_is_needed_to_write(standalone_factory: Any, hotconf_dir: Path) -> None:
    srv = standalone_factory(token=TOKEN)
    r = await fetch(f"{srv.http}/hotconf/api/tenants/acme", method="PATCH",
                    body=json.dumps({"name": "x"}), headers={"Content-Type": MERGE,
                                                             "If-Match": "*"})
    assert r.code == 401
    assert json.loads((hotconf_dir / "private" / "acme.json").read_text())["name"] == "Acme"


async def test_twenty_racing_patches_one_winner(srv: Standalone, hotconf_dir: Path) -> None:
    tag = await etag(srv)
    client = await subscribe(srv)
    answers = await asyncio.gather(*[
        call(srv, "PATCH", body={"name": f"writer {i}"}, If_Match=tag) for i in range(20)])
    codes = sorted(code for code, _, _ in answers)
    assert codes == [200] + [412] * 19
    winner = next(i for i, (code, _, _) in enumerate(answers) if code == 200)
    doc = json.loads((hotconf_dir / "private" / "acme.json").read_text())
    assert doc["name"] == f"writer {winner}"
    won = answers[winner][1]
    for code, body, _ in answers:
        if code == 412:
            assert (body["revision"], body["checksum"]) == (2, won["checksum"])
    assert (await next_message(client))["ConfigChanged"]["revision"] == 2


@pytest.mark.parametrize(("name", "text", "changed"), [
    ("initech.yaml", COMMENTED_YAML, "  discount: 0.4  # agreed in Q3\n"),
    ("initech.toml", COMMENTED_TOML, "discount = 0.4 # agreed in Q3\n"),
])
async def test_yaml_and_toml_keep_comments_order_and_untouched_lines(
    standalone_factory: Any, hotconf_dir: Path, name: str, text: str, changed: str
) -> None:
    path = hotconf_dir / "private" / name
    path.write_text(text)
    srv = standalone_factory(token=TOKEN)
    client = await subscribe(srv, "initech")
    code, body, _ = await call(srv, "PATCH", "initech", {"pricing": {"discount": 0.4}},
                               If_Match=await etag(srv, "initech"))
    assert code == 200, body
    assert (await next_message(client))["ConfigChanged"]["source"] == "api"
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "discount" in line)
    assert path.read_text() == "".join([*lines[:at], changed, *lines[at + 1:]])
    assert "currency" not in path.read_text()  # defaults not copied


async def test_not_applied_in_time_is_504_naming_the_written_checksum(
    standalone_factory: Any, hotconf_dir: Path
) -> None:
    # The watcher waits a minute of quiet before it reloads: it cannot apply within 0.3 s.
    srv = standalone_factory(token=TOKEN, debounce_ms=60_000, max_wait_ms=0,
                             write_timeout_s=0.3)
    code, body, _ = await call(srv, "PATCH", body={"name": "Late"},
                               If_Match=await etag(srv))
    assert code == 504 and body["checksum"].startswith("sha256:")
    assert body["checksum"] in body["message"] and "write_timeout_s" in body["message"]
    assert json.loads((hotconf_dir / "private" / "acme.json").read_text())["name"] == "Late"
