"""The benchmark harness runs end to end in its tiny mode against the real server and peers.

It checks the shape and sanity of what ``python -m bench run --tiny`` writes (fields present,
numbers non-negative, percentiles ordered) and that no process it started outlives it. It
never asserts a speed: that is what the benchmark reports, not what a test can promise on a
shared machine.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench_checks import processes_with_env, sane

REPO = Path(__file__).resolve().parents[2]
SECTIONS = "latency,fanout,heartbeat,scale,kernel,history,writeback,metrics,startup"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_tiny_run_writes_sane_results_and_leaves_no_process(tmp_path: Path) -> None:
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}  # every child inherits it: our leak detector
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            "--tiny",
            "--only",
            SECTIONS,
            "--out",
            str(out),
            "--logs",
            str(tmp_path / "logs"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert processes_with_env(f"TMPDIR={tmp}") == []

    results = json.loads((out / "tiny.json").read_text())
    assert "errors" not in results, results["errors"]
    assert results["meta"]["mode"] == "tiny"
    assert set(results["meta"]["section_seconds"]) == set(SECTIONS.split(","))
    assert results["meta"]["fd_limit"] >= 1024

    latency = results["latency"]
    assert set(latency) == {"floor", "peer", "ours-0", "ours-100", "ours-500", "poll"}
    for name, entry in latency.items():
        sane(entry["summary"], f"latency {name}")
        assert len(entry["samples_ms"]) == entry["summary"]["n"]

    for system in ("ours", "peer"):
        (entry,) = results["fanout"][system]
        assert entry["subscribers"] == 20 and entry["lost_connections"] == 0
        sane(entry["all_have_it_ms"], f"fan-out {system} all")
        sane(entry["per_subscriber_ms"], f"fan-out {system} each")
        assert entry["per_subscriber_ms"]["n"] == 20 * entry["broadcasts"]
        # everyone had it only once the last one had it
        assert entry["per_subscriber_ms"]["max"] == pytest.approx(entry["all_have_it_ms"]["max"])
        assert entry["rss_after_bytes"] > 0 and entry["cpu_ms_per_broadcast"] >= 0
        assert entry["client_cpu_ms_per_broadcast"] >= 0

    hb = results["heartbeat"]
    assert hb["cpu_s_on"] >= 0 and hb["cpu_s_off"] >= 0 and hb["lost_on"] == 0
    assert hb["cpu_s_peer_on"] >= 0 and hb["lost_peer_on"] == 0  # websockets' keepalive
    assert math.isfinite(hb["cpu_us_per_connection_per_beat"])
    assert math.isfinite(hb["cpu_us_per_connection_per_beat_peer"])

    (scale,) = results["scale"]["sizes"]
    assert scale["tenants"] == 10 and scale["cold_load_s"] > 0
    sane(scale["one_change_ms"], "scale one change")
    assert scale["polling_cpu_ms_per_interval"] >= 0

    kernel = results["kernel"]
    assert kernel["setup"].endswith("None"), kernel["setup"]  # connected, widget displayed
    sane(kernel["on_change_callback"], "kernel on_change")
    sane(kernel["widget_comm_msg"], "kernel widget comm_msg")
    # the floor is measured on the same saves, one stamp per save
    sane(kernel["floor_watchdog_in_kernel"], "kernel floor")
    assert kernel["floor_watchdog_in_kernel"]["n"] == kernel["on_change_callback"]["n"]

    startup = results["startup"]
    validate = startup["validate"]
    assert validate["tenants"] == 3
    for name in ("ours", "plain-script"):  # both exited 0, every round timed
        samples = validate[name]["samples_s"]
        assert len(samples) == validate["rounds"] and all(s > 0 for s in samples), validate
    assert validate["ratio"] > 0
    load_ext = startup["load_ext"]
    assert len(load_ext["samples_s"]) == load_ext["kernels"] >= 1
    assert all(s > 0 for s in load_ext["samples_s"]), load_ext
    assert "jupyter_hotconf" in load_ext["packages_added"]  # the cell really imported it
    imports = startup["importtime"]
    assert imports["modules"] > 0 and imports["total_ms"] > 0
    assert any(r["module"] == "jupyter_hotconf.kernel.magics" for r in imports["top_cumulative"])

    hist = results["history"]
    for name in ("history-on", "history-off"):
        sane(hist["latency"][name]["all_have_it_ms"], f"history latency {name}")
    cold = hist["cold_load"]
    assert cold["tenants"] == 10
    for name in ("history-on", "history-off", "plain-script"):
        assert all(s > 0 for s in cold[name]["samples_s"]), (name, cold[name])
    assert cold["plain-script"]["load_only_median_s"] >= 0
    for name in ("save", "patch"):  # PATCH → subscribers beside save → subscribers
        entry = results["writeback"][name]
        assert entry["lost_connections"] == 0
        sane(entry["all_have_it_ms"], f"write-back {name}")
        assert entry["per_subscriber_ms"]["n"] == 5 * entry["changes"]
    for part in ("latency", "fanout"):
        for name in ("metrics-on", "metrics-off"):
            entry = results["metrics"][part][name]
            sane(entry["per_subscriber_ms"], f"metrics {part} {name}")
            assert entry["cpu_ms_per_change"] >= 0
    names = {t["target"].split(":")[0] for t in results["targets"]}
    assert {"history on", "metrics on"} <= names, names
    issue17 = ("validate (3 tenants", "import jupyter_hotconf + %load_ext", "kernel: save")
    for prefix in issue17:  # the startup and kernel targets, reported
        assert any(t["target"].startswith(prefix) for t in results["targets"]), prefix

    assert results["targets"], "no target was reported against"
    for target in results["targets"]:
        assert {"target", "measured", "bound", "unit", "met"} <= set(target)

    table = (out / "tiny.md").read_text()
    assert "Save → subscriber notified" in table and "Fan-out" in table
    assert "Round 2, side by side" in table and "Cold load of 10 tenants" in table
    assert "**Start-up**" in table and "floor_watchdog_in_kernel" in table
    for plot in ("latency", "fanout", "scale"):
        assert (out / f"tiny-{plot}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the headline (ratios first) is what a reader sees
    assert "ours(0 ms)/websockets-peer" in proc.stdout and "ours(0 ms) - floor" in proc.stdout
