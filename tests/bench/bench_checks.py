"""Checks the benchmark smoke tests share: a summary is sane, no process outlived a run."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any


def sane(summary: dict[str, Any], where: str) -> None:
    """Samples there, percentiles finite, non-negative and in order."""
    assert summary["n"] > 0, where
    values = [summary[k] for k in ("min", "p50", "p95", "p99", "max")]
    assert all(isinstance(v, float) and not math.isnan(v) and v >= 0 for v in values), (
        where,
        summary,
    )
    assert values == sorted(values), f"{where}: percentiles out of order {summary}"


def processes_with_env(marker: str) -> list[str]:
    """Command lines of live processes whose environment contains ``marker``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in Path(f"/proc/{pid}/environ").read_bytes():
                found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" "))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return [c.decode(errors="replace") for c in found]
