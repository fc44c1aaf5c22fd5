"""Acceptance 5: protocol=2 on real files — Snapshot, ConfigInvalid/ConfigValid, include=,
several tenants and ``*``."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_hotconf.pytest_plugin import write_json


@pytest.mark.asyncio
async def test_snapshot_on_connect_and_reconnect(standalone_factory, hotconf_dir: Path) -> None:
    srv = standalone_factory(mode="demo")
    client = await srv.client("protocol=2&tenant_id=acme", path="/hotconf/ws")
    snap = (await client.recv())["Snapshot"]
    assert list(snap) == ["tenant_id", "revision", "checksum", "epoch", "exists", "valid",
                          "error", "config", "mode"]
    assert snap["mode"] == "demo" and snap["exists"] and snap["valid"]
    assert snap["config"]["pricing"] == {"currency": "USD", "discount": 0.1}
    client.close()

    write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.5}})
    watcher = await srv.client("tenant_id=acme")
    assert (await watcher.recv())["ConfigChanged"]["revision"] == snap["revision"] + 1
    again = (await (await srv.client("protocol=2&tenant_id=acme")).recv())["Snapshot"]
    assert again["revision"] == snap["revision"] + 1 and again["epoch"] == snap["epoch"]
    assert again["config"]["pricing"]["discount"] == 0.5

    # a new server without history: a new epoch, revisions restart (with a history both
    # continue: tests/server/test_history_restart.py)
    restarted = standalone_factory(history="none")
    fresh = (await (await restarted.client("protocol=2&tenant_id=acme")).recv())["Snapshot"]
    assert fresh["epoch"] != snap["epoch"]


@pytest.mark.asyncio
async def test_invalid_then_valid_after_revert(standalone, hotconf_dir: Path) -> None:
    acme = hotconf_dir / "private" / "acme.json"
    good = acme.read_bytes()
    client = await standalone.client("protocol=2&tenant_id=acme")
    seed = await standalone.client("tenant_id=acme")  # protocol 1: ConfigChanged only
    snap = (await client.recv())["Snapshot"]

    acme.write_text('{\n  "pricing": {"discount": 0.1,}\n}\n')
    bad = (await client.recv())["ConfigInvalid"]
    assert bad["tenant_id"] == "acme" and bad["file"] == "private/acme.json"
    assert bad["line"] == 2 and bad["message"]

    write_json(acme, {"pricing": {"discount": 5}})  # parses, but breaks schema.json
    bad = (await client.recv())["ConfigInvalid"]
    assert bad["file"] == "private/acme.json" and bad["pointer"] == "/pricing/discount"

    acme.write_bytes(good)
    valid = (await client.recv())["ConfigValid"]
    assert valid == {"tenant_id": "acme", "revision": snap["revision"],
                     "checksum": snap["checksum"]}
    # the seed client saw none of this: its next frame is the next real change
    write_json(acme, {"name": "New"})
    assert (await seed.recv())["ConfigChanged"]["revision"] == snap["revision"] + 1


@pytest.mark.asyncio
async def test_include_config_and_patch(standalone, hotconf_dir: Path) -> None:
    both = await standalone.client("protocol=2&tenant_id=acme&include=config,patch")
    plain = await standalone.client("protocol=2&tenant_id=acme")
    await both.recv(), await plain.recv()  # Snapshots
    write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.25},
                                                       "name": "Acme"})
    full = (await both.recv())["ConfigChanged"]
    assert full["config"]["pricing"] == {"currency": "USD", "discount": 0.25}
    assert full["patch"] == [{"op": "replace", "path": "/pricing/discount", "value": 0.25}]
    slim = (await plain.recv())["ConfigChanged"]
    assert "config" not in slim and "patch" not in slim
    assert slim["checksum"] == full["checksum"]


@pytest.mark.asyncio
async def test_several_tenants_and_wildcard_with_later_tenants(
    standalone, hotconf_dir: Path
) -> None:
    two = await standalone.client("protocol=2&tenant_id=acme&tenant_id=globex")
    star = await standalone.client("protocol=2&tenant_id=*")
    assert [(await two.recv())["Snapshot"]["tenant_id"] for _ in range(2)] == ["acme", "globex"]
    assert [(await star.recv())["Snapshot"]["tenant_id"] for _ in range(2)] == ["acme", "globex"]

    write_json(hotconf_dir / "private" / "globex.json", {"name": "G2"})
    assert (await two.recv())["ConfigChanged"]["tenant_id"] == "globex"
    assert (await star.recv())["ConfigChanged"]["tenant_id"] == "globex"

    write_json(hotconf_dir / "private" / "initech.json", {"name": "Initech"})
    created = (await star.recv())["ConfigChanged"]
    assert (created["tenant_id"], created["change_type"]) == ("initech", "created")
    write_json(hotconf_dir / "private" / "acme.json", {"name": "A2"})
    assert (await two.recv())["ConfigChanged"]["tenant_id"] == "acme"  # not initech's
