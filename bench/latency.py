"""Save → subscriber notified, for ours and the peers.

Each save is an atomic replace of ``private/acme.json`` with new content; the clock starts
just before the temp file is written and stops when the subscriber has the change (the
in-process peers stamp their callback; WebSocket subscribers stamp the frame's arrival in
their own process, see ``swarm.py``). The next save starts once the previous one arrived,
so windows never merge.

All systems run at once, each on its own config dir, and the saves go round-robin (one save
per system per round): on a machine shared with other jobs, a burst of load then hits every
system alike instead of whichever happened to be measured at that moment.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .peers.naive_poll import NaivePoller
from .peers.watchdog_floor import WatchdogFloor
from .stats import summarize
from .swarm import Swarm
from .systems import TENANT, Server, make_config_dir, save, start_ours, start_peer

log = logging.getLogger(__name__)
TIMEOUT_S = 30.0


@dataclass
class Probe:
    """One system under test: the file to save and how to wait for the k-th change."""

    path: Path
    arrived: Callable[[int], int]  # blocks until change k is seen → its monotonic-ns stamp
    phase_s: float = 0.0  # see ``save_once``


def save_once(probe: Probe, k: int, rng: random.Random) -> float:
    """Save change ``k`` and return save → notified in ms.

    ``phase_s`` > 0 waits a random 0..phase_s first: a poller found the last change at its
    last tick, so saving right after would always cost a full interval; users save at random
    moments, not in step with the poller.
    """
    if probe.phase_s:
        time.sleep(rng.uniform(0, probe.phase_s))  # decorrelates the save from the poll tick
    t0 = time.monotonic_ns()
    save(probe.path, {"pricing": {"discount": round(1 / (k + 1), 6)}, "seq": k})
    return (probe.arrived(k) - t0) / 1e6


def _queue_arrivals(stamps: queue.Queue[int], what: str) -> Callable[[int], int]:
    def arrived(_k: int) -> int:
        try:
            return stamps.get(timeout=TIMEOUT_S)
        except queue.Empty:
            raise TimeoutError(f"{what}: no notification within {TIMEOUT_S}s") from None

    return arrived


def inproc_probe(kind: str, root: Path, stack: contextlib.ExitStack) -> Probe:
    """The floor (``watchdog``) or the naive poller, in this process."""
    path = root / "private" / f"{TENANT}.json"
    peer: WatchdogFloor | NaivePoller = (
        WatchdogFloor(path) if kind == "floor" else NaivePoller(path, 1.0)
    )
    peer.start()
    stack.callback(peer.stop)
    return Probe(path, _queue_arrivals(peer.stamps, kind), 1.0 if kind == "poll" else 0.0)


def server_probe(server: Server, root: Path, log_dir: Path, stack: contextlib.ExitStack) -> Probe:
    """One WebSocket subscriber on ``server``."""
    swarm = Swarm(f"lat-{server.name}-{server.port}", server.ws_uri(), 1, log_dir)
    stack.callback(swarm.close)
    swarm.wait_ready(60)
    return Probe(root / "private" / f"{TENANT}.json", lambda k: swarm.wait_change(k, TIMEOUT_S)[0])


def measure_server(server: Server, path: Path, saves: int, log_dir: Path) -> list[float]:
    """``saves`` saves of ``path`` (in ``server``'s config dir), one subscriber."""
    with contextlib.ExitStack() as stack:
        probe = server_probe(server, path.parent.parent, log_dir, stack)
        rng = random.Random(7)
        return [save_once(probe, k, rng) for k in range(1, saves + 1)]


def run(plan: dict[str, int], log_dir: Path) -> dict[str, Any]:
    """``plan`` maps a system name to its number of saves; returns summaries and samples.

    Names: ``floor``, ``poll``, ``peer``, ``ours-<debounce_ms>``.
    """
    plan = {name: saves for name, saves in plan.items() if saves}
    samples: dict[str, list[float]] = {name: [] for name in plan}
    with (
        tempfile.TemporaryDirectory(prefix="hotconf-bench-lat-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        probes: dict[str, Probe] = {}
        for name in plan:
            root = make_config_dir(Path(tmp) / name)
            if name in ("floor", "poll"):
                probes[name] = inproc_probe(name, root, stack)
                continue
            server = (
                start_peer(root, log_dir)
                if name == "peer"
                else start_ours(root, log_dir, debounce_ms=int(name.split("-")[1]))
            )
            stack.callback(server.close)
            probes[name] = server_probe(server, root, log_dir, stack)
        rng = random.Random(7)
        for k in range(1, max(plan.values()) + 1):
            for name, probe in probes.items():
                if k <= plan[name]:
                    samples[name].append(save_once(probe, k, rng))
    out: dict[str, Any] = {}
    for name, values in samples.items():
        out[name] = {"summary": summarize(values), "samples_ms": values}
        log.info("latency: %s %s", name, out[name]["summary"])
    return out
