"""``GET info`` shows a watcher error that recurs, and clears it when it stops; the server
log has it once (docs/change-detection.md)."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_hotconf.pytest_plugin import ServeProcess, wait_until


def _info(srv: ServeProcess) -> dict[str, Any]:
    with urllib.request.urlopen(f"{srv.http}/hotconf/api/info", timeout=5) as r:
        return dict(json.loads(r.read()))


def test_info_shows_a_recurring_watcher_error_until_it_stops(
    serve: Callable[..., ServeProcess], hotconf_dir: Path, tmp_path: Path
) -> None:
    """``private/`` becomes a symlink to itself (ELOOP at every rescan; root bypasses
    ``chmod 000``, nobody bypasses a loop), then is put back."""
    srv = serve()
    assert _info(srv)["watcher_error"] is None
    private = hotconf_dir / "private"
    os.rename(private, tmp_path / "saved")
    os.symlink("private", private)
    error = wait_until(
        lambda: (e := _info(srv)["watcher_error"]) and e["count"] >= 2 and e,
        what="info to show the error twice",
    )
    assert "Too many levels of symbolic links" in error["message"] and error["since"]
    os.unlink(private)
    os.rename(tmp_path / "saved", private)
    wait_until(lambda: _info(srv)["watcher_error"] is None, what="info to clear the error")
    log = srv.log_path.read_text()
    assert log.count("logged once while it recurs") == 1, srv.tail()
    assert log.count("Traceback") == 1 and "recovered after" in log, srv.tail()
    assert _info(srv)["tenants"] == 2  # the last good configs stayed in force
