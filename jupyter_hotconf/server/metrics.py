"""Every Prometheus metric of hotconf, defined once (docs/operations.md, "Metrics").

They live in ``prometheus_client``'s default registry, which is what jupyter_server's own
``/metrics`` serves (under its ``authenticate_prometheus`` rule) and what the standalone
server's ``GET /metrics`` serves under its token rule. This module is imported once per
process, so two servers in one process (pytest runs several) never register a name twice:
they share the counters, and the gauges sum over the engines that are running.

Cost on the hot path: counters are plain ``dict`` increments on the loop thread, one per
event with the count (a broadcast to 10,000 sockets adds 10,000 once), and the histograms
take one observation per reload batch and per broadcast. Gauges (connections, tenants,
watcher kind, history size, broker state) cost nothing until a scrape reads them off the
running engines. ``metrics_per_tenant`` adds a ``tenant`` label to ``hotconf_changes_total``
and ``hotconf_tenants`` (off by default: one series per tenant is a lot of series).
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

#: From 100 µs (a broadcast to a few sockets) to 10 s (a reload behind a long debounce on a
#: polling watcher). Measured here: delivery ≈50 µs to one socket and ≈0.2 s to 10,000;
#: reload ≈ debounce_ms (100 ms default) plus a few ms of parsing.
BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
           0.5, 1.0, 2.5, 5.0, 10.0)

RELOAD_DURATION = Histogram(
    "hotconf_reload_duration_seconds",
    "Seconds from the first file event of a batch to its changes applied in the store "
    "(debounce window included; the initial load and re-reads are not timed).",
    buckets=BUCKETS,
)
DELIVERY_DURATION = Histogram(
    "hotconf_delivery_duration_seconds",
    "Seconds from a change applied in the store to its frame written to the last "
    "subscriber (one observation per broadcast that reached a socket).",
    buckets=BUCKETS,
)

#: Counters: name → (help, label names). Their values live in ``_counts`` (see ``count``).
COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "hotconf_changes": ("Changes applied, by change_type (created, modified, deleted, "
                        "invalid, recovered).", ("change_type",)),
    "hotconf_messages_sent": ("Frames written to clients: changes, Snapshots, heartbeat "
                              "Pings, Pongs.", ()),
    "hotconf_refusals": ("Sockets and requests refused, by reason (origin, tenant, "
                         "limit, rate, token, scope).", ("reason",)),
    "hotconf_slow_consumer_closes": ("Sockets closed as slow consumers: more unread bytes "
                                     "than max_pending_bytes.", ()),
    "hotconf_writes": ("Writes through the server (rollback, PATCH/PUT/DELETE), by "
                       "result (ok, unchanged, conflict, invalid, forbidden, timeout, "
                       "error).", ("result",)),
}
GAUGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "hotconf_connections": ("Open hotconf WebSockets.", ()),
    "hotconf_tenants": ("Tenants with a config file, by state (valid, invalid).",
                        ("state",)),
    "hotconf_watcher_info": ("The file watcher running (1 per engine), by kind (native, "
                             "polling).", ("kind",)),
    "hotconf_history_entries": ("Entries in the history database (after retention).", ()),
    "hotconf_broker_connected": ("1 while the change broker is connected (the in-process "
                                 "one always is).", ()),
    "hotconf_broker_leader": ("1 while this server is the broker's leader, the one that "
                              "watches the files (in-process: always).", ()),
}
WATCHER_ERRORS = "hotconf_watcher_errors"  # a counter read off the watchers at scrape time

_lock = threading.Lock()
_counts: dict[str, Counter[tuple[str, ...]]] = {name: Counter() for name in COUNTERS}
#: (change_type, tenant) → count: kept per tenant, summed unless ``metrics_per_tenant``.
_changes: Counter[tuple[str, str]] = Counter()
_engines: weakref.WeakSet[Any] = weakref.WeakSet()
_retired_watcher_errors = 0


def count(name: str, *labels: str, n: int = 1) -> None:
    """Add ``n`` to counter ``name`` (a key of ``COUNTERS``) with these label values."""
    if n:
        with _lock:
            _counts[name][labels] += n


def changed(change_type: str, tenant_id: str) -> None:
    """One change applied (counted per tenant, labelled so only if ``metrics_per_tenant``)."""
    with _lock:
        _changes[(change_type, tenant_id)] += 1


def sent(n: int) -> None:
    """``n`` frames written to clients."""
    count("hotconf_messages_sent", n=n)


def refused(reason: str) -> None:
    """A socket or request refused; ``reason`` is a short category, not the message."""
    count("hotconf_refusals", reason)


def count_write(result: str) -> None:
    """One write through the server ended with ``result`` (``ok``, ``unchanged``,
    ``conflict``, ``invalid``, ``forbidden``, ``timeout``, ``error``); for the rollback and
    write-back handlers."""
    count("hotconf_writes", result)


def track(engine: Any) -> None:
    """Let scrapes read ``engine``'s gauges while it runs (``untrack`` when it stops)."""
    _engines.add(engine)


