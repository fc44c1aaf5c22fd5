"""History in a Redis group of real servers (docs/history.md, docs/scale-out.md): every
server, followers included, serves the group's history, revisions, diffs and rollbacks
from the ``<ns>:history:<t>`` streams, with the SQLite history's shapes and retention; and a
server started while Redis is down serves its files alone, then joins when Redis appears."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_hotconf.pytest_plugin import RedisServer, ServeProcess, write_json

from .clients import fetch
from .redis_group import (
    LEASE_MS,
    broker,
    clients,
    info,
    redis_client,
    start_group,
    wait_joined,
)

pytestmark = pytest.mark.asyncio


async def get_json(url: str, **kw: Any) -> tuple[int, Any, Any]:
    r = await fetch(url, **kw)
    return r.code, json.loads(r.body) if r.body else None, r.headers


def api(proc: ServeProcess, tenant: str, path: str) -> str:
    return f"{proc.base}api/tenants/{tenant}/{path}"


async def test_followers_serve_history_revisions_diff_and_roll_back(
        serve, redis_server, hotconf_dir: Path) -> None:
    procs = start_group(serve, redis_server)
    leader = wait_joined(procs)
    first, second = [p for p in procs if p is not leader]
    watching = await clients(procs, "protocol=2&tenant_id=acme")
    original = json.loads((hotconf_dir / "private" / "acme.json").read_text())
    write_json(hotconf_dir / "private" / "acme.json", {**original, "name": "Acme v2"})
    edits = [await c.next_change() for c in watching]
    assert {e["revision"] for e in edits} == {2}
    edit = edits[0]

    code, body, _ = await get_json(api(first, "acme", "history"))
    assert code == 200, body
    assert body["tenant_id"] == "acme" and body["epoch"] == info(leader)["epoch"]
    newest, oldest = body["entries"][:2]
    assert (newest["revision"], newest["change_type"], newest["source"]) == (
        2, "modified", "watcher")
    assert newest["checksum"] == edit["checksum"] and newest["changed_paths"] == ["/name"]
    assert newest["patch"] == [{"op": "replace", "path": "/name", "value": "Acme v2"}]
    assert newest["file"] == "private/acme.json"
    assert (oldest["revision"], oldest["change_type"]) == (1, "created")
    assert set(newest) == {"revision", "timestamp", "change_type", "source", "actor",
                           "checksum", "changed_paths", "patch", "file", "error"}
    code, paged, _ = await get_json(api(second, "acme", "history?before=2"))
    assert [e["revision"] for e in paged["entries"]] == [1]

    code, one, headers = await get_json(api(second, "acme", "revisions/1"))
    assert code == 200, one
    assert one["document"] == original and one["config"]["name"] == "Acme"
    assert headers["ETag"] == f'"{one["checksum"]}"' and one["revision"] == 1
    code, missing, _ = await get_json(api(second, "acme", "revisions/99"))
    assert code == 404, missing
    code, changes, _ = await get_json(api(first, "acme", "diff?from=1"))
    assert (code, changes["from"], changes["to"], changes["changed_paths"]) == (
        200, 1, 2, ["/name"])

    code, done, _ = await get_json(api(second, "acme", "rollback"), method="POST",
                                   body=json.dumps({"revision": 1}))
    assert code == 200, done
    assert done == {"revision": 3, "checksum": one["checksum"], "rolled_back_to": 1,
                    "changed": True}
    for client in watching:  # one new revision, the same on every server, as a rollback
        change = await client.next_change()
        assert (change["revision"], change["source"], change["checksum"]) == (
            3, "rollback", one["checksum"])
    assert json.loads((hotconf_dir / "private" / "acme.json").read_text()) == original
    code, body, _ = await get_json(api(first, "acme", "history?limit=1"))
    assert [(e["revision"], e["source"]) for e in body["entries"]] == [(3, "rollback")]
    code, again, _ = await get_json(api(first, "acme", "rollback"), method="POST",
                                    body=json.dumps({"revision": 3}))
    assert (code, again["changed"], again["revision"]) == (200, False, 3)
    for client in watching:
        client.close()


async def test_retention_keeps_the_last_revisions_in_the_stream(
        serve, redis_server, hotconf_dir: Path) -> None:
    procs = start_group(serve, redis_server, 1, "--history-max-revisions=2")
    (watching,) = await clients(procs, "protocol=2&tenant_id=acme")
    for n in (2, 3, 4):
        write_json(hotconf_dir / "private" / "acme.json", {"name": f"Acme {n}"})
        assert (await watching.next_change())["revision"] == n
    codes = [(await get_json(api(procs[0], "acme", f"revisions/{n}")))[0] for n in (1, 2, 3, 4)]
    assert codes == [404, 404, 200, 200]
    code, body, _ = await get_json(api(procs[0], "acme", "history"))
    assert code == 200, body
    assert [e["revision"] for e in body["entries"]] == [4, 3]
    assert redis_client(redis_server).xlen("hotconf:history:acme") == 2
    watching.close()


async def test_age_retention_never_prunes_the_current_revision(
        serve, redis_server, hotconf_dir: Path) -> None:
    # 1e-7 days is under 9 ms: every entry but the newest is past it at the next publish,
    # which comes at least one debounce (20 ms) after the file it publishes was written.
    procs = start_group(serve, redis_server, 1, "--history-max-age-days=0.0000001")
    (watching,) = await clients(procs, "protocol=2&tenant_id=acme")
    write_json(hotconf_dir / "private" / "acme.json", {"name": "Acme 2"})
    assert (await watching.next_change())["revision"] == 2
    (hotconf_dir / "private" / "acme.json").write_text("{ not json")
    while not isinstance(message := await watching.recv(), dict) or (
            "ConfigInvalid" not in message):
        assert message is not None, "the server closed the socket"
    code, body, _ = await get_json(api(procs[0], "acme", "history"))
    assert code == 200, body
    assert [(e["revision"], e["change_type"]) for e in body["entries"]] == [
        (None, "invalid"), (2, "modified")]
    assert body["entries"][0]["error"]["file"] == "private/acme.json"
    assert (await get_json(api(procs[0], "acme", "revisions/2")))[0] == 200
    assert (await get_json(api(procs[0], "acme", "revisions/1")))[0] == 404
    watching.close()


async def test_a_server_started_before_redis_serves_its_files_then_joins(
        serve, hotconf_dir: Path, tmp_path: Path) -> None:
    later = RedisServer(tmp_path)  # a free port where nothing listens yet
    first = serve(f"--broker-url={later.url}", f"--leader-lease-ms={LEASE_MS}")
    try:
        assert (broker(first)["connected"], broker(first)["role"]) == (False, "leader")
        (alone,) = await clients([first], "protocol=2&tenant_id=acme")
        write_json(hotconf_dir / "private" / "acme.json", {"name": "before Redis"})
        assert (await alone.next_change())["revision"] == 2  # served from its own files
        code, body, _ = await get_json(f"{first.base}api/tenants/acme")
        assert (code, body["config"]["name"]) == (200, "before Redis")

        later.start()
        wait_joined([first])
        second = serve(f"--broker-url={later.url}", f"--leader-lease-ms={LEASE_MS}")
        assert wait_joined([first, second]) is first
        epoch = info(first)["epoch"]
        assert info(second)["epoch"] == epoch
        watching = await clients([first, second], "protocol=2&tenant_id=acme")
        write_json(hotconf_dir / "private" / "acme.json", {"name": "through Redis"})
        changes = [await c.next_change() for c in watching]
        assert {(c["epoch"], c["revision"]) for c in changes} == {(epoch, 2)}
        assert redis_client(later).hget("hotconf:tenant:acme", "revision") == "2"
        for client in [alone, *watching]:
            client.close()
    finally:
        later.stop()
