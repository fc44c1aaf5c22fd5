"""The Redis-group section of the benchmark (``bench/redis_group.py``) runs end to end in its
tiny mode: a real ``redis-server``, a group of three real servers and a single one.

It checks that both systems of both parts produced figures (fields present, numbers sane,
every subscriber counted), that the report renders them, and that no process it started
outlives it. It never asserts a speed or a ratio's size: that is what the benchmark reports.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bench_checks import processes_with_env, sane

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_tiny_redis_section_measures_group_and_single(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run scripts/setup")
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}  # every child inherits it: our leak detector
    argv = [sys.executable, "-m", "bench", "run", "--tiny", "--only", "redis"]
    argv += ["--out", str(out), "--logs", str(tmp_path / "logs")]
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert processes_with_env(f"TMPDIR={tmp}") == []

    results = json.loads((out / "tiny-round2.json").read_text())  # a round-2 section
    assert "errors" not in results, results["errors"]
    assert set(results["meta"]["section_seconds"]) == {"redis"}
    redis = results["redis"]
    assert redis["group_size"] == 3

    latency = redis["latency"]
    assert set(latency) == {"group", "single"}
    assert latency["group"]["subscribers_on"] == {"follower-1": 1}  # a follower's client
    assert set(latency["group"]["by_server"]) == {"leader", "follower-1", "follower-2"}
    assert latency["group"]["servers"] == 3 and latency["single"]["servers"] == 1
    for name, entry in latency.items():
        assert entry["subscribers"] == 1 and entry["changes"] == 3, (name, entry)
        assert entry["lost_connections"] == 0, name
        sane(entry["all_have_it_ms"], f"latency {name}")
        assert entry["all_have_it_ms"]["n"] == 3
        assert entry["cpu_ms_per_change"] >= 0
    assert latency["group"]["redis_cpu_ms_per_change"] >= 0

    fanout = redis["fanout"]
    assert set(fanout) == {"group", "single"}
    for name, entry in fanout.items():
        assert entry["subscribers"] == 60 and entry["lost_connections"] == 0, (name, entry)
        sane(entry["all_have_it_ms"], f"fan-out {name} all")
        sane(entry["per_subscriber_ms"], f"fan-out {name} each")
        assert entry["per_subscriber_ms"]["n"] == 60 * entry["changes"]
        # everyone had it only once the last one had it
        assert entry["per_subscriber_ms"]["max"] == pytest.approx(entry["all_have_it_ms"]["max"])
        assert entry["cpu_ms_per_change"] >= 0
    group = fanout["group"]
    assert {k: v["subscribers"] for k, v in group["by_server"].items()} == {
        "leader": 20,
        "follower-1": 20,
        "follower-2": 20,
    }
    for label, part in group["by_server"].items():
        sane(part["per_subscriber_ms"], f"fan-out group {label}")

    ratios = redis["ratios"]
    assert all(math.isfinite(v) and v > 0 for v in ratios["latency_follower_over_single"].values())
    fan = ratios["fanout_group_over_single"]
    assert math.isfinite(fan["all_have_it_p50"]) and math.isfinite(fan["all_have_it_p99"])

    table = (out / "tiny-round2.md").read_text()
    assert "Redis group against a single server" in table and "follower-1" in table
    assert "save → client on a follower / on a single server" in proc.stdout
    assert "fan-out 3x20 over 3 servers / 60 on one" in proc.stdout
