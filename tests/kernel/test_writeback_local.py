"""Write-back in local mode (real files, the real watcher, the real history database):
``cfg.set/update/delete`` read their own writes, refuse a write based on an old config
(``ConfigConflict``), refuse an invalid result (``ConfigRejected``) leaving the file
byte-identical, keep YAML comments, and ``cfg.link`` writes a widget's value (debounced on
the main loop) and puts it back when the write is refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import ipywidgets as widgets
import pytest

from jupyter_hotconf import ConfigConflict, ConfigReadOnly, ConfigRejected, ConfigWriteError
from jupyter_hotconf.kernel.magics import assignments_patch
from jupyter_hotconf.kernel.provider import ConfigProvider
from jupyter_hotconf.kernel.widgets import ConfigUpdateIndicator
from jupyter_hotconf.pytest_plugin import DEADLINE_S, Recorder, wait_until, write_json


def own(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture
def acme(hotconf_dir: Path) -> Iterator[ConfigProvider]:
    cfg = ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20)
    yield cfg
    cfg.close()


async def until(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    """Let the loop run until ``predicate()``; fail after the deadline (never a fixed sleep:
    the wait is for the event, the short yield only paces the check)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def test_set_update_delete_read_their_own_writes(acme: ConfigProvider, hotconf_dir: Path
                                                 ) -> None:
    path = hotconf_dir / "private" / "acme.json"
    seen = Recorder()
    acme.on_change(seen)
    start = acme.revision
    revision = acme.set("pricing.discount", 0.2)
    # read-your-writes: the config holds the write when set() returns, not "soon"
    assert acme.get("pricing.discount") == 0.2 and acme.revision == revision > start
    assert own(path) == {"pricing": {"discount": 0.2}, "name": "Acme"}  # no defaults copied
    seen.wait_for(lambda items: len(items) == 1, what="the write's on_change")
    assert (seen.items[0].source, seen.items[0].revision) == ("api", revision)
    assert acme.history(limit=1)[0].source == "api"

    revision = acme.update({"name": "Acme Corp", "features": {"beta": True}})
    assert acme["name"] == "Acme Corp" and acme.get("features.beta") is True
    assert acme.revision == revision
    acme.update({"features": None})  # merge patch: null removes the key
    assert "features" not in own(path) and acme.get("features.beta") is False  # the default
    acme.set(("pricing", "tiers"), ["a", "b"])
    acme.set("/pricing/tiers/-", "c")
    assert own(path)["pricing"]["tiers"] == ["a", "b", "c"]
    revision = acme.delete("pricing.discount")
    assert "discount" not in own(path)["pricing"] and acme.get("pricing.discount") == 0.0
    assert acme.revision == revision
    with pytest.raises(ConfigWriteError) as refused:
        acme.delete("pricing.currency")  # only in defaults: a tenant cannot delete it
    assert refused.value.status == 409 and "/pricing/currency" in str(refused.value)


def test_a_write_on_an_old_config_is_a_conflict_and_writes_nothing(hotconf_dir: Path) -> None:
    """Inside a running main loop that does not get to run (a cell executing), as in a kernel:
    the provider still holds the old config when a concurrent edit lands on disk."""
    path = hotconf_dir / "private" / "acme.json"

    async def main() -> None:
        cfg = ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20)
        try:
            before = cfg.revision
            write_json(path, {"pricing": {"discount": 0.3}, "name": "Other editor"})
            edited = path.read_bytes()
            with pytest.raises(ConfigConflict) as conflict:
                cfg.set("pricing.discount", 0.9)
            assert conflict.value.status == 412
            assert path.read_bytes() == edited and cfg.revision == before
            # once the loop runs, the provider has the edit and the same write goes through
            await until(lambda: cfg["name"] == "Other editor", "the concurrent edit")
            assert conflict.value.current_revision in (None, cfg.revision)
            assert cfg.set("pricing.discount", 0.9) == cfg.revision
            assert own(path) == {"pricing": {"discount": 0.9}, "name": "Other editor"}
        finally:
            cfg.close()

    asyncio.run(main())


def test_read_your_writes_while_the_main_loop_is_blocked(hotconf_dir: Path) -> None:
    """set() runs ON the main thread: it cannot wait for a main-loop step, so it folds its
    own change itself; the on_change callback still runs later, on the loop, not inside."""

    async def main() -> None:
        cfg = ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20)
        seen: list[tuple[str | None, int]] = []
        try:
            cfg.on_change(lambda c: seen.append((c.source, c.revision)))
            revision = cfg.set("pricing.discount", 0.45)
            assert cfg.get("pricing.discount") == 0.45 and cfg.revision == revision
            assert seen == []  # not in the middle of the "cell"
            await until(lambda: seen, "the deferred on_change")
            assert seen == [("api", revision)]
        finally:
            cfg.close()

    asyncio.run(main())