def untrack(engine: Any) -> None:
    """Keep the stopped engine's watcher errors in the total (a counter never goes down)."""
    global _retired_watcher_errors
    with _lock:
        if engine in _engines:
            _retired_watcher_errors += _watcher_errors(engine)
            _engines.discard(engine)


def _watcher_errors(engine: Any) -> int:
    return int(engine.watcher.errors.total)


class HotconfCollector:
    """Reads the counters and the running engines at scrape time."""

    def describe(self) -> Iterator[Metric]:
        # Names only, so the registry can refuse a duplicate without a scrape.
        for name, (text, labels) in COUNTERS.items():
            yield CounterMetricFamily(name, text, labels=labels)
        yield CounterMetricFamily(WATCHER_ERRORS, "", labels=())
        for name, (text, labels) in GAUGES.items():
            yield GaugeMetricFamily(name, text, labels=labels)

    def collect(self) -> Iterator[Metric]:
        engines = list(_engines)
        per_tenant = any(getattr(e.settings, "metrics_per_tenant", False) for e in engines)
        with _lock:
            counts = {name: dict(c) for name, c in _counts.items()}
            changes = dict(_changes)
            watcher_errors = _retired_watcher_errors
        yield from self._counters(counts, changes, per_tenant)
        errors = CounterMetricFamily(
            WATCHER_ERRORS, "Failed reloads and watcher passes (each one, not each distinct "
            "error; GET info shows the one recurring now).", labels=())
        errors.add_metric((), watcher_errors + sum(_watcher_errors(e) for e in engines))
        yield errors
        yield from self._gauges(engines, per_tenant)

    @staticmethod
    def _counters(counts: dict[str, dict[tuple[str, ...], int]],
                  changes: dict[tuple[str, str], int], per_tenant: bool) -> Iterator[Metric]:
        for name, (text, labels) in COUNTERS.items():
            if name == "hotconf_changes":
                family = CounterMetricFamily(name, text, labels=(
                    ("change_type", "tenant") if per_tenant else labels))
                summed: Counter[tuple[str, ...]] = Counter()
                for (change_type, tenant), n in changes.items():
                    summed[(change_type, tenant) if per_tenant else (change_type,)] += n
                values = dict(summed)
            else:
                family = CounterMetricFamily(name, text, labels=labels)
                values = counts[name]
            if not labels and not values:
                values = {(): 0}  # an unlabelled counter is always there, from 0
            for key, n in sorted(values.items()):
                family.add_metric(key, n)
            yield family

    @staticmethod
    def _gauges(engines: list[Any], per_tenant: bool) -> Iterator[Metric]:
        def gauge(name: str, *, labels: tuple[str, ...] | None = None) -> GaugeMetricFamily:
            text, default = GAUGES[name]
            return GaugeMetricFamily(name, text, labels=default if labels is None else labels)

        connections = gauge("hotconf_connections")
        connections.add_metric((), sum(len(e.hub.connections) for e in engines))
        yield connections
        tenants = gauge("hotconf_tenants", labels=("state", "tenant") if per_tenant else None)
        # Both states are always there (from 0) unless each series is one tenant's.
        states: Counter[tuple[str, ...]] = Counter(
            {} if per_tenant else {("valid",): 0, ("invalid",): 0})
        for engine in engines:
            for state in engine.tenants():
                kind = "valid" if state.valid else "invalid"
                states[(kind, state.tenant_id) if per_tenant else (kind,)] += 1
        for key, n in sorted(states.items()):
            tenants.add_metric(key, n)
        yield tenants
        kinds = gauge("hotconf_watcher_info")
        for kind, n in sorted(Counter(e.watcher.kind for e in engines).items()):
            kinds.add_metric((kind,), n)
        yield kinds
        entries = gauge("hotconf_history_entries")
        entries.add_metric((), sum(e.recording.entries for e in engines))
        yield entries
        for name, attr in (("hotconf_broker_connected", "connected"),
                           ("hotconf_broker_leader", "leader")):
            family = gauge(name)
            family.add_metric((), sum(bool(getattr(e.broker, attr, True)) for e in engines))
            yield family


COLLECTOR = HotconfCollector()
REGISTRY.register(COLLECTOR)
