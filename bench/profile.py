"""Profile our server's hot path during fan-out: ``python -m bench.profile [-n 5000] [-b 10]``.

Starts ``jupyter-hotconf serve`` (quiet window 0, heartbeat off, or ``--heartbeat`` to profile
the sweep instead), connects ``n`` subscribers, attaches ``py-spy`` (from PyPI, the
``[bench]`` extra) to the server, does ``b`` broadcasts (or idles through heartbeats), and
writes the collapsed stacks to ``bench/results/profile-<what>-<n>.txt`` (open them in
speedscope.app, or read the printed summary: the functions with the most own samples, and
the ones most often on the stack).
"""

from __future__ import annotations

import argparse
import collections
import logging
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from .fanout import _connect
from .procs import REPO, Spawned, raise_fd_limit
from .systems import HEARTBEAT_OFF_S, TENANT, make_config_dir, save, start_ours

log = logging.getLogger(__name__)


def summarize_stacks(path: Path, top: int = 15) -> str:
    """Own-time and on-stack ('total') sample counts per function from py-spy's raw output,
    for the server's loop thread only (the watcher and observer threads mostly wait)."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or "run_forever" not in stack or "select (selectors" in stack:
            continue  # not the loop thread, or the loop idle in epoll
        count = int(count_s)
        frames = stack.split(";")
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    out = [f"{samples} samples", "", "own time:"]
    out += [f"  {100 * c / samples:5.1f}%  {f}" for f, c in own.most_common(top)]
    out += ["", "on stack:"]
    out += [f"  {100 * c / samples:5.1f}%  {f}" for f, c in total.most_common(top)]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("-n", type=int, default=5000, help="subscribers (default 5000)")
    parser.add_argument("-b", type=int, default=10, help="broadcasts (default 10)")
    parser.add_argument(
        "--heartbeat",
        action="store_true",
        help="profile 10 s of idle heartbeats (1 s interval) instead",
    )
    parser.add_argument(
        "--whatif", default="", help="comma-separated bench.whatif patches, e.g. nodelay"
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    raise_fd_limit()
    what = "heartbeat" if args.heartbeat else "fanout"
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "-whatif" if args.whatif else ""
    stacks = args.out / f"profile-{what}-{args.n}{suffix}.txt"
    with tempfile.TemporaryDirectory(prefix="hotconf-bench-prof-") as tmp:
        logs = Path(tmp) / "logs"
        root = make_config_dir(Path(tmp) / "cfg")
        whatif = tuple(f"--{w.strip()}" for w in args.whatif.split(",") if w.strip())
        beat = 1.0 if args.heartbeat else HEARTBEAT_OFF_S
        server = start_ours(root, logs, whatif=whatif, heartbeat_s=beat)
        swarms = []
        spy = None
        try:
            swarms = _connect(server, args.n, logs)
            spy = Spawned(
                "py-spy",
                [
                    pyspy,
                    "record",
                    "--pid",
                    str(server.proc.pid),
                    "--format",
                    "raw",
                    "--rate",
                    "250",
                    "-o",
                    str(stacks),
                ],
                logs,
            )
            time.sleep(1.0)  # py-spy attaches; nothing to wait on but its first sample
            if args.heartbeat:
                time.sleep(10.0)  # the profiled window
            else:
                for k in range(1, args.b + 1):
                    save(root / "private" / f"{TENANT}.json", {"seq": k})
                    for swarm in swarms:
                        swarm.wait_change(k, timeout=120)
            spy.proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            spy.proc.wait(30)
        finally:
            if spy is not None:
                spy.close()
            for swarm in swarms:
                swarm.close()
            server.close()
    print(f"wrote {stacks}")
    print(summarize_stacks(stacks))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