def test_an_invalid_result_is_rejected_and_the_file_is_untouched(acme: ConfigProvider,
                                                                  hotconf_dir: Path) -> None:
    path = hotconf_dir / "private" / "acme.json"
    path.write_text('{\n  "name": "Acme",\n    "pricing": {"discount": 0.1}\n}\n')
    wait_until(lambda: acme["name"] == "Acme" and acme.get("pricing.discount") == 0.1
               and acme.revision > 0, what="the hand-formatted file")
    wait_until(lambda: acme.shared_link.state.checksum is not None, what="a checksum")
    before = path.read_bytes()
    with pytest.raises(ConfigRejected) as rejected:
        acme.set("pricing.discount", 1.5)
    err = rejected.value
    assert err.status == 422 and err.pointer == "/pricing/discount"
    # where the value would be in the file as written (2-space JSON): line 4, column 5
    assert (err.file, err.line, err.column) == ("private/acme.json", 4, 5)
    assert "maximum" in err.message
    assert path.read_bytes() == before and acme.get("pricing.discount") == 0.1
    with pytest.raises(TypeError):
        acme.set("pricing.discount", object())
    assert path.read_bytes() == before


def test_yaml_comments_and_layout_survive_a_write(hotconf_dir: Path) -> None:
    path = hotconf_dir / "private" / "initech.yaml"
    path.write_text("# Initech: owned by the pricing team\nname: Initech  # legal name\n"
                    "pricing:\n    discount: 0.05   # reviewed yearly\n    currency: EUR\n")
    cfg = ConfigProvider("initech", config_dir=hotconf_dir, debounce_ms=20)
    try:
        cfg.set("pricing.discount", 0.07)
        assert cfg.get("pricing.discount") == 0.07
        assert path.read_text() == (
            "# Initech: owned by the pricing team\nname: Initech  # legal name\n"
            "pricing:\n    discount: 0.07   # reviewed yearly\n    currency: EUR\n")
    finally:
        cfg.close()


def test_prod_mode_is_read_only(hotconf_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTCONF_MODE", "prod")
    path = hotconf_dir / "private" / "acme.json"
    before = path.read_bytes()
    cfg = ConfigProvider("acme", config_dir=hotconf_dir)
    try:
        with pytest.raises(ConfigReadOnly) as refused:
            cfg.set("pricing.discount", 0.3)
        assert refused.value.status == 403 and "prod" in str(refused.value)
        assert path.read_bytes() == before
    finally:
        cfg.close()


def test_a_fixed_config_has_nothing_to_write_to() -> None:
    cfg = ConfigProvider("acme", config={"a": 1})
    with pytest.raises(ConfigWriteError, match="fixed"):
        cfg.set("a", 2)


def test_link_writes_the_widget_debounced_and_snaps_back_on_refusal(hotconf_dir: Path) -> None:
    path = hotconf_dir / "private" / "acme.json"

    async def main() -> None:
        cfg = ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20)
        slider = widgets.FloatSlider(min=0, max=2, step=0.05)
        indicator = ConfigUpdateIndicator(cfg)
        try:
            binding = cfg.link("pricing.discount", slider)
            assert slider.value == 0.1  # the config moved the widget at once
            start = cfg.revision
            for value in (0.2, 0.25, 0.3):  # a drag: one write, of the last value
                slider.value = value
            assert own(path)["pricing"]["discount"] == 0.1  # debounced: nothing yet
            await until(lambda: own(path)["pricing"]["discount"] == 0.3, "the widget's write")
            assert cfg.revision == start + 1 and cfg.get("pricing.discount") == 0.3
            # the config moves the widget
            write_json(path, {"pricing": {"discount": 0.4}, "name": "Acme"})
            await until(lambda: slider.value == 0.4, "the widget following the file")
            before = path.read_bytes()
            slider.value = 1.5  # over the schema's maximum of 1
            await until(lambda: cfg.write_error is not None, "the refusal")
            assert slider.value == 0.4 and path.read_bytes() == before
            assert "maximum" in cfg.write_error and "Write refused" in indicator.value
            slider.value = 0.5  # a good write clears the reason
            await until(lambda: own(path)["pricing"]["discount"] == 0.5, "the next write")
            assert cfg.write_error is None and "Write refused" not in indicator.value
            binding.unlink()
            slider.value = 0.6
            await asyncio.sleep(0)  # (any write would need the timer; unlinked: none armed)
            assert binding._timer is None and own(path)["pricing"]["discount"] == 0.5
        finally:
            indicator.close()
            cfg.close()

    asyncio.run(main())


def test_magic_assignments_read_as_the_cli_reads_them() -> None:
    assert assignments_patch(["pricing.discount=0.2", "name=Acme Co", "/a~1b/c=[1, 2]",
                              "pricing.currency=null", "flag=true"]) == {
        "pricing": {"discount": 0.2, "currency": None}, "name": "Acme Co",
        "a/b": {"c": [1, 2]}, "flag": True}
    with pytest.raises(ValueError, match="PATH=VALUE"):
        assignments_patch(["pricing.discount"])


def test_a_tenant_without_a_file_is_created(hotconf_dir: Path) -> None:
    cfg = ConfigProvider("newco", config_dir=hotconf_dir, debounce_ms=20)
    try:
        assert cfg.shared_link is not None and not cfg.shared_link.state.exists
        revision = cfg.set("pricing.discount", 0.3)
        assert cfg.get("pricing.discount") == 0.3 and cfg.revision == revision
        assert own(hotconf_dir / "private" / "newco.json") == {"pricing": {"discount": 0.3}}
    finally:
        cfg.close()
