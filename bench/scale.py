"""Tenant scale — 10, 1,000, 10,000 tenant files in one config dir.

Per size, with our server: cold load (process start → ``GET /health`` answers, the store
loaded; the same with an empty dir is reported as the baseline), the latency of one change
to one tenant (one subscriber, several saves), and, with ``--watcher polling`` at 1 s, the
server's CPU per polling interval while nothing changes (the scan cost).
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from .latency import measure_server
from .procs import cpu_seconds
from .stats import summarize
from .systems import TENANT, make_config_dir, start_ours

log = logging.getLogger(__name__)


def run(sizes: list[int], saves: int, poll_window_s: float, log_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"sizes": []}
    with tempfile.TemporaryDirectory(prefix="hotconf-bench-scale-") as tmp:
        for n in [1, *sizes]:
            root = make_config_dir(Path(tmp) / f"t{n}", tenants=n)
            path = root / "private" / f"{TENANT}.json"
            server = start_ours(root, log_dir, tag=f"-scale{n}")
            try:
                loaded = len(server.get_json("hotconf/api/tenants"))
                if loaded != n:
                    raise RuntimeError(f"server loaded {loaded} tenants of {n}")
                samples = measure_server(server, path, saves, log_dir) if n > 1 else []
            finally:
                server.close()
            if n == 1:
                out["cold_load_baseline_s"] = server.startup_s
                continue
            entry: dict[str, Any] = {"tenants": n, "cold_load_s": server.startup_s}
            entry["one_change_ms"] = summarize(samples)
            polling = start_ours(root, log_dir, watcher="polling", tag=f"-poll{n}")
            try:
                cpu0 = cpu_seconds(polling.proc.pid)
                time.sleep(poll_window_s)  # the measurement window itself
                cpu = cpu_seconds(polling.proc.pid) - cpu0
            finally:
                polling.close()
            entry["polling_cold_load_s"] = polling.startup_s
            entry["polling_cpu_ms_per_interval"] = cpu * 1000 / poll_window_s
            log.info("scale: %s", entry)
            out["sizes"].append(entry)
    return out
