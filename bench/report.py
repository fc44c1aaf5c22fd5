"""Turn a results dict into the headline (ratios, targets), a Markdown table and PNG plots.

The targets of docs/benchmarks.md are reported against here, never asserted: a miss is
printed as MISS with the numbers, so a reader can see by how much.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .stats import ratio

KIB = 1024


def _fmt(x: float, digits: int = 1) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _summary_row(label: str, s: dict[str, Any]) -> str:
    return (
        f"| {label} | {s['n']} | {_fmt(s['p50'], 2)} | {_fmt(s['p95'], 2)} | "
        f"{_fmt(s['p99'], 2)} | {_fmt(s['max'], 2)} |"
    )


def _size(results: dict[str, Any], system: str, n: int) -> dict[str, Any] | None:
    entries: list[dict[str, Any]] = results.get("fanout", {}).get(system, [])
    return next((e for e in entries if e["subscribers"] == n), None)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each issue-7 target that this run has the data for: what, measured, bound, met."""
    out: list[dict[str, Any]] = []
    lat = results.get("latency", {})

    def add(what: str, measured: float, bound: float, unit: str) -> None:
        met = not math.isnan(measured) and measured <= bound
        out.append({"target": what, "measured": measured, "bound": bound, "unit": unit, "met": met})

    if "ours-0" in lat and "floor" in lat:
        add(
            "latency p99 at quiet window 0 ≤ floor p99 + 5 ms",
            lat["ours-0"]["summary"]["p99"],
            lat["floor"]["summary"]["p99"] + 5,
            "ms",
        )
    if "ours-100" in lat and "ours-500" in lat:
        add(
            "default (100 ms) p50 ≥ 5x faster than 500 ms: p50(100)·5 ≤ p50(500)",
            lat["ours-100"]["summary"]["p50"] * 5,
            lat["ours-500"]["summary"]["p50"],
            "ms",
        )
    fan = results.get("fanout", {})
    if fan.get("ours"):
        biggest = max(e["subscribers"] for e in fan["ours"])
        ours = _size(results, "ours", biggest)
        peer = _size(results, "peer", biggest)
        assert ours is not None
        add(
            f"fan-out to {biggest:,}: per-subscriber p99 ≤ 250 ms",
            ours["per_subscriber_ms"]["p99"],
            250,
            "ms",
        )
        if peer is not None:
            add(
                f"fan-out to {biggest:,}: p99 ours / peer ≤ 1.0",
                ratio(ours["per_subscriber_ms"]["p99"], peer["per_subscriber_ms"]["p99"]),
                1.0,
                "x",
            )
        add(
            f"RSS per idle connection ({biggest:,}) ≤ 16 KiB",
            ours["rss_per_connection_bytes"] / KIB,
            16,
            "KiB",
        )
    sizes = results.get("scale", {}).get("sizes", [])
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        add(
            f"one-change p50 at {large['tenants']:,} tenants ≤ 1.2x that at {small['tenants']:,}",
            ratio(large["one_change_ms"]["p50"], small["one_change_ms"]["p50"]),
            1.2,
            "x",
        )
    return out


