"""Start-up costs a user pays before any change arrives (docs/benchmarks.md).

- ``validate``: wall time of a whole ``jupyter-hotconf validate DIR`` process (start to
  exit) on a small config dir, against a whole plain-script process doing the same check
  (``bench/peers/plain_validate.py``: json + deep merge + one ``jsonschema`` validator).
  The two take turns, in ABBA order round by round, so neither always runs right after the
  other; one untimed run of each comes first (``.pyc`` files, page cache).
- ``load_ext``: what ``import jupyter_hotconf; %load_ext jupyter_hotconf`` adds to a fresh
  ipykernel, timed inside the kernel (``time.perf_counter`` around the two lines of one
  cell), in several fresh kernels; with the modules it pulled in.
- ``importtime``: ``python -X importtime`` of the same imports in a bare interpreter that
  has first imported what a kernel already has (``ipykernel.kernelapp``, ``IPython``), so
  only what we add is listed: the modules costing the most, for docs/benchmarks.md.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .procs import PYTHON, REPO, Spawned
from .systems import make_config_dir

log = logging.getLogger(__name__)
MARK = "HOTCONF-STARTUP"
TIMEOUT_S = 120.0

#: one cell, run in a fresh kernel: the two lines a user types, timed inside the kernel
LOAD_EXT_CELL = """
import json as _json, sys as _sys, time as _time
_before = set(_sys.modules)
_t0 = _time.perf_counter()
import jupyter_hotconf
_t1 = _time.perf_counter()
%load_ext jupyter_hotconf
_t2 = _time.perf_counter()
_new = sorted(set(_sys.modules) - _before)
print({mark!r}, _json.dumps({{
    "import_s": _t1 - _t0, "load_ext_s": _t2 - _t1, "total_s": _t2 - _t0,
    "modules_added": len(_new),
    "packages_added": sorted({{m.split(".")[0] for m in _new}}),
}}), flush=True)
"""

#: what a kernel has imported before its first cell, for the importtime breakdown
KERNEL_PRELUDE = "import ipykernel.kernelapp, ipykernel.ipkernel, IPython"
IMPORTS = "import jupyter_hotconf, jupyter_hotconf.kernel.magics"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _ours_validate(root: Path) -> list[str]:
    script = Path(PYTHON).with_name("jupyter-hotconf")
    if script.exists():  # the console script a user runs
        return [str(script), "validate", str(root)]
    return [PYTHON, "-m", "jupyter_hotconf.cli", "validate", str(root)]


def _plain_validate(root: Path) -> list[str]:
    # by path, not ``-m bench.peers…``: no runpy, no bench package to import first
    return [PYTHON, str(REPO / "bench" / "peers" / "plain_validate.py"), str(root)]


def _timed(name: str, argv: list[str], log_dir: Path) -> float:
    """Seconds from spawning ``argv`` to its exit (whole process); it must exit 0."""
    t0 = time.monotonic()
    proc = Spawned(name, argv, log_dir)
    try:
        code = proc.proc.wait(TIMEOUT_S)
        elapsed = time.monotonic() - t0
    finally:
        proc.close()
    if code != 0:
        raise RuntimeError(f"{name} exited with {code}; log {proc.log_path}:\n{proc.tail()}")
    return elapsed


def validate(tenants: int, rounds: int, log_dir: Path) -> dict[str, Any]:
    systems = {"ours": _ours_validate, "plain-script": _plain_validate}
    samples: dict[str, list[float]] = {name: [] for name in systems}
    with tempfile.TemporaryDirectory(prefix="hotconf-bench-startup-") as tmp:
        root = make_config_dir(Path(tmp) / "cfg", tenants)
        for name, argv in systems.items():  # warm-up, untimed
            _timed(f"validate-{name}-warmup", argv(root), log_dir)
        for k in range(rounds):
            order = list(systems) if k % 2 == 0 else list(reversed(systems))
            for name in order:
                samples[name].append(_timed(f"validate-{name}", systems[name](root), log_dir))
    out: dict[str, Any] = {"tenants": tenants, "rounds": rounds}
    for name, values in samples.items():
        out[name] = {"samples_s": values, "median_s": _median(values)}
    out["ratio"] = out["ours"]["median_s"] / out["plain-script"]["median_s"]
    log.info(
        "startup: validate ours %.3f s, plain %.3f s",
        out["ours"]["median_s"],
        out["plain-script"]["median_s"],
    )
    return out


def _one_kernel(log_dir: Path) -> dict[str, Any]:
    from jupyter_client.manager import KernelManager

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HOTCONF_", "JUPYTER_HOTCONF_", "JPY_"))
    }
    lines: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            lines.extend(msg["content"].get("text", "").splitlines())

    km = KernelManager(kernel_name="python3")
    with tempfile.TemporaryDirectory(prefix="hotconf-bench-loadext-") as tmp:
        try:
            km.start_kernel(cwd=tmp, env=env)
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=TIMEOUT_S)
                reply = kc.execute_interactive(
                    LOAD_EXT_CELL.format(mark=MARK), timeout=TIMEOUT_S, output_hook=hook
                )
            finally:
                kc.stop_channels()
        finally:
            km.shutdown_kernel(now=True)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"%load_ext failed in the kernel: {reply['content']}")
    found = [line for line in lines if line.startswith(MARK)]
    if not found:
        raise RuntimeError(f"no {MARK} line from the kernel; its output: {lines}")
    result: dict[str, Any] = json.loads(found[-1][len(MARK) + 1 :])
    return result


def load_ext(kernels: int, log_dir: Path) -> dict[str, Any]:
    """``import jupyter_hotconf; %load_ext jupyter_hotconf`` in ``kernels`` fresh kernels."""
    runs = [_one_kernel(log_dir) for _ in range(kernels)]
    out: dict[str, Any] = {"kernels": kernels, "runs": runs}
    for key in ("import_s", "load_ext_s", "total_s"):
        out[f"{key[:-2]}_median_s"] = _median([r[key] for r in runs])
    out["samples_s"] = [r["total_s"] for r in runs]
    out["modules_added"] = runs[-1]["modules_added"]
    out["packages_added"] = runs[-1]["packages_added"]
    for r in runs:  # the same list in every kernel: kept once
        del r["packages_added"]
    log.info("startup: %%load_ext adds %.3f s (median of %d)", out["total_median_s"], kernels)
    return out


def parse_importtime(stderr: str) -> list[dict[str, Any]]:
    """``python -X importtime`` lines after the prelude: module, self and cumulative ms,
    and depth (0 = imported by the measured statement itself)."""
    rows: list[dict[str, Any]] = []
    seen_mark = False
    for line in stderr.splitlines():
        if line.strip() == MARK:
            seen_mark = True
            continue
        if not seen_mark or not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line[len("import time:") :].split("|", 2)
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        rows.append(
            {
                "module": name.strip(),
                "self_ms": int(self_us) / 1000,
                "cumulative_ms": int(cum_us) / 1000,
                "depth": depth,
            }
        )
    return rows


def importtime(rounds: int, top: int = 15) -> dict[str, Any]:
    """The run with the median total of ``rounds``: its top modules by own and by
    cumulative time."""
    code = f"{KERNEL_PRELUDE}\nimport sys\nsys.stderr.write({MARK!r} + '\\n')\n{IMPORTS}\n"
    runs: list[list[dict[str, Any]]] = []
    for _ in range(rounds):
        proc = subprocess.run(
            [PYTHON, "-X", "importtime", "-c", code],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            start_new_session=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"importtime run failed: {proc.stderr[-2000:]}")
        runs.append(parse_importtime(proc.stderr))
    totals = [sum(r["self_ms"] for r in rows) for rows in runs]
    rows = runs[sorted(range(len(runs)), key=totals.__getitem__)[len(runs) // 2]]
    return {
        "prelude": KERNEL_PRELUDE,
        "statement": IMPORTS,
        "rounds": rounds,
        "totals_ms": totals,
        "total_ms": sum(r["self_ms"] for r in rows),
        "modules": len(rows),
        "top_self": sorted(rows, key=lambda r: -r["self_ms"])[:top],
        "top_cumulative": sorted(rows, key=lambda r: -r["cumulative_ms"])[:top],
    }


def run(p: dict[str, Any], log_dir: Path) -> dict[str, Any]:
    return {
        "validate": validate(p["tenants"], p["validate_rounds"], log_dir),
        "load_ext": load_ext(p["kernels"], log_dir),
        "importtime": importtime(p["importtime_rounds"]),
    }
