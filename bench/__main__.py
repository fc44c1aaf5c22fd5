"""``python -m bench run [--tiny | --quick | --full] [--only SECTIONS] [--out DIR]``,
``python -m bench report RESULTS.json`` to re-render a run's table, plots and headline, and
``python -m bench soak [--ci]`` for the soak, reconnect-storm and dead-link tests at full size.

Runs the sections of docs/benchmarks.md in one process tree, writes ``<out>/<mode>.json``,
``<out>/<mode>.md`` and ``<out>/<mode>-*.png``, prints the headline (ratios and targets), and
with ``--full`` also refreshes the results block of ``docs/benchmarks.md``. Every child
process is started in its own process group and killed on the way out, whatever happens.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import fanout, latency, redis_group, report, round2, scale
from .procs import REPO, raise_fd_limit

log = logging.getLogger("bench")

SECTIONS = (
    "latency",
    "fanout",
    "heartbeat",
    "scale",
    "kernel",
    "history",
    "writeback",
    "metrics",
    "redis",
    "startup",
)
#: the round-2 sections (bench/round2.py, redis: bench/redis_group.py); ``--only`` them to
#: refresh their block alone
ROUND2 = ("history", "writeback", "metrics", "redis")

#: per mode: saves per latency system, fan-out sizes and broadcasts, scale sizes and saves,
#: heartbeat subscribers and window, kernel saves. ``quick`` keeps a run to a few minutes on
#: a shared 2-core machine: fewer saves at 500 ms and for naive polling, no 10,000 sizes.
PLANS: dict[str, dict[str, Any]] = {
    "tiny": {
        "latency": {"floor": 5, "peer": 5, "ours-0": 5, "ours-100": 5, "ours-500": 3, "poll": 2},
        "fanout": {"sizes": [20], "broadcasts": 3},
        "heartbeat": {"subscribers": 20, "window_s": 2.0},
        "scale": {"sizes": [10], "saves": 3, "poll_window_s": 2.0},
        "kernel": {"saves": 3},
        "history": {"saves": 3, "cold_tenants": 10, "cold_rounds": 1},
        "writeback": {"subscribers": 5, "changes": 3},
        "metrics": {"saves": 3, "subscribers": 20, "broadcasts": 3},
        "redis": {"saves": 3, "subscribers": 20, "broadcasts": 3},
        "startup": {"tenants": 3, "validate_rounds": 2, "kernels": 1, "importtime_rounds": 1},
    },
    "quick": {
        "latency": {
            "floor": 200,
            "peer": 200,
            "ours-0": 200,
            "ours-100": 200,
            "ours-500": 40,
            "poll": 20,
        },
        "fanout": {"sizes": [1000, 5000], "broadcasts": 10},
        "heartbeat": {"subscribers": 1000, "window_s": 5.0},
        "scale": {"sizes": [10, 1000], "saves": 20, "poll_window_s": 5.0},
        "kernel": {"saves": 20},
        "history": {"saves": 100, "cold_tenants": 2000, "cold_rounds": 1},
        "writeback": {"subscribers": 100, "changes": 30},
        "metrics": {"saves": 100, "subscribers": 1000, "broadcasts": 20},
        "redis": {"saves": 100, "subscribers": 300, "broadcasts": 20},
        "startup": {"tenants": 3, "validate_rounds": 10, "kernels": 3, "importtime_rounds": 3},
    },
    "full": {
        "latency": {
            "floor": 300,
            "peer": 300,
            "ours-0": 300,
            "ours-100": 300,
            "ours-500": 200,
            "poll": 60,
        },
        "fanout": {"sizes": [1000, 5000, 10000], "broadcasts": 20},
        "heartbeat": {"subscribers": 5000, "window_s": 10.0},
        "scale": {"sizes": [10, 1000, 10000], "saves": 50, "poll_window_s": 10.0},
        "kernel": {"saves": 50},
        "history": {"saves": 300, "cold_tenants": 10000, "cold_rounds": 5},
        "writeback": {"subscribers": 1000, "changes": 50},
        "metrics": {"saves": 300, "subscribers": 1000, "broadcasts": 60},
        "redis": {"saves": 300, "subscribers": 1000, "broadcasts": 60},
        "startup": {"tenants": 3, "validate_rounds": 20, "kernels": 5, "importtime_rounds": 3},
    },
}
DOC = REPO / "docs" / "benchmarks.md"
README = REPO / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
#: a run of the round-2 sections alone is written as ``<mode>-round2.*`` into its own block
ROUND2_BEGIN, ROUND2_END = "<!-- round2-results:begin -->", "<!-- round2-results:end -->"
HEADLINE_BEGIN, HEADLINE_END = "<!-- bench-headline:begin -->", "<!-- bench-headline:end -->"


def stem_for(mode: str, only: list[str]) -> str:
    return f"{mode}-round2" if only and set(only) <= set(ROUND2) else mode


def _replace_block(path: Path, begin: str, end: str, body: str) -> bool:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin not in text or end not in text:
        return False
    block = f"{begin}\n{body}\n{end}"
    path.write_text(
        re.sub(f"{re.escape(begin)}.*?{re.escape(end)}", lambda _: block, text, flags=re.S),
        encoding="utf-8",
    )
    return True


def readme_headline(out_dir: Path) -> bool:
    """Regenerate the README's headline table from ``full.json`` and, for the round-2
    rows, ``full-round2.json`` when it is there (a later run of those sections alone)."""
    full = out_dir / "full.json"
    if not full.exists():
        return False
    results = json.loads(full.read_text(encoding="utf-8"))
    extra = out_dir / "full-round2.json"
    if extra.exists():
        later = json.loads(extra.read_text(encoding="utf-8"))
        results.update({k: later[k] for k in ROUND2 if k in later})
    return _replace_block(README, HEADLINE_BEGIN, HEADLINE_END, report.readme_table(results))


def run(mode: str, only: list[str], out_dir: Path, log_dir: Path) -> dict[str, Any]:
    plan = PLANS[mode]
    fds = raise_fd_limit()
    results: dict[str, Any] = {
        "meta": {
            "mode": mode,
            "stem": stem_for(mode, only),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores "
            f"shared with other jobs, Python {platform.python_version()}",
            "fd_limit": fds,
            "plan": {k: plan[k] for k in only},
        }
    }
    timings: dict[str, float] = {}
    for section in only:
        start = time.monotonic()
        log.info("== %s", section)
        try:
            results[section] = run_section(section, plan[section], log_dir)
        except Exception as err:  # one broken section must not lose the others' figures
            log.exception("section %s failed", section)
            results.setdefault("errors", {})[section] = f"{type(err).__name__}: {err}"
        timings[section] = round(time.monotonic() - start, 1)
        results["meta"]["section_seconds"] = timings
        write(results, out_dir, update_doc=False)  # a checkpoint after every section
    results["targets"] = report.targets(results)
    return results


def run_section(section: str, p: dict[str, Any], log_dir: Path) -> Any:
    """One section's results (the figures of docs/benchmarks.md it covers)."""
    if section == "latency":
        return latency.run(p, log_dir)
    if section == "fanout":
        return fanout.run(p["sizes"], p["broadcasts"], log_dir)
    if section == "heartbeat":
        return fanout.heartbeat_cost(p["subscribers"], p["window_s"], log_dir)
    if section == "scale":
        return scale.run(p["sizes"], p["saves"], p["poll_window_s"], log_dir)
    if section == "redis":
        return redis_group.redis(p, log_dir)
    if section in ROUND2:
        return getattr(round2, section)(p, log_dir)
    if section == "startup":
        from . import startup  # imports jupyter_client only when asked for

        return startup.run(p, log_dir)
    from . import kernel  # imports jupyter_client only when asked for

    return kernel.run(p["saves"], log_dir)


