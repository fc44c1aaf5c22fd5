"""History, revisions, diff and rollback over REST on a real standalone server, real files
and a real SQLite history (docs/history.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_hotconf.pytest_plugin import write_json

from .clients import Standalone, fetch
from .samples import COMMENTED_TOML, COMMENTED_YAML

pytestmark = pytest.mark.asyncio


async def get_json(url: str, **kw: Any) -> tuple[int, Any]:
    r = await fetch(url, **kw)
    return r.code, json.loads(r.body) if r.body else None


async def rollback(srv: Standalone, tenant: str, revision: Any, **headers: str) -> tuple[
    int, Any
]:
    return await get_json(f"{srv.http}/hotconf/api/tenants/{tenant}/rollback", method="POST",
                          body=json.dumps({"revision": revision}), headers=headers)


@pytest.fixture
def history_file(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite"


async def test_rollback_json_is_a_new_revision_broadcast_as_a_change(
    standalone_factory, hotconf_dir: Path, history_file: Path
) -> None:
    srv = standalone_factory(history=str(history_file))
    api = f"{srv.http}/hotconf/api/tenants/acme"
    acme = hotconf_dir / "private" / "acme.json"
    original = acme.read_bytes()
    client = await srv.client("protocol=2&tenant_id=acme")
    assert (await client.recv())["Snapshot"]["revision"] == 1
    write_json(acme, {"pricing": {"discount": 0.3}, "name": "Acme"})
    edit = await client.next_change()
    assert (edit["revision"], edit["source"]) == (2, "watcher") and "actor" not in edit

    code, body = await get_json(f"{api}/history")
    assert code == 200 and body["epoch"] == srv.engine.store.epoch
    assert [(e["revision"], e["change_type"], e["source"]) for e in body["entries"]] == [
        (2, "modified", "watcher"), (1, "created", "startup")]
    assert body["entries"][0]["changed_paths"] == ["/pricing/discount"]
    assert "config" not in body["entries"][0]
    code, page = await get_json(f"{api}/history?limit=1&before=2")
    assert [e["revision"] for e in page["entries"]] == [1]

    r = await fetch(f"{api}/revisions/1")
    one = json.loads(r.body)
    assert r.code == 200 and r.headers["ETag"] == f'"{one["checksum"]}"'
    assert one["document"] == {"pricing": {"discount": 0.1}, "name": "Acme"}
    assert one["config"]["pricing"] == {"currency": "USD", "discount": 0.1}
    code, d = await get_json(f"{api}/diff?from=1")
    assert (code, d["from"], d["to"], d["changed_paths"]) == (200, 1, 2, ["/pricing/discount"])
    assert (await fetch(f"{api}/revisions/99")).code == 404
    assert (await fetch(f"{api}/diff?from=1&to=99")).code == 404

    code, stale = await rollback(srv, "acme", 1, **{"If-Match": '"sha256:nope"'})
    assert (code, stale["revision"], stale["checksum"]) == (412, 2, edit["checksum"])
    code, done = await rollback(srv, "acme", 1, **{"If-Match": f'"{edit["checksum"]}"'})
    assert code == 200, done
    assert done == {"revision": 3, "checksum": one["checksum"], "rolled_back_to": 1,
                    "changed": True}
    change = await client.next_change()
    assert (change["revision"], change["source"], change["checksum"]) == (
        3, "rollback", one["checksum"])
    assert json.loads(acme.read_bytes()) == json.loads(original)
    code, body = await get_json(f"{api}/history?limit=1")
    assert body["entries"][0]["source"] == "rollback"
    assert body["entries"][0]["change_type"] == "modified"

    code, again = await rollback(srv, "acme", 3)
    assert (code, again["revision"], again["changed"]) == (200, 3, False)
    code, unknown = await rollback(srv, "acme", 42)
    assert code == 404 and "no revision 42" in unknown["message"]
    for bad in ("x", 0, None):
        assert (await rollback(srv, "acme", bad))[0] == 400
    code, body = await get_json(f"{api}/history")
    assert [e["revision"] for e in body["entries"]] == [3, 2, 1]  # nothing more recorded


@pytest.mark.parametrize(("name", "text", "edited"), [
    ("initech.yaml", COMMENTED_YAML, "  discount: 0.4  # agreed in Q3\n"),
    ("initech.toml", COMMENTED_TOML, "discount = 0.4 # agreed in Q3\n"),
])
async def test_rollback_keeps_yaml_and_toml_comments(
    standalone_factory, hotconf_dir: Path, history_file: Path, name: str, text: str,
    edited: str,
) -> None:
    path = hotconf_dir / "private" / name
    path.write_text(text)
    srv = standalone_factory(history=str(history_file))
    client = await srv.client("protocol=2&tenant_id=initech")
    assert (await client.recv())["Snapshot"]["revision"] == 1
    lines = text.splitlines(keepends=True)
    changed_at = next(i for i, line in enumerate(lines) if "discount" in line)
    path.write_text("".join([*lines[:changed_at], edited, *lines[changed_at + 1:]]))
    assert (await client.next_change())["revision"] == 2

    code, done = await rollback(srv, "initech", 1)
    assert (code, done["revision"], done["changed"]) == (200, 3, True)
    assert (await client.next_change())["source"] == "rollback"
    assert path.read_text() == text  # every line, comments included, byte for byte


async def test_invalid_attempts_are_recorded_with_the_error_and_no_revision(
    standalone_factory, hotconf_dir: Path, history_file: Path
) -> None:
    srv = standalone_factory(history=str(history_file))
    client = await srv.client("protocol=2&tenant_id=acme")
    await client.recv()
    acme = hotconf_dir / "private" / "acme.json"
    acme.write_text('{\n  "pricing": {"discount": 5}\n}\n')  # over the schema's maximum
    invalid = (await client.recv())["ConfigInvalid"]
    assert invalid["pointer"] == "/pricing/discount"
    code, body = await get_json(f"{srv.http}/hotconf/api/tenants/acme/history")
    assert code == 200
    newest = body["entries"][0]
    assert (newest["revision"], newest["change_type"], newest["checksum"]) == (
        None, "invalid", None)
    assert newest["error"] == {"file": "private/acme.json", "line": 2, "column": invalid["column"],
                               "pointer": "/pricing/discount", "message": invalid["message"]}
    assert [e["revision"] for e in body["entries"][1:]] == [1]
    state = json.loads((await fetch(f"{srv.http}/hotconf/api/tenants/acme")).body)
    assert state["revision"] == 1 and not state["valid"]


async def test_read_only_refuses_rollback_and_history_off_says_why(
    standalone_factory, history_file: Path
) -> None:
    srv = standalone_factory(history=str(history_file), read_only=True)
    code, body = await rollback(srv, "acme", 1)
    assert code == 403 and "read-only" in body["message"]
    off = standalone_factory(history="none")
    code, body = await get_json(f"{off.http}/hotconf/api/tenants/acme/history")
    assert code == 503 and "history is off" in body["message"]
    code, info = await get_json(f"{off.http}/hotconf/api/info")
    assert info["history"] == {"enabled": False, "path": None,
                               "error": "history is off (history = 'none')"}
    code, info = await get_json(f"{srv.http}/hotconf/api/info")
    assert info["history"] == {"enabled": True, "path": str(history_file), "error": None}


async def test_token_rule_on_every_history_route(
    standalone_factory, history_file: Path
) -> None:
    srv = standalone_factory(history=str(history_file), token="s3cret")
    api = f"{srv.http}/hotconf/api/tenants/acme"
    routes = [("GET", f"{api}/history"), ("GET", f"{api}/revisions/1"),
              ("GET", f"{api}/diff?from=1"), ("POST", f"{api}/rollback")]
    for method, url in routes:
        body = json.dumps({"revision": 1}) if method == "POST" else None
        assert (await fetch(url, method=method, body=body)).code == 401, url
        ok = await fetch(url, method=method, body=body,
                         headers={"Authorization": "Bearer s3cret"})
        assert ok.code == 200, (url, ok.body)
    entries = json.loads((await fetch(f"{api}/history?token=s3cret")).body)["entries"]
    assert entries[0]["revision"] == 1  # the rollback to the current content added nothing