def headline(results: dict[str, Any]) -> list[str]:
    """Ratios first (ours / peer, ours - floor), then each target as met / MISS."""
    lines: list[str] = []
    lat = results.get("latency", {})
    if "ours-0" in lat:
        o = lat["ours-0"]["summary"]
        if "peer" in lat:
            p = lat["peer"]["summary"]
            lines.append(
                f"latency ours(0 ms)/websockets-peer: p50 {ratio(o['p50'], p['p50']):.2f}x"
                f", p99 {ratio(o['p99'], p['p99']):.2f}x"
            )
        if "floor" in lat:
            f = lat["floor"]["summary"]
            lines.append(
                f"latency ours(0 ms) - floor: p50 {o['p50'] - f['p50']:+.2f} ms, "
                f"p99 {o['p99'] - f['p99']:+.2f} ms"
            )
        if "poll" in lat:
            lines.append(
                f"latency naive-poll/ours(0 ms): p50 "
                f"{ratio(lat['poll']['summary']['p50'], o['p50']):.0f}x"
            )
    for entry in results.get("fanout", {}).get("ours", []):
        n = entry["subscribers"]
        peer = _size(results, "peer", n)
        if peer is None:
            continue
        lines.append(
            f"fan-out {n:,} ours/peer: all-have-it p50 "
            f"{ratio(entry['all_have_it_ms']['p50'], peer['all_have_it_ms']['p50']):.2f}x, "
            f"per-sub p99 "
            f"{ratio(entry['per_subscriber_ms']['p99'], peer['per_subscriber_ms']['p99']):.2f}x"
            f", CPU/broadcast "
            f"{ratio(entry['cpu_ms_per_broadcast'], peer['cpu_ms_per_broadcast']):.2f}x, "
            f"RSS/conn "
            f"{ratio(entry['rss_per_connection_bytes'], peer['rss_per_connection_bytes']):.2f}x"
        )
    for t in targets(results):
        lines.append(
            f"[{'met' if t['met'] else 'MISS'}] {t['target']}: "
            f"{_fmt(t['measured'], 2)} {t['unit']} (bound {_fmt(t['bound'], 2)})"
        )
    return lines


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables (the same figures as the JSON)."""
    meta = results["meta"]
    md = [f"Mode `{meta['mode']}`, {meta['date']}, {meta['machine']}.", ""]
    lat = results.get("latency", {})
    if lat:
        md += [
            "**Save → subscriber notified** (ms)",
            "",
            "| system | saves | p50 | p95 | p99 | max |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        md += [_summary_row(LABELS.get(name, name), e["summary"]) for name, e in lat.items()]
        md.append("")
    fan = results.get("fanout", {})
    if fan.get("ours"):
        md += [
            "**Fan-out to N subscribers of one tenant** (quiet window 0, heartbeat off)",
            "",
            "| system | N | broadcasts | all have it p50 (ms) | all have it p99 (ms) | "
            "per-sub p50 (ms) | per-sub p99 (ms) | server CPU/broadcast (ms) | "
            "subscribers' CPU/broadcast (ms) | RSS/idle conn (KiB) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name in ("ours", "peer"):
            for e in fan.get(name, []):
                md.append(
                    f"| {LABELS[name]} | {e['subscribers']:,} | {e['broadcasts']} | "
                    f"{_fmt(e['all_have_it_ms']['p50'])} | {_fmt(e['all_have_it_ms']['p99'])} | "
                    f"{_fmt(e['per_subscriber_ms']['p50'])} | "
                    f"{_fmt(e['per_subscriber_ms']['p99'])} | "
                    f"{_fmt(e['cpu_ms_per_broadcast'])} | "
                    f"{_fmt(e.get('client_cpu_ms_per_broadcast', math.nan))} | "
                    f"{_fmt(e['rss_per_connection_bytes'] / KIB, 2)} |"
                )
        md.append("")
    hb = results.get("heartbeat")
    if hb:
        md += [
            f"**Heartbeat cost** ({hb['subscribers']:,} idle connections, 1 s interval, "
            f"{hb['window_s']:.0f} s window): {_fmt(hb['cpu_us_per_connection_per_beat'], 2)}"
            f" µs CPU per connection per beat; at the default 5 s that is "
            f"{_fmt(100 * hb['cpu_share_per_1000_connections_at_5s'], 3)} % of a core per "
            "1,000 connections.",
            "",
        ]
        if "cpu_us_per_connection_per_beat_peer" in hb:
            md += [
                "For scale, the websockets peer with its own keepalive (`ping_interval=1`, a "
                "task per connection): "
                f"{_fmt(hb['cpu_us_per_connection_per_beat_peer'], 2)} µs per connection per "
                "beat.",
                "",
            ]
    scale = results.get("scale", {})
    if scale.get("sizes"):
        md += [
            f"**Tenant scale** (cold load of an almost empty dir: "
            f"{_fmt(scale.get('cold_load_baseline_s', math.nan), 2)} s)",
            "",
            "| tenants | cold load (s) | one change p50 (ms) | one change p99 (ms) | "
            "polling CPU per 1 s interval (ms) |",
            "|---:|---:|---:|---:|---:|",
        ]
        for e in scale["sizes"]:
            md.append(
                f"| {e['tenants']:,} | {_fmt(e['cold_load_s'], 2)} | "
                f"{_fmt(e['one_change_ms']['p50'], 2)} | "
                f"{_fmt(e['one_change_ms']['p99'], 2)} | "
                f"{_fmt(e['polling_cpu_ms_per_interval'], 1)} |"
            )
        md.append("")
    kern = results.get("kernel")
    if kern:
        md += [
            "**Kernel** (save → in a real ipykernel; ms)",
            "",
            "| path | n | p50 | p95 | p99 | max |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        md += [_summary_row(n, s) for n, s in kern.items() if isinstance(s, dict) and "p50" in s]
        md.append("")
    md += [
        f"**Section `{name}` failed**: {error}" for name, error in results.get("errors", {}).items()
    ]
    md += ["**Headline**", "", *(f"- {line}" for line in headline(results)), ""]
    return "\n".join(md)


LABELS = {
    "floor": "floor: raw watchdog callback, same process",
    "peer": "peer: websockets.broadcast() server",
    "poll": "naive polling, 1 s",
    "ours-0": "jupyter-hotconf, quiet window 0",
    "ours-100": "jupyter-hotconf, default 100 ms",
    "ours-500": "jupyter-hotconf, 500 ms (seed)",
    "ours": "jupyter-hotconf",
}


def plots(results: dict[str, Any], out_dir: Path, stem: str) -> list[Path]:
    """PNG plots next to the JSON; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []
    lat = results.get("latency", {})
    if lat:
        fig, ax = plt.subplots(figsize=(8, 4))
        names = list(lat)
        ax.boxplot(
            [lat[n]["samples_ms"] for n in names], vert=False, whis=(1, 99), showfliers=False
        )
        ax.set_yticks(range(1, len(names) + 1), [LABELS.get(n, n) for n in names], fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("save → notified (ms, log; whiskers p1-p99)")
        fig.tight_layout()
        written.append(_save(fig, out_dir / f"{stem}-latency.png"))
    fan = results.get("fanout", {})
    if fan.get("ours"):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
        for color, name in enumerate(n for n in ("ours", "peer") if fan.get(n)):
            xs = [e["subscribers"] for e in fan[name]]
            style = {"color": f"C{color}"}
            a1.plot(
                xs,
                [e["per_subscriber_ms"]["p99"] for e in fan[name]],
                "o-",
                label=f"{LABELS[name]}: per-subscriber p99",
                **style,
            )
            a1.plot(
                xs,
                [e["all_have_it_ms"]["p50"] for e in fan[name]],
                "s--",
                label=f"{LABELS[name]}: all have it, p50",
                **style,
            )
            a2.plot(
                xs,
                [e["rss_per_connection_bytes"] / KIB for e in fan[name]],
                "o-",
                label=LABELS[name],
                **style,
            )
        a2.set_ylim(bottom=0)
        a1.axhline(250, color="grey", lw=0.8, ls=":")
        a1.set_xlabel("subscribers")
        a1.set_ylabel("ms")
        a1.legend(fontsize=6)
        a2.axhline(16, color="grey", lw=0.8, ls=":")
        a2.set_xlabel("subscribers")
        a2.set_ylabel("KiB RSS per idle connection")
        a2.legend(fontsize=6)
        fig.tight_layout()
        written.append(_save(fig, out_dir / f"{stem}-fanout.png"))
    sizes = results.get("scale", {}).get("sizes", [])
    if sizes:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
        xs = [e["tenants"] for e in sizes]
        a1.plot(xs, [e["one_change_ms"]["p50"] for e in sizes], "o-", label="one change p50")
        a1.plot(xs, [e["one_change_ms"]["p99"] for e in sizes], "s--", label="one change p99")
        a1.set_xscale("log")
        a1.set_xlabel("tenant files")
        a1.set_ylabel("ms")
        a1.legend(fontsize=7)
        a2.plot(xs, [e["cold_load_s"] for e in sizes], "o-", label="cold load (s)")
        a2.plot(
            xs,
            [e["polling_cpu_ms_per_interval"] / 1000 for e in sizes],
            "s--",
            label="polling CPU per interval (s)",
        )
        a2.set_xscale("log")
        a2.set_xlabel("tenant files")
        a2.legend(fontsize=7)
        fig.tight_layout()
        written.append(_save(fig, out_dir / f"{stem}-scale.png"))
    return written


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
