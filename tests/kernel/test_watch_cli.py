"""``jupyter-hotconf watch --show-ping`` against a real ``serve`` with a short heartbeat:
heartbeats are printed as ``"Ping"`` lines when asked, and only then (docs/kernel.md)."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jupyter_hotconf.pytest_plugin import DEADLINE_S, Recorder, ServeProcess, clean_env, write_json

from .servers import BIN


@pytest.fixture
def watch(serve: Callable[..., ServeProcess]) -> Iterator[Callable[..., Recorder]]:
    """Start ``jupyter-hotconf watch acme *flags`` on a serve that pings every 0.05 s; each
    one's stdout lines, parsed, land in a Recorder as they come."""
    srv = serve("--heartbeat-interval=0.05")
    procs: list[subprocess.Popen[str]] = []

    def start(*flags: str) -> Recorder:
        proc = subprocess.Popen(
            [str(BIN / "jupyter-hotconf"), "watch", "acme", "--url", srv.base, *flags],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=clean_env())
        procs.append(proc)
        lines = Recorder()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines(json.loads(line))

        threading.Thread(target=read, daemon=True).start()
        return lines

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(DEADLINE_S)


def test_show_ping_prints_heartbeats_and_the_default_does_not(
    watch: Callable[..., Recorder], hotconf_dir: Path
) -> None:
    plain = watch()
    pinged = watch("--show-ping")
    for lines in (plain, pinged):
        lines.wait_for(lambda items: len(items) >= 1, what="the Snapshot")
    pinged.wait_for(lambda items: items.count("Ping") >= 3, what="three heartbeats printed")
    assert "Snapshot" in pinged.items[0]
    write_json(hotconf_dir / "private" / "acme.json", {"name": "changed"})
    items = plain.wait_for(lambda items: len(items) >= 2, what="the change")
    assert "ConfigChanged" in items[1] and "Ping" not in items  # heartbeats came, unprinted
    pinged.wait_for(lambda items: any("ConfigChanged" in i for i in items if isinstance(i, dict)),
                    what="the change among the pings")
