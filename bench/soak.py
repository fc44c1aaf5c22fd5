"""``python -m bench soak [--ci] [--out DIR]``: the soak, reconnect-storm and dead-link tests
of ``tests/soak/`` at full size, with their figures kept (docs/benchmarks.md, "Soak").

The tests are the measurement: they run here exactly as in the test command, only bigger
(``HOTCONF_SOAK=full``: 2,000 clients, 180 s of a change every 200 ms; a 2,000-client
storm), and write what they saw to ``HOTCONF_SOAK_OUT``. This turns that into
``<out>/soak.json``, ``soak.md`` and ``soak-rss.png`` (server RSS and open fds over time),
prints the summary, and exits with the tests' status — a full-size run that breaks a
promise fails like the CI one would.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .procs import PYTHON, REPO, raise_fd_limit

MIB = 2**20


def run_tests(size: str, figures_dir: Path) -> int:
    env = {**os.environ, "HOTCONF_SOAK": size, "HOTCONF_SOAK_OUT": str(figures_dir)}
    argv = [PYTHON, "-m", "pytest", "tests/soak", "-q", "-s", "-p", "no:cacheprovider",
            "-o", "timeout=1800"]
    return subprocess.run(argv, cwd=REPO, env=env, check=False).returncode


def load(figures_dir: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in ("soak", "storm"):
        path = figures_dir / f"{name}.json"
        if path.exists():
            found[name] = json.loads(path.read_text(encoding="utf-8"))
    return found


def markdown(results: dict[str, Any]) -> str:
    meta, soak, storm = results["meta"], results.get("soak"), results.get("storm")
    lines = [f"Soak run of {meta['date']} ({meta['size']} size; {meta['machine']}).", ""]
    if soak:
        lines += [
            "| soak | value |", "|---|---|",
            f"| clients (protocol=2, include=config) | {soak['clients']:,} |",
            f"| changes (one every {soak['change_every_s'] * 1000:.0f} ms) | "
            f"{soak['changes']:,} (revisions {soak['revisions'][0]} → {soak['revisions'][1]}) |",
            f"| deliveries | {soak['deliveries']:,} ({soak['per_client'][0]}.."
            f"{soak['per_client'][1]} per client, none missed, none closed) |",
            f"| all connected after | {soak['connected_s']:.1f} s |",
            f"| server RSS at warm-up ({soak['warm_at_s']:.0f} s) → peak → end | "
            f"{soak['rss_warm'] / MIB:.1f} → {soak['rss_peak'] / MIB:.1f} → "
            f"{soak['rss_end'] / MIB:.1f} MiB (peak/warm-up "
            f"{soak['rss_peak'] / soak['rss_warm']:.3f}) |",
            f"| server open fds at the end | {soak['samples'][-1]['fds']:.0f} |", "",
        ]
    if storm:
        lines += [
            "| reconnect storm | value |", "|---|---|",
            f"| clients (kernel Backoff, full jitter) | {storm['clients']:,} |",
            f"| restart (stop → health answers) | {storm['restart_s']:.2f} s |",
            f"| last client back after the restart | {storm['storm_s']:.2f} s |",
            f"| reconnect attempts in all (one success per client, the rest while the server "
            f"was down) | {storm['attempts']:,} (at most {storm['max_failed_before_back']} "
            "failed per client, none after the restart) |",
            f"| longest handshake / longest backoff delay | {storm['max_handshake_s']:.2f} s / "
            f"{storm['max_delay_s']:.2f} s |",
            f"| largest gap between Pings of early-back clients (interval "
            f"{storm['heartbeat_s']:g} s) | {storm['max_ping_gap_s']:.2f} s "
            f"({storm['ping_gaps']} gaps) |", "",
        ]
    lines.append(f"Tests: {'passed' if meta['exit_code'] == 0 else 'FAILED'}.")
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> Path | None:
    soak = results.get("soak")
    if not soak:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = soak["samples"]
    ts = [s["t"] for s in samples]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(ts, [s["rss"] / MIB for s in samples], color="C0", label="server RSS (MiB)")
    ax.set_xlabel("seconds since the first client connected")
    ax.set_ylabel("MiB")
    ax.set_ylim(0, 2.15 * soak["rss_warm"] / MIB)  # the bound in view: the line is flat
    ax.axvline(soak["connected_s"], color="grey", lw=0.8, ls=":")
    ax.axvline(soak["warm_at_s"], color="grey", lw=0.8, ls="--")
    ax.axhline(2 * soak["rss_warm"] / MIB, color="C3", lw=0.8, ls=":",
               label="bound: 2x warm-up RSS")
    fds = ax.twinx()
    fds.plot(ts, [s["fds"] for s in samples], color="C1", lw=0.8, label="server open fds")
    fds.set_ylabel("open fds")
    fds.set_ylim(0, 1.6 * max(s["fds"] for s in samples))  # apart from the RSS bound
    handles = ax.get_legend_handles_labels()[0] + fds.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    ax.set_title(f"{soak['clients']:,} clients, a change every "
                 f"{soak['change_every_s'] * 1000:.0f} ms (dotted: all connected; "
                 "dashed: warm-up)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def render(results: dict[str, Any], out: Path, stem: str) -> list[Path]:
    """Write ``<stem>.json``, ``<stem>.md`` and ``<stem>-rss.png`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"{stem}.json"
    json_path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    md_path = out / f"{stem}.md"
    md_path.write_text(markdown(results), encoding="utf-8")
    png = plot(results, out / f"{stem}-rss.png")
    return [json_path, md_path, *([png] if png else [])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__)
    parser.add_argument("--ci", dest="size", action="store_const", const="ci", default="full",
                        help="the test command's size (1,000 clients, 30 s) instead of full")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args(argv)
    raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="hotconf-soak-") as tmp:
        code = run_tests(args.size, Path(tmp))
        results = load(Path(tmp))
    results["meta"] = {
        "size": args.size, "exit_code": code,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores "
        f"shared with other jobs, Python {platform.python_version()}",
    }
    written = render(results, args.out, "soak" if args.size == "full" else "soak-ci")
    print(markdown(results))
    print("wrote " + ", ".join(str(p) for p in written))
    return code


if __name__ == "__main__":
    sys.exit(main())
