"""Scraping a server's ``/metrics`` in tests: the text parsed with ``prometheus_client``'s own
parser into ``{(sample name, sorted labels): value}``, so a test reads what Prometheus would."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from .clients import fetch

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def scrape(url: str, **kw: Any) -> Samples:
    """``GET url`` (a ``/metrics`` URL), which must answer 200, parsed."""
    r = await fetch(url, **kw)
    assert r.code == 200, (r.code, r.body[:300])
    return parse(r.body.decode())


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when the series is not there yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


def exposed_names(text: str) -> set[str]:
    """Every series name a query can use, from the families themselves (a labelled counter
    that has not moved yet has no sample, but its name is exposed)."""
    out: set[str] = set()
    for family in text_string_to_metric_families(text):
        if family.type == "counter":
            out.add(family.name + "_total")
        elif family.type == "histogram":
            out.update(family.name + suffix for suffix in ("_bucket", "_count", "_sum"))
        else:
            out.add(family.name)
    return out
