"""Every real way an editor or tool saves a file gives exactly
the right change, for the native observer (inotify) and for polling."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_watcher_support import KINDS, watching

from jupyter_hotconf.pytest_plugin import wait_until, write_json


@pytest.mark.parametrize("kind", KINDS)
def test_atomic_replace_is_one_modified(hotconf_dir: Path, kind: str) -> None:
    """Point 1."""
    with watching(hotconf_dir, kind) as h:
        write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.3}})
        change = h.wait_for("acme", "modified")
        assert change.new is not None and change.new["pricing"]["discount"] == 0.3
        assert change.changed_paths == ["/name", "/pricing/discount"]
        h.sentinel()
        assert h.types("acme") == ["modified"]


@pytest.mark.parametrize("kind", KINDS)
def test_vim_style_save_is_one_modified_never_deleted(hotconf_dir: Path, kind: str) -> None:
    """Point 2: vim moves the file to ``acme.json~``, writes a new one, deletes the backup."""
    with watching(hotconf_dir, kind, debounce_ms=300) as h:
        path = hotconf_dir / "private" / "acme.json"
        backup = path.with_name("acme.json~")
        os.rename(path, backup)
        path.write_text(json.dumps({"pricing": {"discount": 0.4}, "name": "Acme"}))
        os.remove(backup)
        h.wait_for("acme", "modified")
        h.sentinel()
        assert h.types("acme") == ["modified"]
        assert h.config("acme")["pricing"]["discount"] == 0.4  # type: ignore[index]


@pytest.mark.parametrize("kind", KINDS)
def test_sed_in_place_is_one_modified(hotconf_dir: Path, kind: str) -> None:
    """Point 3: real ``sed -i`` (temp file ``sedXXXXXX`` in private/, renamed over)."""
    with watching(hotconf_dir, kind) as h:
        path = hotconf_dir / "private" / "acme.json"
        subprocess.run(["sed", "-i", "s/0.1/0.5/", str(path)], check=True)
        h.wait_for("acme", "modified")
        h.sentinel()
        assert h.types("acme") == ["modified"]
        assert h.config("acme")["pricing"]["discount"] == 0.5  # type: ignore[index]


CHUNKED = {
    "json": ('{"pricing": {"discount": 0.', '7}, "name": "Acme 2"}\n'),
    "yaml": ("pricing:\n  discount: 0.7\n", "name: Acme 2\n"),
    "toml": ("name = 'Acme 2'\n", "[pricing]\ndiscount = 0.7\n"),
}


@pytest.mark.parametrize("fmt", ["json", "yaml", "toml"])
@pytest.mark.parametrize("kind", KINDS)
def test_writer_pausing_mid_file_never_delivers_partial_or_error(
    hotconf_dir: Path, kind: str, fmt: str
) -> None:
    """Point 4: a writer stops mid-file for longer than the quiet window, then finishes.

    The pause is made provably longer than the quiet window by waiting until the watcher
    has read the half-written file (its deferred-read counter moves) before writing on.
    """
    path = hotconf_dir / "private" / f"initech.{fmt}"
    write_json(path, {"name": "Initech"})  # JSON is YAML too; TOML gets the same below
    if fmt == "toml":
        path.write_text("name = 'Initech'\n")
    with watching(hotconf_dir, kind, debounce_ms=300) as h:
        reads = h.watcher.stats["reloads"]
        deferred = h.watcher.stats["deferred"]
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(CHUNKED[fmt][0])
            fh.flush()
            if fmt == "json":
                wait_until(lambda: h.watcher.stats["deferred"] > deferred, what="half file read")
            else:  # a YAML/TOML half can parse; wait until it was read at all
                wait_until(lambda: h.watcher.stats["reloads"] > reads, what="half file read")
            fh.write(CHUNKED[fmt][1])
        h.wait_for("initech", "modified", lambda c: (c.new or {}).get("name") == "Acme 2")
        h.sentinel()
        final = h.of("initech")[-1].new
        assert final is not None and final["pricing"]["discount"] == 0.7
        assert "invalid" not in h.types("initech")
        if fmt == "json":  # a cut JSON file never parses, so nothing partial was delivered
            assert h.types("initech") == ["modified"]


@pytest.mark.parametrize("kind", KINDS)
def test_truncate_to_empty_is_invalid_and_last_good_stays(hotconf_dir: Path, kind: str) -> None:
    """Point 5."""
    with watching(hotconf_dir, kind) as h:
        before = h.config("acme")
        (hotconf_dir / "private" / "acme.json").write_bytes(b"")
        change = h.wait_for("acme", "invalid")
        assert change.error is not None and change.error.file == "private/acme.json"
        assert "empty" in change.error.message
        assert h.config("acme") == before
        state = h.store.get("acme")
        assert state is not None and not state.valid and state.revision == 1


@pytest.mark.parametrize("kind", KINDS)
def test_burst_of_200_writes_converges_with_bounded_events(hotconf_dir: Path, kind: str) -> None:
    """Point 6: 200 in-place rewrites (truncate + write, the hardest case) in a burst."""
    with watching(hotconf_dir, kind, debounce_ms=100, max_wait_ms=500) as h:
        path = hotconf_dir / "private" / "acme.json"
        for i in range(200):
            path.write_text(json.dumps({"name": "Acme", "n": i}))
        h.wait_for("acme", "modified", lambda c: (c.new or {}).get("n") == 199)
        h.sentinel()
        assert set(h.types("acme")) == {"modified"}  # never an error, never a deletion
        assert len(h.of("acme")) <= 40  # coalesced: at most a few per max_wait window
        assert h.config("acme")["n"] == 199  # type: ignore[index]


JUNK = [
    ".acme.json.swp",
    "4913",
    ".#acme.json",
    "acme.json~",
    "acme.json.tmp",
    ".hidden.json",
    "sedAb12Cd",
    "acme.tmp",
]


@pytest.mark.parametrize("kind", KINDS)
def test_editor_junk_produces_nothing(hotconf_dir: Path, kind: str) -> None:
    """Point 7: droppings in private/ and at the top produce no change and no reload."""
    with watching(hotconf_dir, kind) as h:
        for name in JUNK:
            for where in (hotconf_dir / "private", hotconf_dir):
                (where / name).write_text('{"pricing": {"discount": 0.9}}')
        for name in JUNK:
            os.remove(hotconf_dir / "private" / name)
        h.sentinel()
        assert h.types("acme") == []
        assert [c.tenant_id for c in h.rec.items] == ["globex"]


@pytest.mark.parametrize("kind", KINDS)
def test_revert_is_recovered_and_unchanged_rewrite_is_nothing(hotconf_dir: Path, kind: str) -> None:
    """Point 15."""
    with watching(hotconf_dir, kind) as h:
        path = hotconf_dir / "private" / "acme.json"
        good = path.read_bytes()
        write_json(path, {"pricing": {"discount": 5}})  # schema: maximum 1
        invalid = h.wait_for("acme", "invalid")
        assert invalid.error is not None and invalid.error.pointer == "/pricing/discount"
        path.write_bytes(good)
        recovered = h.wait_for("acme", "recovered")
        assert recovered.revision == 1  # the config in force never changed
        shutil.copyfile(path, path.with_name("acme.copy"))
        os.replace(path.with_name("acme.copy"), path)  # same bytes, new inode
        h.sentinel()
        assert h.types("acme") == ["invalid", "recovered"]
