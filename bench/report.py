"""Turn a results dict into the headline (ratios, targets), a Markdown table and PNG plots.

The targets of docs/benchmarks.md are reported against here, never asserted: a miss is
printed as MISS with the numbers, so a reader can see by how much.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from . import redis_group
from .stats import ratio

KIB = 1024
X, DASH = "\u00d7", "\u2013"  # the multiplication sign and en dash of the README's table


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
    out += round2_targets(results)
    out += round2_perf_targets(results)
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


def _target(what: str, measured: float, bound: float, unit: str) -> dict[str, Any]:
    met = not math.isnan(measured) and measured <= bound
    return {"target": what, "measured": measured, "bound": bound, "unit": unit, "met": met}


def round2_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The round-2 targets (history, metrics, cold load against the plain script)."""
    out: list[dict[str, Any]] = []
    hist = results.get("history", {})
    lat = hist.get("latency", {})
    if "history-on" in lat and "history-off" in lat:
        off = lat["history-off"]["all_have_it_ms"]["p50"]
        out.append(
            _target(
                "history on: save → subscriber p50 at quiet window 0 ≤ off + 0.5 ms",
                lat["history-on"]["all_have_it_ms"]["p50"],
                off + 0.5,
                "ms",
            )
        )
    cold = hist.get("cold_load", {})
    if cold:
        n = cold["tenants"]
        on, off = cold["history-on"]["median_s"], cold["history-off"]["median_s"]
        out.append(
            _target(
                f"history on: cold load of {n:,} tenants ≤ 1.10x off", ratio(on, off), 1.10, "x"
            )
        )
        out.append(
            _target(
                f"cold load of {n:,} tenants (history on) ≤ 1.0x the plain script",
                ratio(on, cold["plain-script"]["median_s"]),
                1.0,
                "x",
            )
        )
    met = results.get("metrics", {})
    if met.get("fanout"):
        f = met["fanout"]
        out.append(
            _target(
                f"metrics on: server CPU per broadcast to "
                f"{f['metrics-on']['subscribers']:,} ≤ 1.03x off",
                ratio(f["metrics-on"]["cpu_ms_per_change"], f["metrics-off"]["cpu_ms_per_change"]),
                1.03,
                "x",
            )
        )
    if met.get("latency"):
        m = met["latency"]
        off = m["metrics-off"]["all_have_it_ms"]["p50"]
        out.append(
            _target(
                "metrics on: save → subscriber p50 ≤ off + 0.2 ms",
                m["metrics-on"]["all_have_it_ms"]["p50"],
                off + 0.2,
                "ms",
            )
        )
    return out


#: round-2 performance targets (docs/benchmarks.md): fan-out CPU per broadcast ≤ this x
#: the peer's, at these sizes
PERF_CPU_RATIO, PERF_SIZES = 0.8, (1000, 10000)


