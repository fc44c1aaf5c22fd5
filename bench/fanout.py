"""Fan-out to N subscribers of one tenant, RSS per idle connection, CPU.

For each N and each server (ours at quiet window 0, heartbeat off; the ``websockets`` peer):
start it, read its RSS, connect N cheap subscribers (``swarm.py``, at most
``PER_PROCESS`` per child process), read its RSS again, then do ``broadcasts`` saves, each
after the previous one reached everyone. Per broadcast: the time until ALL have it (save →
last arrival). Across broadcasts: every subscriber's own save → arrival latency (p50/p99).
CPU per broadcast is the server's utime+stime over the saves divided by their number.

The heartbeat's own cost (ours only; the peer has none) is measured separately: the idle CPU
of N connections over a window with a 1 s heartbeat, minus the same with it off.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from pathlib import Path
from typing import Any

from .procs import cpu_seconds, rss_bytes
from .stats import summarize
from .swarm import Swarm
from .systems import TENANT, Server, make_config_dir, save, start_ours, start_peer

log = logging.getLogger(__name__)
PER_PROCESS = 5000


def _connect(server: Server, n: int, log_dir: Path) -> list[Swarm]:
    procs = max(1, math.ceil(n / PER_PROCESS))
    swarms: list[Swarm] = []
    try:
        for i in range(procs):
            share = n // procs + (1 if i < n % procs else 0)
            swarms.append(Swarm(f"swarm-{server.name}-{n}-{i}", server.ws_uri(), share, log_dir))
        for swarm in swarms:
            swarm.wait_ready(timeout=120 + n / 20)
    except BaseException:
        for swarm in swarms:
            swarm.close()
        raise
    return swarms


def _settled_rss(pid: int, timeout: float = 10.0) -> int:
    """RSS once it stops moving (two equal reads 0.2 s apart), bounded by ``timeout``."""
    deadline = time.monotonic() + timeout
    last = rss_bytes(pid)
    while time.monotonic() < deadline:
        time.sleep(0.2)  # sampling interval of a measurement, not a synchronisation
        now = rss_bytes(pid)
        if now == last:
            break
        last = now
    return last


def measure(server: Server, path: Path, n: int, broadcasts: int, log_dir: Path) -> dict[str, Any]:
    pid = server.proc.pid
    rss0 = _settled_rss(pid)
    swarms = _connect(server, n, log_dir)
    try:
        rss1 = _settled_rss(pid)
        all_ms: list[float] = []
        each_ms: list[float] = []
        cpu0 = cpu_seconds(pid)
        clients0 = sum(cpu_seconds(s.child.pid) for s in swarms)
        for k in range(1, broadcasts + 1):
            t0 = time.monotonic_ns()
            save(path, {"pricing": {"discount": round(k / (broadcasts + 1), 6)}, "seq": k})
            stamps: list[int] = []
            for swarm in swarms:
                stamps.extend(swarm.wait_change(k, timeout=60 + n / 100))
            all_ms.append((max(stamps) - t0) / 1e6)
            each_ms.extend((s - t0) / 1e6 for s in stamps)
        cpu = cpu_seconds(pid) - cpu0
        clients = sum(cpu_seconds(s.child.pid) for s in swarms) - clients0
        lost = sum(s.lost for s in swarms)
    finally:
        for swarm in swarms:
            swarm.close()
    return {
        "subscribers": n,
        "broadcasts": broadcasts,
        "all_have_it_ms": summarize(all_ms),
        "per_subscriber_ms": summarize(each_ms),
        "rss_before_bytes": rss0,
        "rss_after_bytes": rss1,
        "rss_per_connection_bytes": (rss1 - rss0) / n,
        "cpu_ms_per_broadcast": cpu * 1000 / broadcasts,
        "cpu_us_per_subscriber_per_broadcast": cpu * 1e6 / broadcasts / n,
        # the subscribers' own CPU: on a 2-core machine it shares the cores with the server,
        # so (server + clients) / cores bounds how soon all can have it
        "client_cpu_ms_per_broadcast": clients * 1000 / broadcasts,
        "lost_connections": lost,
        "all_have_it_samples_ms": all_ms,
    }


def heartbeat_cost(n: int, window_s: float, log_dir: Path) -> dict[str, Any]:
    """Idle CPU of ``n`` connections with a 1 s heartbeat minus the same with it off — ours,
    and, for scale, the peer with ``websockets``' own keepalive (a task per connection) at
    the same interval."""
    out: dict[str, Any] = {"subscribers": n, "window_s": window_s, "interval_s": 1.0}
    runs: list[tuple[str, str, dict[str, Any]]] = [
        ("off", "ours", {}),
        ("on", "ours", {"heartbeat_s": 1.0}),
        ("peer_off", "peer", {}),
        ("peer_on", "peer", {"ping_interval_s": 1.0}),
    ]
    with tempfile.TemporaryDirectory(prefix="hotconf-bench-hb-") as tmp:
        for label, system, kwargs in runs:
            root = make_config_dir(Path(tmp) / label)
            start = start_peer if system == "peer" else start_ours
            server = start(root, log_dir, tag=f"-hb{label}", **kwargs)
            try:
                swarms = _connect(server, n, log_dir)
                try:
                    cpu0 = cpu_seconds(server.proc.pid)
                    time.sleep(window_s)  # the measurement window itself
                    out[f"cpu_s_{label}"] = cpu_seconds(server.proc.pid) - cpu0
                    out[f"lost_{label}"] = sum(s.lost for s in swarms)
                finally:
                    for swarm in swarms:
                        swarm.close()
            finally:
                server.close()
    beats = window_s / out["interval_s"]
    for label, base, suffix in (
        ("on", "off", ""),
        ("peer_on", "peer_off", "_peer"),
    ):
        if f"cpu_s_{label}" not in out:
            continue
        extra = out[f"cpu_s_{label}"] - out[f"cpu_s_{base}"]
        out[f"cpu_us_per_connection_per_beat{suffix}"] = extra * 1e6 / n / beats
        out[f"cpu_share_per_1000_connections_at_5s{suffix}"] = extra / window_s / 5 / (n / 1000)
    return out


def run(sizes: list[int], broadcasts: int, log_dir: Path) -> dict[str, Any]:
    """``{"ours": [per size…], "peer": [per size…]}``."""
    names = ("ours", "peer")
    out: dict[str, Any] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="hotconf-bench-fan-") as tmp:
        for n in sizes:
            for name in names:
                root = make_config_dir(Path(tmp) / f"{name}-{n}")
                server = (start_peer if name == "peer" else start_ours)(root, log_dir)
                try:
                    log.info("fan-out: %s to %d subscribers", name, n)
                    result = measure(
                        server, root / "private" / f"{TENANT}.json", n, broadcasts, log_dir
                    )
                finally:
                    server.close()
                log.info(
                    "fan-out: %s n=%d all-have-it p50=%.1f ms, per-sub p99=%.1f ms, %.0f B/conn",
                    name,
                    n,
                    result["all_have_it_ms"]["p50"],
                    result["per_subscriber_ms"]["p99"],
                    result["rss_per_connection_bytes"],
                )
                out[name].append(result)
    return out
