"""The reconcile scan on a real watcher: quiet after changes that events reported, and
still repairing (and logging) a change no event reported."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from test_watcher_support import KINDS, watching

from jupyter_hotconf.pytest_plugin import wait_until, write_json

REPAIR_LINE = "reconcile scan found changes no event reported"


def _rewrite_same_size_keep_mtime(path: Path, old: bytes, new: bytes) -> None:
    """An in-place rewrite polling cannot see (same size, mtime put back)."""
    st = os.stat(path)
    data = path.read_bytes().replace(old, new)
    with open(path, "r+b") as fh:
        fh.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.parametrize("kind", KINDS)
def test_reconcile_reloads_nothing_events_reported_and_repairs_a_missed_change(
    tmp_path: Path, hotconf_dir: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """It used to log and reload every file changed since the previous scan, although
    events had reported each; now the stamps follow every reload."""
    caplog.set_level(logging.INFO, logger="jupyter_hotconf.core.watcher")
    private = hotconf_dir / "private"
    write_json(private / "initech.json", {"name": "Initech"})
    acme = target = private / "acme.json"
    if kind == "native":  # a write through a link outside the dir: its watch hears nothing
        target = tmp_path / "elsewhere.json"
        os.link(acme, target)
    with watching(hotconf_dir, kind, reconcile_interval_s=0.2) as h:
        write_json(private / "globex.json", {"name": "Globex 2"})
        write_json(private / "hooli.json", {"name": "Hooli"})
        (private / "initech.json").unlink()
        write_json(hotconf_dir / "defaults.json", {"pricing": {"currency": "EUR"}})
        h.wait_for("globex", "modified", lambda c: (c.new or {}).get("name") == "Globex 2")
        h.wait_for("hooli", "created")
        h.wait_for("initech", "deleted")
        h.wait_for("acme", "modified", lambda c: (c.new or {})["pricing"]["currency"] == "EUR")
        h.sentinel("globex")

        delivered, reloads = len(h.rec.items), h.watcher.stats["reloads"]
        scans = h.watcher.stats["reconciles"]
        # Three more scans: the last two began after everything above had been reloaded,
        # and the reload that follows a scan is done before the next scan starts.
        wait_until(lambda: h.watcher.stats["reconciles"] >= scans + 3, what="three scans")
        assert REPAIR_LINE not in caplog.text
        assert h.watcher.stats["repairs"] == 0
        assert h.watcher.stats["reloads"] == reloads
        assert len(h.rec.items) == delivered

        events = h.watcher.stats["events"]
        _rewrite_same_size_keep_mtime(target, b"0.1", b"0.3")
        change = h.wait_for(
            "acme", "modified", lambda c: (c.new or {})["pricing"]["discount"] == 0.3
        )
        assert change.changed_paths == ["/pricing/discount"]
        assert h.watcher.stats["events"] == events  # the observer really saw nothing
        assert f"{REPAIR_LINE}: ['acme']" in caplog.text
        assert h.watcher.stats["repairs"] == 1
