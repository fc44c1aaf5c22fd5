"""The round-2 features priced side by side in one run (docs/benchmarks.md, "Round 2").

- ``history``: our server with its history database (the default) against ``--history none``:
  save → subscriber at quiet window 0, the two servers taking turns; and the cold load of a
  tenant dir (process start → every tenant served) by each, and by the plain load script
  (``bench/peers/plain_load.py``), taking turns too.
- ``writeback``: ``PATCH tenants/acme`` (merge patch with ``If-Match``) → every subscriber
  has it, beside save-a-file → every subscriber has it, on two identical servers taking turns.
- ``metrics``: our server as it is against the same server with every Prometheus hook a
  no-op (``bench.whatif --no-metrics``): save → subscriber p50, and the server's CPU per
  broadcast to N subscribers.

Every comparison runs its systems at the same time and alternates their changes, so a burst
of load from other jobs on the shared machine hits both alike; the figures are ratios and
differences within the run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .fanout import _connect
from .procs import cpu_seconds
from .stats import summarize
from .systems import TENANT, Server, make_config_dir, save, start_ours, start_plain

log = logging.getLogger(__name__)


@dataclass
class System:
    """A server under test and how to make its k-th change (returns the start stamp, ns)."""

    server: Server
    change: Callable[[int], int]


def saver(root: Path) -> Callable[[int], int]:
    path = root / "private" / f"{TENANT}.json"

    def change(k: int) -> int:
        t0 = time.monotonic_ns()
        save(path, {"pricing": {"discount": round(1 / (k + 1), 6)}, "seq": k})
        return t0

    return change


def patcher(server: Server) -> Callable[[int], int]:
    """A merge PATCH of acme with the ETag read just before (outside the timed window)."""
    url = f"http://127.0.0.1:{server.port}/hotconf/api/tenants/{TENANT}"

    def change(k: int) -> int:
        with urllib.request.urlopen(url, timeout=30) as resp:
            etag = resp.headers["ETag"]
        body = json.dumps({"pricing": {"discount": round(1 / (k + 1), 6)}, "seq": k}).encode()
        request = urllib.request.Request(
            url,
            data=body,
            method="PATCH",
            headers={"Content-Type": "application/merge-patch+json", "If-Match": etag},
        )
        t0 = time.monotonic_ns()
        with urllib.request.urlopen(request, timeout=30) as resp:
            resp.read()
        return t0

    return change


def interleaved(
    systems: dict[str, System], subscribers: int, changes: int, log_dir: Path
) -> dict[str, Any]:
    """``subscribers`` on each system; ``changes`` rounds of one change per system. Per
    system: time until all have it, each subscriber's latency, server CPU per change."""
    out: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        swarms = {}
        for name, system in systems.items():
            connected = _connect(system.server, subscribers, log_dir)
            for swarm in connected:
                stack.callback(swarm.close)
            swarms[name] = connected
        all_ms: dict[str, list[float]] = {name: [] for name in systems}
        each_ms: dict[str, list[float]] = {name: [] for name in systems}
        cpu: dict[str, float] = {name: 0.0 for name in systems}
        for k in range(1, changes + 1):
            for name, system in systems.items():
                cpu0 = cpu_seconds(system.server.proc.pid)
                t0 = system.change(k)
                stamps: list[int] = []
                for swarm in swarms[name]:
                    stamps.extend(swarm.wait_change(k, timeout=60 + subscribers / 100))
                cpu[name] += cpu_seconds(system.server.proc.pid) - cpu0
                all_ms[name].append((max(stamps) - t0) / 1e6)
                each_ms[name].extend((s - t0) / 1e6 for s in stamps)
        for name in systems:
            out[name] = {
                "subscribers": subscribers,
                "changes": changes,
                "all_have_it_ms": summarize(all_ms[name]),
                "per_subscriber_ms": summarize(each_ms[name]),
                "cpu_ms_per_change": cpu[name] * 1000 / changes,
                "lost_connections": sum(s.lost for s in swarms[name]),
            }
            log.info("round2: %s %s", name, out[name]["all_have_it_ms"])
    return out


