"""ConfigProvider in local mode (real files, real inotify) outside a kernel: callbacks run on
the feed's thread, one at a time; the API is the same as with a server."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
import traitlets

from jupyter_hotconf.core.messages import ConfigChanged, ConfigInvalid
from jupyter_hotconf.core.rereads import Suspect
from jupyter_hotconf.kernel.local import FileFeed
from jupyter_hotconf.kernel.provider import ConfigProvider, providers
from jupyter_hotconf.kernel.view import ConfigView
from jupyter_hotconf.pytest_plugin import Recorder, wait_until, write_json


def our_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("hotconf-")]


def test_local_mode_api_and_validity(hotconf_dir: Path) -> None:
    before = threading.active_count()
    cfg = ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20)
    changes, configs = Recorder(), Recorder()
    try:
        assert cfg.status == "local" and cfg.valid and cfg.revision >= 1
        assert cfg["pricing"]["discount"] == 0.1 and cfg["pricing"]["currency"] == "USD"
        assert cfg.get("pricing.discount") == cfg.get("/pricing/discount") == 0.1
        assert cfg.get(("pricing", "discount")) == 0.1 and cfg.get("nope.x", 7) == 7
        assert isinstance(cfg["pricing"], ConfigView)
        with pytest.raises(TypeError):
            cfg["pricing"]["discount"] = 1  # type: ignore[index]
        assert set(cfg._ipython_key_completions_()) == {"pricing", "features", "name"}
        sub = cfg.on_change(changes, path="/pricing")
        other = cfg.on_change(lambda c: configs(c.new), path="/features")
        cfg.observe(lambda ch: configs(("observe", ch["new"])), "config")
        write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.5}})
        changes.wait_for(lambda items: len(items) == 1, what="change callback")
        c = changes.items[0]
        assert c.tenant_id == "acme" and c.change_type == "modified"
        assert "/pricing/discount" in c.changed_paths and c.old["pricing"]["discount"] == 0.1
        assert c.new["pricing"]["discount"] == 0.5 and c.revision == cfg.revision
        assert cfg.snapshot().revision == c.revision
        wait_until(lambda: ("observe", c.new) in configs.items, what="observe(config)")
        assert not [x for x in configs.items if not isinstance(x, tuple)]  # path filter
        # an invalid edit: last good config stays, valid/config_error say why
        (hotconf_dir / "private" / "acme.json").write_text('{"pricing": {"discount": 5}}')
        wait_until(lambda: not cfg.valid, what="invalid")
        assert cfg.config_error and cfg.config_error["file"] == "private/acme.json"
        assert cfg["pricing"]["discount"] == 0.5
        write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.25}})
        wait_until(lambda: cfg.valid and cfg.config_error is None, what="valid again")
        changes.wait_for(lambda items: len(items) == 2, what="second change")
        sub.remove()
        other.remove()
        assert "local" in repr(cfg) or "status=local" in repr(cfg)
    finally:
        cfg.close()
    assert cfg not in providers()
    assert our_threads() == []
    wait_until(lambda: threading.active_count() <= before, what="every watcher thread gone")


def test_raising_callback_is_reported_and_others_still_run(hotconf_dir: Path) -> None:
    good = Recorder()
    with ConfigProvider("globex", config_dir=hotconf_dir, debounce_ms=20) as cfg:
        @cfg.on_change
        def broken(change: object) -> None:
            raise RuntimeError("boom")

        cfg.on_change(good)
        write_json(hotconf_dir / "private" / "globex.json", {"name": "G2"})
        good.wait_for(lambda items: len(items) == 1, what="second callback still runs")
        assert cfg.error and "broken" in cfg.error and "boom" in cfg.error
        assert cfg.status == "local"


def test_dlink_revision_to_a_widget_like_trait(hotconf_dir: Path) -> None:
    class Target(traitlets.HasTraits):
        value = traitlets.Int()

    t = Target()
    with ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20) as cfg:
        traitlets.dlink((cfg, "revision"), (t, "value"))
        assert t.value == cfg.revision
        write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.3}})
        wait_until(lambda: t.value == cfg.revision and cfg.get("pricing.discount") == 0.3)


def test_live_and_wait_for_change(hotconf_dir: Path) -> None:
    seen = Recorder()
    with ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20) as cfg:
        cfg.live(lambda c: seen(c.get("pricing.discount")))
        assert seen.items == [0.1]

        async def wait() -> object:
            task = asyncio.ensure_future(cfg.wait_for_change(timeout=20))
            await asyncio.sleep(0)
            write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.4}})
            return await task

        change = asyncio.run(wait())
        assert change.new["pricing"]["discount"] == 0.4  # type: ignore[attr-defined]
        seen.wait_for(lambda items: items[-1] == 0.4, what="live re-ran")

        async def timeout() -> None:
            await cfg.wait_for_change(timeout=0.05)

        with pytest.raises(TimeoutError):
            asyncio.run(timeout())


def test_config_path_follows_one_file(tmp_path: Path) -> None:
    f = tmp_path / "one.json"
    write_json(f, {"a": 1})
    changes = Recorder()
    with ConfigProvider("solo", config_path=f) as cfg:
        assert cfg.status == "local" and cfg["a"] == 1
        cfg.on_change(changes)
        write_json(f, {"a": 2})
        changes.wait_for(lambda items: len(items) == 1, what="file change")
        assert cfg["a"] == 2 and changes.items[0].changed_paths == ["/a"]
        f.write_text("{not json")
        wait_until(lambda: not cfg.valid, what="invalid")
        assert cfg["a"] == 2
    assert our_threads() == []


def test_fixed_config_and_prod_mode(hotconf_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ConfigProvider("acme", config={"x": 1}) as fixed:
        assert fixed.status == "disabled" and fixed["x"] == 1
    monkeypatch.setenv("HOTCONF_MODE", "prod")
    with ConfigProvider("acme", config_dir=hotconf_dir) as cfg:
        assert cfg.status == "disabled" and cfg.get("pricing.discount") == 0.1
        assert our_threads() == []  # prod: loaded once, nothing watched


def test_bad_tenant_id_is_a_clear_error(hotconf_dir: Path) -> None:
    with pytest.raises(ValueError, match="invalid tenant id"):
        ConfigProvider("../etc", config_dir=hotconf_dir)


def test_two_handles_of_a_tenant_share_one_watcher_and_one_state(hotconf_dir: Path) -> None:
    """One provider per tenant per kernel: both handles read the same revision in every
    callback, one watcher runs; closing one keeps the other following."""
    a = ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20)
    b = ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20)
    seen = Recorder()
    try:
        assert a.shared_link is b.shared_link and a.shared_link is not None
        assert our_threads().count("hotconf-watcher") == 1
        a.on_change(lambda c: seen(("a", c.revision, b.revision, b.get("pricing.discount"))))
        b.on_change(lambda c: seen(("b", c.revision, a.revision, a.get("pricing.discount"))))
        b.observe(lambda ch: seen(("observe-b", ch["new"], a.revision)), "revision")
        for i, discount in enumerate((0.2, 0.3, 0.4), start=1):
            write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": discount}})
            seen.wait_for(lambda items, n=i: len([x for x in items if x[0] == "b"]) == n,
                          what=f"edit {i}")
        rows = [x for x in seen.items if x[0] in ("a", "b")]
        assert [x[3] for x in rows] == [0.2, 0.2, 0.3, 0.3, 0.4, 0.4]
        assert all(x[1] == x[2] for x in rows), rows  # the other handle was never behind
        assert all(x[1] == x[2] for x in seen.items if x[0] == "observe-b"), seen.items
        a.close()
        assert a.closed and not b.closed and b.shared_link is not None and not b.shared_link.closed
        assert our_threads().count("hotconf-watcher") == 1
        write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.5}})
        seen.wait_for(lambda items: items[-1][:2] == ("b", 5),
                      what="the remaining handle still follows")
        assert b.get("pricing.discount") == 0.5
        assert a.get("pricing.discount") == 0.4 and a.revision == 4  # closed: not updated
        link = b.shared_link
    finally:
        a.close()
        b.close()
    assert link.closed and our_threads() == []


def test_different_options_or_tenants_get_their_own_link(hotconf_dir: Path) -> None:
    with ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20) as a, \
            ConfigProvider("globex", config_dir=hotconf_dir, debounce_ms=20) as g, \
            ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=30) as slow:
        assert len({id(a.shared_link), id(g.shared_link), id(slow.shared_link)}) == 3
        assert our_threads().count("hotconf-watcher") == 3


def test_file_feed_rereads_a_missing_or_unparsable_file_before_it_counts(tmp_path: Path) -> None:
    """The watcher's re-read rule in ``config_path=`` mode, driven step by step (the worker
    thread is not started): a failure counts only when the confirming re-read sees it too."""
    f = tmp_path / "one.json"
    write_json(f, {"a": 1})
    got: list[object] = []
    feed = FileFeed(f, "solo", on_message=got.append, debounce_ms=0)
    feed.store.apply(feed._read())
    f.unlink()  # git: delete, then write anew
    feed._load(confirm=None)
    assert got == [] and "solo" in feed._rereads.tenants()
    write_json(f, {"a": 2})
    feed._load(confirm=Suspect.MISSING)
    assert [(m.change_type, m.config) for m in got if isinstance(m, ConfigChanged)] == [
        ("modified", {"a": 2})]
    f.write_text("{half")  # a writer mid-save
    feed._load(confirm=None)
    assert len(got) == 1
    feed._load(confirm=Suspect.PARSE)  # still broken a quiet window later: now it counts
    assert isinstance(got[-1], ConfigInvalid) and got[-1].file == "one.json"
    f.unlink()
    feed._load(confirm=None)
    feed._load(confirm=Suspect.MISSING)
    assert isinstance(got[-1], ConfigChanged) and got[-1].change_type == "deleted"
