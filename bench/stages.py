"""Where the milliseconds of one save go, stage by stage: ``python -m bench.stages [-n 100]``.

Runs ``jupyter-hotconf serve`` (quiet window 0) inside this process with timestamps added
around the watcher's and the hub's stages (by wrapping their methods: the package itself is
untouched), saves ``n`` times with one WebSocket subscriber in a child process, and prints the
median and p95 of each step: save → first file event (inotify + watchdog) → worker wakes
and reloads → parsed/validated/applied → handed to the loop thread → written to the socket →
received by the subscriber.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .stats import summarize
from .swarm import Swarm
from .systems import TENANT, make_config_dir, save

STAGES = ("event", "reload", "applied", "loop", "written", "received")


def _wrap(owner: Any, name: str, stamp: Callable[[str], None], stage: str, after: bool) -> None:
    original = getattr(owner, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not after:
            stamp(stage)
        result = original(*args, **kwargs)
        if after:
            stamp(stage)
        return result

    setattr(owner, name, wrapped)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__)
    parser.add_argument("-n", type=int, default=100, help="saves (default 100)")
    args = parser.parse_args()

    from jupyter_hotconf.core.watcher import FileWatcher
    from jupyter_hotconf.server.engine import HotConfEngine
    from jupyter_hotconf.server.hub import ConfigHub
    from jupyter_hotconf.server.settings import StandaloneSettings
    from jupyter_hotconf.server.standalone import StandaloneServer

    current: dict[str, int] = {}

    def stamp(stage: str) -> None:
        current.setdefault(stage, time.monotonic_ns())  # the first time each stage is hit

    _wrap(FileWatcher, "_on_event", stamp, "event", after=False)
    _wrap(FileWatcher, "_reload", stamp, "reload", after=False)
    _wrap(FileWatcher, "_deliver", stamp, "applied", after=False)
    _wrap(HotConfEngine, "publish", stamp, "loop", after=False)
    _wrap(ConfigHub, "broadcast", stamp, "written", after=True)

    rows: dict[str, list[float]] = {s: [] for s in STAGES}
    with tempfile.TemporaryDirectory(prefix="hotconf-bench-stages-") as tmp:
        root = make_config_dir(Path(tmp) / "cfg")
        settings = StandaloneSettings(
            config_dir=str(root),
            port=0,
            debounce_ms=0,
            watcher="native",
            reconcile_interval_s=0,
            heartbeat_interval_s=86400,
            heartbeat_timeout_s=172800,
        )
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        holder: dict[str, Any] = {}

        def serve() -> None:
            asyncio.set_event_loop(loop)

            async def start() -> None:
                server = StandaloneServer(settings)
                server.start()
                holder["server"] = server
                ready.set()

            loop.run_until_complete(start())
            loop.run_forever()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        if not ready.wait(120):
            raise TimeoutError("server did not start")
        server = holder["server"]
        swarm = Swarm(
            "stages", f"ws://127.0.0.1:{server.port}/ws?tenant_id={TENANT}", 1, Path(tmp) / "logs"
        )
        try:
            swarm.wait_ready(60)
            for k in range(1, args.n + 1):
                current.clear()
                t0 = time.monotonic_ns()
                save(root / "private" / f"{TENANT}.json", {"seq": k})
                current["received"] = swarm.wait_change(k, 30)[0]
                prev = t0
                for stage in STAGES:
                    at = current.get(stage, prev)
                    rows[stage].append((at - prev) / 1e6)
                    prev = at
        finally:
            swarm.close()
            fut = asyncio.run_coroutine_threadsafe(server.stop(), loop)
            with contextlib.suppress(Exception):
                fut.result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
    print(f"{'step (ms)':<34} {'p50':>7} {'p95':>7} {'max':>7}")
    labels = {
        "event": "save → first file event",
        "reload": "event → worker reloads",
        "applied": "reload → parsed, validated, applied",
        "loop": "→ loop thread picks it up",
        "written": "→ frames written (broadcast done)",
        "received": "→ subscriber has it",
    }
    for stage in STAGES:
        s = summarize(rows[stage])
        print(f"{labels[stage]:<34} {s['p50']:7.2f} {s['p95']:7.2f} {s['max']:7.2f}")
    total = [sum(rows[s][i] for s in STAGES) for i in range(args.n)]
    s = summarize(total)
    print(f"{'total':<34} {s['p50']:7.2f} {s['p95']:7.2f} {s['max']:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
