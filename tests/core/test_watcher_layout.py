"""Changes that concern many tenants or the directory structure —
defaults/schema, a Kubernetes ConfigMap swap, private/ and the config dir coming and going,
a JupyterLab save."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_watcher_support import KINDS, watching

from jupyter_hotconf.pytest_plugin import EXAMPLE_SCHEMA, wait_until, write_json


@pytest.mark.parametrize("kind", KINDS)
def test_defaults_change_touches_only_tenants_whose_merge_changed(
    hotconf_dir: Path, kind: str
) -> None:
    """Point 8 (defaults)."""
    write_json(hotconf_dir / "private" / "initech.json", {"pricing": {"currency": "EUR"}})
    with watching(hotconf_dir, kind) as h:
        write_json(
            hotconf_dir / "defaults.json",
            {"pricing": {"currency": "GBP", "discount": 0.0}, "features": {"beta": False}},
        )
        for tenant in ("acme", "globex"):
            change = h.wait_for(tenant, "modified")
            assert change.changed_paths == ["/pricing/currency"]
        h.sentinel("initech")
        assert h.types("initech") == ["modified"]  # only the sentinel's own
        assert h.types("acme") == h.types("globex") == ["modified"]


@pytest.mark.parametrize("kind", KINDS)
def test_schema_change_invalidates_failing_tenants_and_recovers(
    hotconf_dir: Path, kind: str
) -> None:
    """Point 8 (schema): globex (discount 0.2) fails a tightened schema, acme (0.1) passes."""
    with watching(hotconf_dir, kind) as h:
        tight = {**EXAMPLE_SCHEMA}
        tight["properties"] = {
            "pricing": {"type": "object", "properties": {"discount": {"maximum": 0.15}}}
        }
        write_json(hotconf_dir / "schema.json", tight)
        invalid = h.wait_for("globex", "invalid")
        assert invalid.error is not None and invalid.error.pointer == "/pricing/discount"
        write_json(hotconf_dir / "schema.json", EXAMPLE_SCHEMA)
        h.wait_for("globex", "recovered")
        h.sentinel("initech")
        assert h.types("globex") == ["invalid", "recovered"]
        assert h.types("acme") == []


def _configmap_version(private: Path, stamp: str, files: dict[str, dict[str, object]]) -> None:
    """What the kubelet's AtomicWriter does: write a new timestamped dir, point a temporary
    ``..data_tmp`` link at it, rename that over ``..data``, then delete the old dir."""
    new_dir = private / f"..{stamp}"
    new_dir.mkdir()
    for name, content in files.items():
        write_json(new_dir / name, content)
    old = os.readlink(private / "..data") if (private / "..data").is_symlink() else None
    os.symlink(new_dir.name, private / "..data_tmp")
    os.rename(private / "..data_tmp", private / "..data")
    for name in files:  # user-visible links, created once (the kubelet never touches them)
        if not (private / name).is_symlink():
            os.symlink(f"..data/{name}", private / name)
    if old is not None:
        shutil.rmtree(private / old)


@pytest.mark.parametrize("kind", KINDS)
def test_kubernetes_configmap_swap(tmp_path: Path, kind: str) -> None:
    """Point 9: the ConfigMap is mounted AS ``private/``; only changed tenants get events."""
    root = tmp_path / "configs"
    private = root / "private"
    private.mkdir(parents=True)
    v1 = {"acme.json": {"plan": "a1"}, "globex.json": {"plan": "g1"}}
    _configmap_version(private, "2026_11_26_10_00_00.1", v1)
    with watching(root, kind) as h:
        assert h.config("acme") == {"plan": "a1"}
        _configmap_version(private, "2026_11_26_10_05_00.2", {**v1, "acme.json": {"plan": "a2"}})
        change = h.wait_for("acme", "modified")
        assert change.new == {"plan": "a2"}
        # Sentinel: the next swap changes only globex; once it arrives, acme is settled.
        _configmap_version(
            private,
            "2026_11_26_10_10_00.3",
            {"acme.json": {"plan": "a2"}, "globex.json": {"plan": "g2"}},
        )
        h.wait_for("globex", "modified")
        assert h.types("acme") == ["modified"]
        assert h.types("globex") == ["modified"]
        assert sorted(p.name for p in private.iterdir() if p.name.startswith("..2026")) == [
            "..2026_11_26_10_10_00.3"
        ]


@pytest.mark.parametrize("kind", KINDS)
def test_private_dir_removed_then_recreated(hotconf_dir: Path, kind: str) -> None:
    """Point 10: a removed private/ means deleted per tenant; recreating it, created."""
    with watching(hotconf_dir, kind) as h:
        shutil.rmtree(hotconf_dir / "private")
        h.wait_for("acme", "deleted")
        h.wait_for("globex", "deleted")
        write_json(hotconf_dir / "private" / "acme.json", {"name": "Acme again"})
        created = h.wait_for("acme", "created")
        assert created.new is not None and created.new["name"] == "Acme again"
        h.sentinel("initech")  # a new tenant, created: proves the new private/ is watched
        assert h.types("acme") == ["deleted", "created"]
        assert h.types("globex") == ["deleted"]


@pytest.mark.parametrize("kind", KINDS)
def test_config_dir_moved_away_and_back_keeps_last_good(
    tmp_path: Path, hotconf_dir: Path, kind: str
) -> None:
    """Point 10: while the dir is gone nothing is deleted; changes made meanwhile arrive."""
    with watching(hotconf_dir, kind) as h:
        before = {t: h.config(t) for t in ("acme", "globex")}
        rearms = h.watcher.stats["rearms"]
        away = tmp_path / "away"
        os.rename(hotconf_dir, away)
        wait_until(lambda: not h.watcher.watching, what="the watcher to notice the dir is gone")
        write_json(away / "private" / "acme.json", {"name": "Acme moved"})
        assert {t: h.config(t) for t in ("acme", "globex")} == before
        os.rename(away, hotconf_dir)
        change = h.wait_for("acme", "modified")
        assert change.new is not None and change.new["name"] == "Acme moved"
        wait_until(lambda: h.watcher.stats["rearms"] > rearms, what="the watcher to re-arm")
        h.sentinel()
        assert h.types("acme") == ["modified"]
        assert h.types("globex") == ["modified"]  # the sentinel's


@pytest.mark.parametrize("kind", KINDS)
def test_config_dir_created_after_start_is_watched(tmp_path: Path, kind: str) -> None:
    """Point 10: a config dir that does not exist at start and appears later."""
    root = tmp_path / "configs"
    with watching(root, kind) as h:
        assert not h.watcher.config_dir_present and h.store.tenant_ids() == []
        write_json(root / "private" / "acme.json", {"name": "Acme"})
        h.wait_for("acme", "created")
        wait_until(lambda: h.watcher.watching, what="the watcher to arm")
        write_json(root / "private" / "globex.json", {"name": "Globex"})
        h.wait_for("globex", "created")
        h.sentinel()
        assert h.types("acme") == ["created"]


@pytest.mark.parametrize("kind", KINDS)
def test_jupyterlab_save_is_one_change(hotconf_dir: Path, kind: str) -> None:
    """Point 10: a save through Jupyter's real contents manager (checkpoint under
    ``private/.ipynb_checkpoints/`` plus its own atomic-writing temp file)."""
    from jupyter_server.services.contents.filemanager import FileContentsManager

    cm = FileContentsManager(root_dir=str(hotconf_dir))
    with watching(hotconf_dir, kind) as h:
        cm.create_checkpoint("private/acme.json")
        model = {"type": "file", "format": "text", "content": '{"name": "Acme from Lab"}\n'}
        cm.save(model, "private/acme.json")
        assert (hotconf_dir / "private" / ".ipynb_checkpoints").is_dir()
        h.wait_for("acme", "modified")
        h.sentinel()
        assert h.types("acme") == ["modified"]
        assert [c.tenant_id for c in h.rec.items] == ["acme", "globex"]
