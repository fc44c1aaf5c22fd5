"""History across real server processes (``jupyter-hotconf serve`` subprocesses): restarts
keep the epoch and revisions, what changed while down is one ``startup`` revision, two
servers on one config dir agree on every number, and an unusable database only turns
history off (docs/history.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from jupyter_hotconf.core.history_db import default_history_path
from jupyter_hotconf.pytest_plugin import ServeProcess, write_json

from .clients import connect, fetch

pytestmark = pytest.mark.asyncio


async def snapshot(proc: ServeProcess, tenant: str) -> dict[str, Any]:
    client = await connect(f"{proc.ws}/ws?protocol=2&tenant_id={tenant}")
    snap = (await client.recv())["Snapshot"]
    client.close()
    return dict(snap)


async def entries(proc: ServeProcess, tenant: str) -> list[dict[str, Any]]:
    r = await fetch(f"{proc.base}api/tenants/{tenant}/history")
    assert r.code == 200, r.body
    return list(json.loads(r.body)["entries"])


@pytest.fixture
def data_env(tmp_path: Path) -> dict[str, str]:
    """One Jupyter data dir, so every server on the config dir finds the same default file."""
    data = tmp_path / "jupyter-data"
    data.mkdir()
    return {"JUPYTER_DATA_DIR": str(data)}


async def test_restart_keeps_epoch_and_revisions(serve, hotconf_dir: Path, data_env) -> None:
    proc = serve(env=data_env)
    before = await snapshot(proc, "acme")
    proc.restart()
    after = await snapshot(proc, "acme")
    assert (after["epoch"], after["revision"], after["checksum"]) == (
        before["epoch"], before["revision"], before["checksum"])
    assert [e["source"] for e in await entries(proc, "acme")] == ["startup"]

    proc.stop()  # an edit and a deletion while nobody watches
    write_json(hotconf_dir / "private" / "acme.json", {"name": "Acme while down"})
    (hotconf_dir / "private" / "globex.json").unlink()
    proc.start()
    edited = await snapshot(proc, "acme")
    assert (edited["epoch"], edited["revision"]) == (before["epoch"], before["revision"] + 1)
    assert edited["config"]["name"] == "Acme while down"
    acme = await entries(proc, "acme")
    assert [(e["revision"], e["change_type"], e["source"]) for e in acme] == [
        (2, "modified", "startup"), (1, "created", "startup")]
    globex = await entries(proc, "globex")
    assert [(e["revision"], e["change_type"], e["source"]) for e in globex] == [
        (2, "deleted", "startup"), (1, "created", "startup")]
    gone = await snapshot(proc, "globex")
    assert (gone["revision"], gone["exists"]) == (2, False)

    proc.restart()  # nothing changed since: no new entry
    assert len(await entries(proc, "acme")) == 2
    assert (await snapshot(proc, "acme"))["revision"] == 2


async def test_two_servers_on_one_dir_agree_on_every_revision(
    serve, hotconf_dir: Path, data_env
) -> None:
    acme = hotconf_dir / "private" / "acme.json"
    one = serve(env=data_env)
    first = await connect(f"{one.ws}/ws?tenant_id=acme")
    write_json(acme, {"name": "Acme 0"})
    assert (await first.next_change())["revision"] == 2
    two = serve(env=data_env)  # starts later: it continues the numbering, not at 1
    assert (await snapshot(two, "acme"))["revision"] == 2
    sockets = [first, await connect(f"{two.ws}/ws?tenant_id=acme")]
    for n in range(1, 4):
        write_json(acme, {"name": f"Acme {n}"})
        seen = [await s.next_change() for s in sockets]
        assert seen[0]["revision"] == seen[1]["revision"] == n + 2
        assert seen[0]["checksum"] == seen[1]["checksum"]
    history = await entries(one, "acme")
    assert [e["revision"] for e in history] == [5, 4, 3, 2, 1]  # one revision per content
    assert history == await entries(two, "acme")
    assert (await snapshot(one, "acme"))["epoch"] == (await snapshot(two, "acme"))["epoch"]


@pytest.mark.parametrize("spoil", ["garbage", "directory"])
async def test_unusable_history_turns_history_off_and_serves_configs(
    serve, hotconf_dir: Path, data_env, spoil: str
) -> None:
    path = default_history_path(hotconf_dir, data_env["JUPYTER_DATA_DIR"])
    path.parent.mkdir(parents=True)
    if spoil == "garbage":
        path.write_bytes(os.urandom(4096))
    else:
        path.mkdir()
    proc = serve(env=data_env)
    r = await fetch(f"{proc.base}api/tenants/acme")
    assert r.code == 200 and json.loads(r.body)["config"]["name"] == "Acme"
    info = json.loads((await fetch(f"{proc.base}api/info")).body)["history"]
    assert info["enabled"] is False and info["path"] == str(path)
    assert str(path) in info["error"]
    reason = "not a SQLite database" if spoil == "garbage" else "directory"
    assert reason in info["error"]
    assert (await fetch(f"{proc.base}api/tenants/acme/history")).code == 503
    log = proc.tail()
    assert "running without history" in log and str(path) in log
    assert (await snapshot(proc, "acme"))["revision"] == 1  # the server works as in round 1
