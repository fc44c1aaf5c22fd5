"""Issue 7 §1: save → subscriber notified, for ours and the peers, one save at a time.

Each save is an atomic replace of ``private/acme.json`` with new content; the clock starts
just before the temp file is written and stops when the subscriber has the change (the
in-process peers stamp their callback; WebSocket subscribers stamp the frame's arrival in
their own process, see ``swarm.py``). The next save starts once the previous one arrived,
so windows never merge.
"""

from __future__ import annotations

import logging
import queue
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .peers.naive_poll import NaivePoller
from .peers.watchdog_floor import WatchdogFloor
from .stats import summarize
from .swarm import Swarm
from .systems import TENANT, Server, make_config_dir, save, start_ours, start_peer

log = logging.getLogger(__name__)
TIMEOUT_S = 30.0


def _save_loop(
    path: Path, saves: int, arrived: Callable[[int], int], phase_s: float = 0.0
) -> list[float]:
    """Do ``saves`` saves; ``arrived(k)`` blocks until the k-th change is seen → its stamp.

    ``phase_s`` > 0 waits a random 0..phase_s before each save: a poller found a change at
    its last tick, so saving right after would always cost a full interval; users save at
    random moments, not in step with the poller.
    """
    rng = random.Random(7)
    samples: list[float] = []
    for k in range(1, saves + 1):
        if phase_s:
            time.sleep(rng.uniform(0, phase_s))  # decorrelates the save from the poll tick
        t0 = time.monotonic_ns()
        save(path, {"pricing": {"discount": round(k / (saves + 1), 6)}, "seq": k})
        samples.append((arrived(k) - t0) / 1e6)
    return samples


def _queue_arrivals(stamps: queue.Queue[int], what: str) -> Callable[[int], int]:
    def arrived(_k: int) -> int:
        try:
            return stamps.get(timeout=TIMEOUT_S)
        except queue.Empty:
            raise TimeoutError(f"{what}: no notification within {TIMEOUT_S}s") from None

    return arrived


def measure_inproc(kind: str, saves: int, work: Path) -> list[float]:
    """The floor (``watchdog``) or the naive poller, in this process."""
    root = make_config_dir(work / kind)
    path = root / "private" / f"{TENANT}.json"
    peer: WatchdogFloor | NaivePoller = (
        WatchdogFloor(path) if kind == "floor" else NaivePoller(path, 1.0)
    )
    peer.start()
    try:
        phase = 1.0 if kind == "poll" else 0.0
        return _save_loop(path, saves, _queue_arrivals(peer.stamps, kind), phase)
    finally:
        peer.stop()


def measure_server(server: Server, path: Path, saves: int, log_dir: Path) -> list[float]:
    """One WebSocket subscriber on ``server``; ``saves`` saves of ``path``."""
    swarm = Swarm(f"lat-{server.name}-{server.port}", server.ws_uri(), 1, log_dir)
    try:
        swarm.wait_ready(60)
        return _save_loop(path, saves, lambda k: swarm.wait_change(k, TIMEOUT_S)[0])
    finally:
        swarm.close()


def run(plan: dict[str, int], log_dir: Path) -> dict[str, Any]:
    """``plan`` maps a system name to its number of saves; returns summaries and samples.

    Names: ``floor``, ``poll``, ``peer``, ``ours-<debounce_ms>``.
    """
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hotconf-bench-lat-") as tmp:
        work = Path(tmp)
        for name, saves in plan.items():
            if not saves:
                continue
            log.info("latency: %s, %d saves", name, saves)
            if name in ("floor", "poll"):
                samples = measure_inproc(name, saves, work)
            else:
                root = make_config_dir(work / name)
                server = (
                    start_peer(root, log_dir)
                    if name == "peer"
                    else start_ours(root, log_dir, debounce_ms=int(name.split("-")[1]))
                )
                try:
                    samples = measure_server(
                        server, root / "private" / f"{TENANT}.json", saves, log_dir
                    )
                finally:
                    server.close()
            out[name] = {"summary": summarize(samples), "samples_ms": samples}
            log.info("latency: %s %s", name, out[name]["summary"])
    return out
