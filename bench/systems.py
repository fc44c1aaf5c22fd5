"""Start the servers under test — ours (``jupyter-hotconf serve``) and the ``websockets`` peer.

Both run as separate processes on 127.0.0.1 so that their RSS and CPU are read from /proc
on their own. Ours is started with the connection limits lifted through its settings
(``--max-connections 0 --max-connections-per-tenant 0`` = no limit) and, unless a benchmark
asks for it, with the heartbeat pushed out of the run (the interval must be > 0, so a day):
the peer has no heartbeat, and the heartbeat's own cost is measured separately.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_hotconf.pytest_plugin import EXAMPLE_DEFAULTS, EXAMPLE_SCHEMA, free_port, write_json

from .procs import PYTHON, Spawned, wait_http, wait_port

HEARTBEAT_OFF_S = 86400.0
TENANT = "acme"


@dataclass
class Server:
    """A running server under test and where to reach it."""

    name: str
    proc: Spawned
    port: int
    startup_s: float
    data_dir: Path | None = None  # ours: its own JUPYTER_DATA_DIR (the history lives there)

    def ws_uri(self, tenant: str = TENANT) -> str:
        return f"ws://127.0.0.1:{self.port}/ws?tenant_id={tenant}"

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/{path}", timeout=30) as r:
            return json.loads(r.read())

    def close(self) -> None:
        self.proc.close()
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def start_ours(
    config_dir: Path,
    log_dir: Path,
    *,
    debounce_ms: int = 0,
    watcher: str = "native",
    heartbeat_s: float = HEARTBEAT_OFF_S,
    poll_interval_s: float = 1.0,
    tag: str = "",
    whatif: tuple[str, ...] = (),
    history: str = "",
    extra: tuple[str, ...] = (),
) -> Server:
    """``jupyter-hotconf serve`` on a free port; ready when ``GET /health`` answers.

    Each server gets its own ``JUPYTER_DATA_DIR`` (a temp dir removed at ``close``), so the
    history database it keeps by default (``history=""``; ``"none"`` turns it off) never
    lands in the user's data dir and no run resumes another's history.
    ``whatif`` (e.g. ``("--nodelay",)``) runs it through ``bench.whatif``'s
    patches instead, to measure a proposed change side by side. ``extra`` is appended to the
    argv (e.g. ``("--broker-url", url)`` for a server of a Redis group).
    """
    port = free_port()
    launcher = ["bench.whatif", *whatif] if whatif else ["jupyter_hotconf.cli"]
    argv = [
        PYTHON,
        "-m",
        *launcher,
        "serve",
        "--config-dir",
        str(config_dir),
        "--port",
        str(port),
        "--debounce-ms",
        str(debounce_ms),
        "--watcher",
        watcher,
        "--poll-interval",
        str(poll_interval_s),
        "--heartbeat-interval",
        str(heartbeat_s),
        "--heartbeat-timeout",
        str(max(2 * heartbeat_s, 10.0)),
        "--max-connections",
        "0",
        "--max-connections-per-tenant",
        "0",
        "--reconcile-interval",
        "0",  # a 30 s rescan would land inside some runs
        "--history",
        history,
        *extra,
    ]
    data_dir = Path(tempfile.mkdtemp(prefix="hotconf-bench-data-"))
    env = {"PYTHONUNBUFFERED": "1", "JUPYTER_DATA_DIR": str(data_dir)}
    try:
        proc = Spawned(f"ours{tag}-{port}", argv, log_dir, env=env)
        try:
            startup = wait_http(f"http://127.0.0.1:{port}/health", proc, timeout=300)
        except BaseException:
            proc.close()
            raise
    except BaseException:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise
    return Server("ours", proc, port, startup, data_dir)


def start_peer(
    config_dir: Path, log_dir: Path, *, tag: str = "", ping_interval_s: float | None = None
) -> Server:
    """The hand-written ``websockets`` peer; ready when its port accepts."""
    port = free_port()
    argv = [
        PYTHON,
        "-m",
        "bench.peers.ws_broadcast",
        "--config-dir",
        str(config_dir),
        "--port",
        str(port),
    ]
    if ping_interval_s is not None:
        argv += ["--ping-interval", str(ping_interval_s)]
    proc = Spawned(f"peer{tag}-{port}", argv, log_dir, env={"PYTHONUNBUFFERED": "1"})
    try:
        startup = wait_port(port, proc, timeout=120)
    except BaseException:
        proc.close()
        raise
    return Server("websockets-peer", proc, port, startup)


def start_plain(config_dir: Path, log_dir: Path, *, tag: str = "") -> Server:
    """The plain load script (``bench/peers/plain_load.py``); ready when its ``/health``
    answers, i.e. once every tenant is loaded, merged and validated."""
    port = free_port()
    argv = [
        PYTHON,
        "-m",
        "bench.peers.plain_load",
        "--config-dir",
        str(config_dir),
        "--port",
        str(port),
    ]
    proc = Spawned(f"plain{tag}-{port}", argv, log_dir, env={"PYTHONUNBUFFERED": "1"})
    try:
        startup = wait_http(f"http://127.0.0.1:{port}/health", proc, timeout=300)
    except BaseException:
        proc.close()
        raise
    return Server("plain-script", proc, port, startup)


#: Written beside the tenants so that every reload pays for what ours does in real use:
#: deep-merging defaults and validating against a JSON Schema (the peer does neither). The
#: same example config as the tests' ``hotconf_dir`` fixture.
DEFAULTS, SCHEMA = EXAMPLE_DEFAULTS, EXAMPLE_SCHEMA


def make_config_dir(root: Path, tenants: int = 1) -> Path:
    """A config dir with defaults, a schema and ``tenants`` small tenant files (``acme``
    first, then ``t00001``…)."""
    private = root / "private"
    private.mkdir(parents=True, exist_ok=True)
    (root / "defaults.json").write_text(json.dumps(DEFAULTS), encoding="utf-8")
    (root / "schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    save(private / f"{TENANT}.json", {"pricing": {"discount": 0.1}, "seq": 0})
    for i in range(1, tenants):
        (private / f"t{i:05d}.json").write_text(
            json.dumps({"pricing": {"discount": 0.1}, "name": f"tenant {i}"}), encoding="utf-8"
        )
    return root


def save(path: Path, obj: Any) -> None:
    """Save as editors and git do: a hidden temp file, then ``os.replace``."""
    write_json(path, obj)
