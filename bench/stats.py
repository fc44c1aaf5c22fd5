"""Summaries of latency samples: the same fields everywhere, so tables and plots line up."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100) of already sorted values."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize(samples_ms: Sequence[float]) -> dict[str, Any]:
    """``{n, min, p50, p95, p99, max, mean}`` in milliseconds (NaN-free only when n > 0)."""
    values = sorted(samples_ms)
    n = len(values)
    return {
        "n": n,
        "min": values[0] if n else math.nan,
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": values[-1] if n else math.nan,
        "mean": sum(values) / n if n else math.nan,
    }


def ratio(a: float, b: float) -> float:
    """``a / b``, NaN when ``b`` is 0 or either is missing."""
    if not b or math.isnan(a) or math.isnan(b):
        return math.nan
    return a / b
