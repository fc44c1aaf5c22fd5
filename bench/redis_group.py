"""A Redis group priced against a single server (docs/scale-out.md, docs/benchmarks.md).

One ``redis-server`` (a free port, persistence off, killed on the way out), a group of three
``jupyter-hotconf serve`` on ONE config dir (``--broker-url``: one leader watches and
publishes, the two followers relay to their own clients), and a single server without a
broker on a config dir of its own. Every server is started as ``start_ours`` starts them
(quiet window 0, heartbeat off, limits lifted). Measurements begin once every group server
says it is connected and exactly one leads (``GET /hotconf/api/info``).

- ``latency``: one subscriber on a FOLLOWER of the group against one on the single server;
  each round saves the group's ``acme`` file and the single server's, the two taking turns
  (which goes first alternates). Save → that subscriber has it: p50/p95/p99 and the ratio.
- ``fanout``: N subscribers on each of the three group servers against 3·N on the single
  server (in three client processes, as the group's, so the clients have the same cores);
  per broadcast the time until all 3·N have it, each subscriber's latency, and the server
  CPU (summed over the three for the group; Redis's own CPU reported beside it).

Both systems run at the same time, so a burst of load from other jobs on the shared machine
hits both alike; the figures that matter are the ratios group / single within the run.
Every group server, the leader included, delivers from the Redis stream (XREAD), so a
follower's subscriber pays one hop more than a single server's: leader's publish script →
Redis → the follower's blocked XREAD.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_hotconf.pytest_plugin import free_port

from .procs import Spawned, cpu_seconds
from .round2 import saver
from .stats import ratio, summarize
from .swarm import Swarm
from .systems import Server, make_config_dir, start_ours

log = logging.getLogger(__name__)

X = "\u00d7"
GROUP_SIZE = 3
#: The default lease: measured as deployed (docs/scale-out.md), renewed every third of it.
LEASE_MS = 5000
#: How long the group may take to elect its leader and connect every server.
JOIN_TIMEOUT_S = 60.0


def start_redis(workdir: Path, log_dir: Path, timeout: float = 30.0) -> tuple[Spawned, str]:
    """A ``redis-server`` of our own on a free 127.0.0.1 port, no persistence; ready once it
    answers PING. Returns the process (``close()`` kills it) and its URL."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    argv += ["--appendonly", "no", "--dir", str(workdir)]
    proc = Spawned(f"redis-{port}", argv, log_dir)
    try:
        deadline = time.monotonic() + timeout
        while not _pong(port):
            proc.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"redis-server on {port} silent for {timeout}s\n{proc.tail()}")
            time.sleep(0.02)  # paces the probe; the wait itself is for the answer
    except BaseException:
        proc.close()
        raise
    return proc, f"redis://127.0.0.1:{port}/0"


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def wait_group(servers: list[Server], timeout: float = JOIN_TIMEOUT_S) -> dict[str, Server]:
    """Once every server is connected to Redis and exactly one leads: ``{"leader": …,
    "follower-1": …, "follower-2": …}`` (each renamed so its client logs are its own)."""
    deadline = time.monotonic() + timeout
    states: list[dict[str, Any]] = []
    while True:
        for server in servers:
            server.proc.check_alive()
        states = [s.get_json("hotconf/api/info")["broker"] for s in servers]
        leading = [s for s, b in zip(servers, states, strict=True) if b["role"] == "leader"]
        if all(b["kind"] == "redis" and b["connected"] for b in states) and len(leading) == 1:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"no settled group of {len(servers)} within {timeout}s: {states}")
        time.sleep(0.05)  # paces the probe; the wait itself is for the condition
    followers = [s for s in servers if s is not leading[0]]
    roles = {"leader": leading[0], **{f"follower-{i}": s for i, s in enumerate(followers, 1)}}
    return {role: dataclasses.replace(s, name=f"ours-{role}") for role, s in roles.items()}