def round2_perf_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The round-2 performance targets that this run has the data for. Every server the
    benchmark starts runs as shipped, history and metrics on, so these figures are with
    both on. (The cold load of 10,000 tenants against the plain script is in
    ``round2_targets``.)"""
    out: list[dict[str, Any]] = []
    val = results.get("startup", {}).get("validate")
    if val:
        out.append(
            _target(
                f"validate ({val['tenants']} tenants, whole process) ≤ 0.5x the plain script",
                ratio(val["ours"]["median_s"], val["plain-script"]["median_s"]),
                0.5,
                "x",
            )
        )
    ext = results.get("startup", {}).get("load_ext")
    if ext:
        out.append(
            _target(
                "import jupyter_hotconf + %load_ext in a fresh kernel adds ≤ 0.3 s",
                ext["total_median_s"],
                0.3,
                "s",
            )
        )
    for n in PERF_SIZES:
        ours, peer = _size(results, "ours", n), _size(results, "peer", n)
        if ours is None and peer is None:
            continue  # not measured at this size in this run
        nan = math.nan
        out.append(
            _target(
                f"fan-out {n:,}: server CPU per broadcast ≤ {PERF_CPU_RATIO}x the peer",
                ratio(ours["cpu_ms_per_broadcast"], peer["cpu_ms_per_broadcast"])
                if ours and peer
                else nan,  # one side missing: reported as a MISS, never skipped
                PERF_CPU_RATIO,
                "x",
            )
        )
        out.append(
            _target(
                f"fan-out {n:,}: RSS per idle connection ≤ the peer's",
                ours["rss_per_connection_bytes"] / KIB if ours else nan,
                peer["rss_per_connection_bytes"] / KIB if peer else nan,
                "KiB",
            )
        )
    lat = results.get("latency", {})
    if "ours-0" in lat and "floor" in lat:
        out.append(
            _target(
                "latency p95 at quiet window 0 ≤ floor p95 + 2 ms",
                lat["ours-0"]["summary"]["p95"],
                lat["floor"]["summary"]["p95"] + 2,
                "ms",
            )
        )
    kern = results.get("kernel", {})
    if "on_change_callback" in kern:
        floor = kern.get("floor_watchdog_in_kernel", {}).get("p99", math.nan)
        out.append(
            _target(
                "kernel: save → on_change p99 ≤ floor (watchdog in the kernel) p99 + 20 ms",
                kern["on_change_callback"]["p99"],
                floor + 20,
                "ms",
            )
        )
    return out


def startup_markdown(results: dict[str, Any]) -> list[str]:
    """The ``startup`` section: validate against the plain script, ``%load_ext`` in a kernel,
    and the imports that cost the most."""
    st = results.get("startup")
    if not st:
        return []
    val, ext, imp = st["validate"], st["load_ext"], st["importtime"]
    md = [
        f"**Start-up** (whole process, start → exit; median of {val['rounds']}, taking turns; s)",
        "",
        "| what | median | samples |",
        "|---|---:|---|",
    ]
    for name, label in (
        ("ours", f"`jupyter-hotconf validate` ({val['tenants']} tenants)"),
        ("plain-script", "plain script: json + deep merge + jsonschema"),
    ):
        e = val[name]
        md.append(
            f"| {label} | {_fmt(e['median_s'], 3)} | "
            f"{', '.join(_fmt(x, 3) for x in e['samples_s'])} |"
        )
    md.append(
        f"| `import jupyter_hotconf; %load_ext jupyter_hotconf` in a fresh kernel "
        f"(median of {ext['kernels']}) | {_fmt(ext['total_median_s'], 3)} | "
        f"{', '.join(_fmt(x, 3) for x in ext['samples_s'])} |"
    )
    md += [
        "",
        f"`%load_ext` imports {ext['modules_added']} modules. `python -X importtime` of "
        f"`{imp['statement']}` after `{imp['prelude']}` (what a kernel has already): "
        f"{_fmt(imp['total_ms'], 1)} ms in {imp['modules']} modules; the most cumulative "
        "time: "
        + ", ".join(
            f"`{r['module']}` {_fmt(r['cumulative_ms'], 1)} ms" for r in imp["top_cumulative"][:8]
        )
        + "; the most own time: "
        + ", ".join(f"`{r['module']}` {_fmt(r['self_ms'], 1)} ms" for r in imp["top_self"][:8])
        + ".",
        "",
    ]
    return md


def round2_lines(results: dict[str, Any]) -> list[str]:
    """Ratios of the round-2 comparisons (each pair measured side by side)."""
    lines: list[str] = []
    wb = results.get("writeback", {})
    if "patch" in wb and "save" in wb:
        pa, sa = wb["patch"]["all_have_it_ms"], wb["save"]["all_have_it_ms"]
        lines.append(
            f"write-back PATCH/save → all {wb['patch']['subscribers']:,} have it: p50 "
            f"{pa['p50']:.2f}/{sa['p50']:.2f} ms ({ratio(pa['p50'], sa['p50']):.2f}x), p99 "
            f"{pa['p99']:.2f}/{sa['p99']:.2f} ms ({ratio(pa['p99'], sa['p99']):.2f}x)"
        )
    cold = results.get("history", {}).get("cold_load", {})
    if cold:
        plain = cold["plain-script"]
        lines.append(
            f"cold load {cold['tenants']:,} tenants: history on "
            f"{cold['history-on']['median_s']:.2f} s, off "
            f"{cold['history-off']['median_s']:.2f} s, plain script "
            f"{plain['median_s']:.2f} s (of which its load {plain['load_only_median_s']:.2f} s)"
        )
    return lines


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
    lines += round2_lines(results)
    lines += redis_group.headline_lines(results)
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
    md += round2_markdown(results)
    md += startup_markdown(results)
    md += redis_group.markdown_lines(results)
    md += [
        f"**Section `{name}` failed**: {error}" for name, error in results.get("errors", {}).items()
    ]
    md += ["**Headline**", "", *(f"- {line}" for line in headline(results)), ""]
    return "\n".join(md)


def _pair_rows(label: str, pair: dict[str, Any]) -> list[str]:
    return [
        f"| {label} | {name} | {e['subscribers']:,} | {e['changes']} | "
        f"{_fmt(e['all_have_it_ms']['p50'], 2)} | {_fmt(e['all_have_it_ms']['p99'], 2)} | "
        f"{_fmt(e['per_subscriber_ms']['p50'], 2)} | {_fmt(e['per_subscriber_ms']['p99'], 2)} | "
        f"{_fmt(e['cpu_ms_per_change'], 2)} |"
        for name, e in pair.items()
    ]


def round2_markdown(results: dict[str, Any]) -> list[str]:
    """Tables of the round-2 sections: pairs measured side by side, cold load."""
    rows: list[str] = []
    hist, wb, met = (results.get(k, {}) for k in ("history", "writeback", "metrics"))
    if hist.get("latency"):
        rows += _pair_rows("history", hist["latency"])
    if wb:
        rows += _pair_rows("write-back", wb)
    for part in ("latency", "fanout"):
        if met.get(part):
            rows += _pair_rows(f"metrics ({part})", met[part])
    md: list[str] = []
    if rows:
        md += [
            "**Round 2, side by side** (quiet window 0; the two systems of a row pair take "
            "turns; ms)",
            "",
            "| comparison | system | subscribers | changes | all have it p50 | all have it p99 "
            "| per-sub p50 | per-sub p99 | server CPU per change |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
        ]
    cold = hist.get("cold_load")
    if cold:
        md += [
            f"**Cold load of {cold['tenants']:,} tenants** (process start → every tenant "
            f"served; median of {cold['rounds']}, systems taking turns; s)",
            "",
            "| system | median | samples |",
            "|---|---:|---|",
        ]
        for name in ("history-on", "history-off", "plain-script"):
            e = cold[name]
            md.append(
                f"| {name} | {_fmt(e['median_s'], 2)} | "
                f"{', '.join(_fmt(x, 2) for x in e['samples_s'])} |"
            )
        md += [
            "",
            f"The plain script's own load (after its imports): "
            f"{_fmt(cold['plain-script']['load_only_median_s'], 2)} s.",
            "",
        ]
    return md


def readme_table(results: dict[str, Any]) -> str:
    """The README's headline table, from a full run (and its round-2 sections)."""
    rows = ["| measure | jupyter-hotconf | peer | ratio |", "|---|---:|---:|---:|"]
    lat = results.get("latency", {})
    if {"ours-0", "peer", "floor"} <= set(lat):
        o, p, f = (lat[k]["summary"]["p50"] for k in ("ours-0", "peer", "floor"))
        rows.append(
            f"| save → client notified, p50 (quiet window 0) | {o:.1f} ms | websockets "
            f"server {p:.1f} ms; raw watchdog callback (floor) {f:.1f} ms | "
            f"{ratio(o, p):.1f}{X} peer, floor + {o - f:.1f} ms |"
        )
    if {"ours-100", "ours-500", "poll"} <= set(lat):
        o, s5, pl = (lat[k]["summary"]["p50"] for k in ("ours-100", "ours-500", "poll"))
        rows.append(
            f"| save → client notified, p50 (default 100 ms window) | {o:.0f} ms | the "
            f"seed's 500 ms window: {s5:.0f} ms; naive 1 s polling: {pl:.0f} ms | "
            f"{ratio(s5, o):.1f}{X} faster than 500 ms |"
        )
    fan = results.get("fanout", {})
    if fan.get("ours"):
        n = max(e["subscribers"] for e in fan["ours"])
        o, p = _size(results, "ours", n), _size(results, "peer", n)
        if o is not None and p is not None:
            rows += [
                f"| fan-out to {n:,} subscribers: server CPU per broadcast | "
                f"{o['cpu_ms_per_broadcast']:.0f} ms | websockets `broadcast()` "
                f"{p['cpu_ms_per_broadcast']:.0f} ms | "
                f"{ratio(o['cpu_ms_per_broadcast'], p['cpu_ms_per_broadcast']):.2f}{X} |",
                f"| fan-out to {n:,}: time until all have it, p50 | "
                f"{o['all_have_it_ms']['p50']:.0f} ms | {p['all_have_it_ms']['p50']:.0f} ms | "
                f"{ratio(o['all_have_it_ms']['p50'], p['all_have_it_ms']['p50']):.2f}{X} |",
                f"| memory per idle connection (RSS) | {o['rss_per_connection_bytes'] / KIB:.1f}"
                f" KiB | {p['rss_per_connection_bytes'] / KIB:.1f} KiB | "
                f"{ratio(o['rss_per_connection_bytes'], p['rss_per_connection_bytes']):.2f}{X} |",
            ]
    hb = results.get("heartbeat", {})
    if "cpu_us_per_connection_per_beat_peer" in hb:
        o, p = hb["cpu_us_per_connection_per_beat"], hb["cpu_us_per_connection_per_beat_peer"]
        rows.append(
            f"| heartbeat CPU per connection per beat | {o:.0f} µs | websockets "
            f"keepalive {p:.0f} µs | {ratio(o, p):.2f}{X} |"
        )
    sizes = results.get("scale", {}).get("sizes", [])
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        o, p = large["one_change_ms"]["p50"], small["one_change_ms"]["p50"]
        rows.append(
            f"| one change among {large['tenants']:,} tenant files, p50 | {o:.1f} ms | "
            f"the same at {small['tenants']:,} tenants: {p:.1f} ms | {ratio(o, p):.2f}{X} |"
        )
    cold = results.get("history", {}).get("cold_load")
    if cold:
        on, off = cold["history-on"]["median_s"], cold["history-off"]["median_s"]
        plain = cold["plain-script"]["median_s"]
        rows += [
            f"| cold load of {cold['tenants']:,} tenants (start → all served, with history) | "
            f"{on:.1f} s | plain load script (json + jsonschema) {plain:.1f} s | "
            f"{ratio(on, plain):.2f}{X} |",
            f"| the same, history on / off | {on:.1f} s | `--history none` {off:.1f} s | "
            f"{ratio(on, off):.2f}{X} |",
        ]
    lat2 = results.get("history", {}).get("latency", {})
    if lat2:
        on, off = (lat2[k]["all_have_it_ms"]["p50"] for k in ("history-on", "history-off"))
        rows.append(
            f"| save → client notified, p50, history on / off | {on:.1f} ms | "
            f"`--history none` {off:.1f} ms | {on - off:+.1f} ms |"
        )
    wb = results.get("writeback", {})
    if wb:
        pa, sa = wb["patch"]["all_have_it_ms"], wb["save"]["all_have_it_ms"]
        rows.append(
            f"| `PATCH` → all {wb['patch']['subscribers']:,} subscribers have it, "
            f"p50 / p99 | {pa['p50']:.1f} / {pa['p99']:.1f} ms | save a file: "
            f"{sa['p50']:.1f} / {sa['p99']:.1f} ms | {ratio(pa['p50'], sa['p50']):.2f}{X} |"
        )
    met = results.get("metrics", {})
    if met.get("fanout"):
        f = met["fanout"]
        on, off = f["metrics-on"]["cpu_ms_per_change"], f["metrics-off"]["cpu_ms_per_change"]
        rows.append(
            f"| Prometheus metrics: CPU per broadcast to "
            f"{f['metrics-on']['subscribers']:,} | {on:.1f} ms | metrics off "
            f"{off:.1f} ms | {ratio(on, off):.2f}{X} |"
        )
    rows += redis_group.readme_rows(results)
    kern = results.get("kernel", {})
    if "on_change_callback" in kern:
        rows.append(
            f"| save → `on_change` callback in a real kernel, p50 | "
            f"{kern['on_change_callback']['p50']:.1f} ms | {DASH} | {DASH} |"
        )
    return "\n".join(rows)


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
