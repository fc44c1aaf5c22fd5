"""Reconnect against the REAL standalone server and ``jupyter-hotconf
watch`` (a subprocess printing JSON lines)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from jupyter_hotconf.kernel.provider import ConfigProvider
from jupyter_hotconf.pytest_plugin import (
    Recorder,
    ServeProcess,
    clean_env,
    wait_until,
    write_json,
)

from .servers import BIN


def test_stop_restart_error_then_resync_with_one_callback(hotconf_dir: Path) -> None:
    server = ServeProcess(hotconf_dir, token="stoken").start()
    changes, statuses = Recorder(), Recorder()
    cfg = ConfigProvider("acme", url=server.base, token=server.token, reconnect_delay=0.05,
                         max_reconnect_attempts=3, retry_interval=0.5, connect_timeout=2)
    try:
        assert cfg.status == "connected" and cfg.get("pricing.discount") == 0.1
        cfg.on_change(changes)
        cfg.observe(lambda ch: statuses(ch["new"]), "status")
        server.stop()
        statuses.wait_for(lambda s: "disconnected" in s and "connecting" in s, what="down")
        wait_until(lambda: cfg.status == "error", what="error after max attempts")
        assert cfg.reconnect_attempts > 3 and cfg.is_reconnecting is False
        write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.6}})
        server.restart()  # new epoch, same port
        changes.wait_for(lambda items: len(items) >= 1, what="resync callback")
        wait_until(lambda: cfg.status == "connected", what="connected again")
        assert cfg.get("pricing.discount") == 0.6
        assert len(changes.items) == 1 and "/pricing/discount" in changes.items[0].changed_paths
    finally:
        cfg.close()
        server.stop()


def test_wrong_token_is_error_at_once_and_watch_cli(hotconf_dir: Path) -> None:
    server = ServeProcess(hotconf_dir, token="stoken").start()
    try:
        bad = ConfigProvider("acme", url=server.base, token="wrong", connect_timeout=5)
        wait_until(lambda: bad.status == "error", what="401 → error")
        assert "401" in (bad.error or "") or "403" in (bad.error or "")
        assert bad.reconnect_attempts == 0
        bad.close()
        proc = subprocess.Popen(
            [str(BIN / "jupyter-hotconf"), "watch", "acme", "--url", server.base,
             "--token", server.token or "", "--count", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["Snapshot"]["tenant_id"] == "acme"
        write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.9}})
        second = json.loads(proc.stdout.readline())
        assert second["ConfigChanged"]["config"]["pricing"]["discount"] == 0.9
        assert proc.wait(30) == 0
        denied = subprocess.run(
            [str(BIN / "jupyter-hotconf"), "watch", "acme", "--url", server.base,
             "--token", "wrong"], capture_output=True, text=True, timeout=60, env=clean_env())
        assert denied.returncode == 1 and '"error"' in denied.stderr
    finally:
        server.stop()