def _servers(
    tmp: Path, log_dir: Path, specs: dict[str, dict[str, Any]], stack: contextlib.ExitStack
) -> dict[str, tuple[Server, Path]]:
    out = {}
    for name, kwargs in specs.items():
        root = make_config_dir(tmp / name)
        server = start_ours(root, log_dir, tag=f"-{name}", **kwargs)
        stack.callback(server.close)
        out[name] = (server, root)
    return out


def cold_load(tenants: int, rounds: int, log_dir: Path) -> dict[str, Any]:
    """Process start → every tenant served: ours with history (a fresh database each time:
    the first start of a config dir records every tenant), ours without, the plain script.
    One untimed start of each first, so no system pays for caches the others warmed."""
    starts: dict[str, Callable[[Path, Path], Server]] = {
        "history-on": lambda root, logs: start_ours(root, logs, tag="-cold-on"),
        "history-off": lambda root, logs: start_ours(root, logs, tag="-cold-off", history="none"),
        "plain-script": lambda root, logs: start_plain(root, logs, tag="-cold"),
    }
    seconds: dict[str, list[float]] = {name: [] for name in starts}
    plain_load: list[float] = []
    with tempfile.TemporaryDirectory(prefix="hotconf-bench-cold-") as tmp:
        root = make_config_dir(Path(tmp) / "cfg", tenants=tenants)
        for f in (root / "private").iterdir():  # the page cache warm for all alike
            f.read_bytes()
        for r in range(-1, rounds):  # round -1: one untimed start each, as a warm-up
            order = list(starts) if r % 2 == 0 else list(reversed(starts))
            for name in order:
                server = starts[name](root, log_dir)
                load_s = None
                try:
                    if name == "plain-script":
                        served = server.get_json("health")["tenants"]
                        first = server.proc.log_path.read_text().splitlines()[0]
                        load_s = json.loads(first)["load_s"]
                    else:
                        served = len(server.get_json("hotconf/api/tenants"))
                finally:
                    server.close()
                if served != tenants:
                    raise RuntimeError(f"{name} served {served} tenants of {tenants}")
                if r < 0:
                    continue
                if load_s is not None:
                    plain_load.append(load_s)
                seconds[name].append(server.startup_s)
                log.info("cold load %s: %.2f s", name, server.startup_s)
    out: dict[str, Any] = {"tenants": tenants, "rounds": rounds}
    for name, values in seconds.items():
        out[name] = {"samples_s": values, "median_s": sorted(values)[len(values) // 2]}
    out["plain-script"]["load_only_median_s"] = sorted(plain_load)[len(plain_load) // 2]
    return out


def history(p: dict[str, Any], log_dir: Path) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="hotconf-bench-hist-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        servers = _servers(
            Path(tmp), log_dir, {"history-on": {}, "history-off": {"history": "none"}}, stack
        )
        latency = interleaved(
            {name: System(s, saver(root)) for name, (s, root) in servers.items()},
            1,
            p["saves"],
            log_dir,
        )
    return {
        "latency": latency,
        "cold_load": cold_load(p["cold_tenants"], p["cold_rounds"], log_dir),
    }


def writeback(p: dict[str, Any], log_dir: Path) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="hotconf-bench-wb-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        servers = _servers(Path(tmp), log_dir, {"save": {}, "patch": {}}, stack)
        systems = {
            "save": System(servers["save"][0], saver(servers["save"][1])),
            "patch": System(servers["patch"][0], patcher(servers["patch"][0])),
        }
        return interleaved(systems, p["subscribers"], p["changes"], log_dir)


def metrics(p: dict[str, Any], log_dir: Path) -> dict[str, Any]:
    specs: dict[str, dict[str, Any]] = {
        "metrics-on": {},
        "metrics-off": {"whatif": ("--no-metrics",)},
    }
    out: dict[str, Any] = {}
    for label, subscribers, changes in (
        ("latency", 1, p["saves"]),
        ("fanout", p["subscribers"], p["broadcasts"]),
    ):
        with (
            tempfile.TemporaryDirectory(prefix="hotconf-bench-met-") as tmp,
            contextlib.ExitStack() as stack,
        ):
            servers = _servers(Path(tmp), log_dir, specs, stack)
            out[label] = interleaved(
                {name: System(s, saver(root)) for name, (s, root) in servers.items()},
                subscribers,
                changes,
                log_dir,
            )
    return out