def write(results: dict[str, Any], out_dir: Path, update_doc: bool) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = results["meta"].get("stem", results["meta"]["mode"])
    json_path = out_dir / f"{stem}.json"
    json_path.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    md = report.markdown(results)
    md_path = out_dir / f"{stem}.md"
    md_path.write_text(md, encoding="utf-8")
    written = [json_path, md_path, *report.plots(results, out_dir, stem)]
    if update_doc:
        begin, end = (ROUND2_BEGIN, ROUND2_END) if stem.endswith("-round2") else (BEGIN, END)
        if _replace_block(DOC, begin, end, md):
            written.append(DOC)
        if readme_headline(out_dir):
            written.append(README)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the benchmarks")
    size = r.add_mutually_exclusive_group()
    size.add_argument(
        "--tiny",
        dest="mode",
        action="store_const",
        const="tiny",
        help="seconds: a smoke run (used by tests/bench)",
    )
    size.add_argument(
        "--quick", dest="mode", action="store_const", const="quick", help="a few minutes (default)"
    )
    size.add_argument(
        "--full",
        dest="mode",
        action="store_const",
        const="full",
        help="the full measurement; also refreshes docs/benchmarks.md",
    )
    r.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections (default all: {','.join(SECTIONS)})",
    )
    r.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    r.add_argument(
        "--logs",
        type=Path,
        default=None,
        help="where child process logs go (default: a temp dir, kept on failure)",
    )
    r.add_argument("-v", "--verbose", action="store_true")
    rep = sub.add_parser("report", help="re-render the table, plots and headline of a results JSON")
    rep.add_argument("json", type=Path)
    sub.add_parser(
        "soak",
        add_help=False,
        help="tests/soak at full size (soak, reconnect storm, dead links) with figures; "
        "see python -m bench soak --help",
    )
    if (argv if argv is not None else sys.argv[1:])[:1] == ["soak"]:
        from . import soak

        return soak.main((argv if argv is not None else sys.argv[1:])[1:])
    args = parser.parse_args(argv)
    if args.command == "report":
        results = json.loads(args.json.read_text(encoding="utf-8"))
        results["targets"] = report.targets(results)
        written = write(results, args.json.parent, update_doc=results["meta"]["mode"] == "full")
        print("\n".join(report.headline(results)))
        print("wrote " + ", ".join(str(p) for p in written))
        return 0
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    log.setLevel(logging.INFO)
    logging.getLogger("bench.latency").setLevel(logging.INFO)
    mode = args.mode or "quick"
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    log_dir = args.logs or Path(tempfile.mkdtemp(prefix="hotconf-bench-logs-"))
    try:
        results = run(mode, only, args.out, log_dir)
    except BaseException:
        print(f"benchmark failed; child logs kept in {log_dir}", file=sys.stderr)
        raise
    errors = results.get("errors", {})
    written = write(results, args.out, update_doc=(mode == "full" and not errors))
    print("\n".join(report.headline(results)))
    print("wrote " + ", ".join(str(p) for p in written))
    if errors:
        for section, error in errors.items():
            print(f"section {section} FAILED: {error}", file=sys.stderr)
        print(f"child logs kept in {log_dir}", file=sys.stderr)
        return 1
    if args.logs is None:
        for f in log_dir.iterdir():
            f.unlink()
        log_dir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