@dataclass
class Side:
    """One system under test: how to make its k-th change (returns the start stamp, ns), and
    per server (label → (its pid, the client processes subscribed to it))."""

    change: Callable[[int], int]
    servers: dict[str, tuple[int, list[Swarm]]]
    redis_pid: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _swarms(
    server: Server, n: int, parts: int, log_dir: Path, stack: contextlib.ExitStack, tag: str
) -> list[Swarm]:
    """``n`` subscribers to ``server`` in ``parts`` client processes, closed with ``stack``."""
    swarms = []
    for i in range(parts):
        share = n // parts + (1 if i < n % parts else 0)
        swarm = Swarm(f"swarm-{tag}-{server.name}-{n}-{i}", server.ws_uri(), share, log_dir)
        stack.callback(swarm.close)
        swarms.append(swarm)
    for swarm in swarms:
        swarm.wait_ready(timeout=120 + n / 20)
    return swarms


def taking_turns(sides: dict[str, Side], changes: int) -> dict[str, Any]:
    """``changes`` rounds of one change per side, the order flipped every round. Per side:
    time until all its subscribers have it, each one's latency (also per server), server CPU
    per change (summed; per server; Redis's apart)."""
    names = list(sides)
    subscribers = {
        n: sum(sw.n for _, sws in s.servers.values() for sw in sws) for n, s in sides.items()
    }
    all_ms: dict[str, list[float]] = {n: [] for n in names}
    each_ms: dict[str, dict[str, list[float]]] = {
        n: {label: [] for label in s.servers} for n, s in sides.items()
    }
    cpu: dict[str, dict[str, float]] = {
        n: {label: 0.0 for label in s.servers} for n, s in sides.items()
    }
    redis_cpu: dict[str, float] = {n: 0.0 for n in names}
    for k in range(1, changes + 1):
        for name in names if k % 2 else reversed(names):
            side = sides[name]
            cpu0 = {label: cpu_seconds(pid) for label, (pid, _) in side.servers.items()}
            redis0 = cpu_seconds(side.redis_pid) if side.redis_pid else 0.0
            t0 = side.change(k)
            last = t0
            for label, (_, swarms) in side.servers.items():
                for swarm in swarms:
                    stamps = swarm.wait_change(k, timeout=60 + subscribers[name] / 100)
                    each_ms[name][label].extend((s - t0) / 1e6 for s in stamps)
                    last = max(last, *stamps)
            for label, (pid, _) in side.servers.items():
                cpu[name][label] += cpu_seconds(pid) - cpu0[label]
            if side.redis_pid:
                redis_cpu[name] += cpu_seconds(side.redis_pid) - redis0
            all_ms[name].append((last - t0) / 1e6)
    out: dict[str, Any] = {}
    for name, side in sides.items():
        by_server = {
            label: {
                "subscribers": sum(sw.n for sw in swarms),
                "per_subscriber_ms": summarize(each_ms[name][label]),
                "cpu_ms_per_change": cpu[name][label] * 1000 / changes,
            }
            for label, (_, swarms) in side.servers.items()
        }
        out[name] = {
            **side.extra,
            "servers": len(side.servers),
            "subscribers": subscribers[name],
            "changes": changes,
            "all_have_it_ms": summarize(all_ms[name]),
            "per_subscriber_ms": summarize([x for v in each_ms[name].values() for x in v]),
            "cpu_ms_per_change": sum(cpu[name].values()) * 1000 / changes,
            "by_server": by_server,
            "lost_connections": sum(sw.lost for _, sws in side.servers.values() for sw in sws),
        }
        if side.redis_pid:
            out[name]["redis_cpu_ms_per_change"] = redis_cpu[name] * 1000 / changes
        log.info("redis: %s all have it %s", name, out[name]["all_have_it_ms"])
    return out


def _part(label: str, n: int, changes: int, log_dir: Path) -> dict[str, Any]:
    """One comparison on fresh processes: ``n`` = 0 → the latency part (one subscriber on
    follower-1, one on the single server); else N per group server against 3·N on one."""
    with (
        tempfile.TemporaryDirectory(prefix="hotconf-bench-redis-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        redis_proc, url = start_redis(Path(tmp), log_dir)
        stack.callback(redis_proc.close)
        group_root = make_config_dir(Path(tmp) / "group")
        started = []
        for i in range(GROUP_SIZE):
            server = start_ours(
                group_root,
                log_dir,
                tag=f"-group{i}-{label}",
                extra=("--broker-url", url, "--leader-lease-ms", str(LEASE_MS)),
            )
            stack.callback(server.close)
            started.append(server)
        group = wait_group(started)
        single_root = make_config_dir(Path(tmp) / "single")
        single = dataclasses.replace(
            start_ours(single_root, log_dir, tag=f"-single-{label}"), name="ours-single"
        )
        stack.callback(single.close)
        if n == 0:
            on = {"follower-1": 1}
            single_swarms = _swarms(single, 1, 1, log_dir, stack, label)
        else:
            on = {role: n for role in group}
            single_swarms = _swarms(single, n * GROUP_SIZE, GROUP_SIZE, log_dir, stack, label)
        sides = {
            "group": Side(
                saver(group_root),
                {
                    role: (
                        s.proc.pid,
                        _swarms(s, on[role], 1, log_dir, stack, label) if role in on else [],
                    )
                    for role, s in group.items()
                },
                redis_pid=redis_proc.pid,
                extra={"subscribers_on": on},
            ),
            "single": Side(saver(single_root), {"single": (single.proc.pid, single_swarms)}),
        }
        return taking_turns(sides, changes)


def redis(p: dict[str, Any], log_dir: Path) -> dict[str, Any]:
    """The section: latency (follower vs single) and fan-out (3 x N vs 3·N), with ratios."""
    latency = _part("lat", 0, p["saves"], log_dir)
    fanout = _part("fan", p["subscribers"], p["broadcasts"], log_dir)
    fol, one = latency["group"]["all_have_it_ms"], latency["single"]["all_have_it_ms"]
    g, s = fanout["group"], fanout["single"]
    return {
        "group_size": GROUP_SIZE,
        "latency": latency,
        "fanout": fanout,
        "ratios": {
            "latency_follower_over_single": {
                q: ratio(fol[q], one[q]) for q in ("p50", "p95", "p99")
            },
            "fanout_group_over_single": {
                "all_have_it_p50": ratio(g["all_have_it_ms"]["p50"], s["all_have_it_ms"]["p50"]),
                "all_have_it_p99": ratio(g["all_have_it_ms"]["p99"], s["all_have_it_ms"]["p99"]),
                "per_subscriber_p99": ratio(
                    g["per_subscriber_ms"]["p99"], s["per_subscriber_ms"]["p99"]
                ),
                "cpu_per_broadcast": ratio(g["cpu_ms_per_change"], s["cpu_ms_per_change"]),
                "cpu_per_broadcast_with_redis": ratio(
                    g["cpu_ms_per_change"] + g["redis_cpu_ms_per_change"], s["cpu_ms_per_change"]
                ),
            },
        },
    }


# -- report (called from bench/report.py) ---------------------------------------------------


def _f(x: float, digits: int = 2) -> str:
    return "-" if math.isnan(x) else f"{x:.{digits}f}"


def markdown_lines(results: dict[str, Any]) -> list[str]:
    """The section's table: both parts, both systems, with the per-server breakdown."""
    r = results.get("redis")
    if not r:
        return []
    rows = []
    for part, what in (("latency", "save → subscriber"), ("fanout", "fan-out")):
        for name, e in r[part].items():
            system = (
                f"group of {e['servers']} (clients on {', '.join(e['subscribers_on'])})"
                if name == "group"
                else "single server"
            )
            a, each = e["all_have_it_ms"], e["per_subscriber_ms"]
            rows.append(
                f"| {what} | {system} | {e['subscribers']:,} | {e['changes']} | {_f(a['p50'])} | "
                f"{_f(a['p95'])} | {_f(a['p99'])} | {_f(each['p50'])} | {_f(each['p99'])} | "
                f"{_f(e['cpu_ms_per_change'])} | {_f(e.get('redis_cpu_ms_per_change', math.nan))} |"
            )
    fan = r["fanout"]["group"]["by_server"]
    per_server = "; ".join(
        f"{label} per-sub p50 {_f(b['per_subscriber_ms']['p50'])} ms, p99 "
        f"{_f(b['per_subscriber_ms']['p99'])} ms, CPU {_f(b['cpu_ms_per_change'])} ms"
        for label, b in fan.items()
    )
    return [
        "**Redis group against a single server** (quiet window 0, heartbeat off; the two "
        "systems take turns, one change each per round; ms)",
        "",
        "| part | system | subscribers | changes | all have it p50 | p95 | p99 | per-sub p50 "
        "| per-sub p99 | server CPU per change (sum) | Redis CPU per change |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Group fan-out by server: {per_server}.",
        "",
    ]


def headline_lines(results: dict[str, Any]) -> list[str]:
    """Ratios group / single, each with the two figures."""
    r = results.get("redis")
    if not r:
        return []
    fol, one = (r["latency"][k]["all_have_it_ms"] for k in ("group", "single"))
    lat = r["ratios"]["latency_follower_over_single"]
    g, s = r["fanout"]["group"], r["fanout"]["single"]
    fan = r["ratios"]["fanout_group_over_single"]
    n = g["subscribers"] // g["servers"]
    return [
        "redis group: save → client on a follower / on a single server: "
        + ", ".join(
            f"{q} {_f(fol[q])}/{_f(one[q])} ms ({_f(lat[q])}x)" for q in ("p50", "p95", "p99")
        ),
        f"redis group: fan-out {g['servers']}x{n:,} over {g['servers']} servers / "
        f"{s['subscribers']:,} on one: all-have-it p50 {_f(g['all_have_it_ms']['p50'], 1)}/"
        f"{_f(s['all_have_it_ms']['p50'], 1)} ms ({_f(fan['all_have_it_p50'])}x), p99 "
        f"{_f(g['all_have_it_ms']['p99'], 1)}/{_f(s['all_have_it_ms']['p99'], 1)} ms "
        f"({_f(fan['all_have_it_p99'])}x), server CPU/broadcast {_f(g['cpu_ms_per_change'], 1)}"
        f"/{_f(s['cpu_ms_per_change'], 1)} ms ({_f(fan['cpu_per_broadcast'])}x; with Redis's "
        f"{_f(g['redis_cpu_ms_per_change'], 1)} ms {_f(fan['cpu_per_broadcast_with_redis'])}x)",
    ]


def readme_rows(results: dict[str, Any]) -> list[str]:
    """Rows of the README's headline table (measure | jupyter-hotconf | compared | ratio)."""
    r = results.get("redis")
    if not r:
        return []
    fol, one = (r["latency"][k]["all_have_it_ms"] for k in ("group", "single"))
    g, s = r["fanout"]["group"], r["fanout"]["single"]
    fan = r["ratios"]["fanout_group_over_single"]
    n = g["subscribers"] // g["servers"]
    ga, sa = g["all_have_it_ms"], s["all_have_it_ms"]
    return [
        f"| save → client on a follower of a {g['servers']}-server Redis group, p50 / p99 | "
        f"{fol['p50']:.1f} / {fol['p99']:.1f} ms | single server: {one['p50']:.1f} / "
        f"{one['p99']:.1f} ms | {ratio(fol['p50'], one['p50']):.2f}{X} / "
        f"{ratio(fol['p99'], one['p99']):.2f}{X} |",
        f"| fan-out {g['servers']} {X} {n:,} over a Redis group: all have it, p50 / p99 | "
        f"{ga['p50']:.0f} / {ga['p99']:.0f} ms | {s['subscribers']:,} on one server: "
        f"{sa['p50']:.0f} / {sa['p99']:.0f} ms | {fan['all_have_it_p50']:.2f}{X} / "
        f"{fan['all_have_it_p99']:.2f}{X} |",
        f"| the same: server CPU per broadcast (sum of {g['servers']}) | "
        f"{g['cpu_ms_per_change']:.1f} ms (+ Redis {g['redis_cpu_ms_per_change']:.1f} ms) | "
        f"one server {s['cpu_ms_per_change']:.1f} ms | {fan['cpu_per_broadcast']:.2f}{X} |",
    ]
