"""The Grafana dashboard in docs/grafana/hotconf.json queries only metrics a real
``jupyter-hotconf serve`` exposes (docs/operations.md)."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from jupyter_hotconf.pytest_plugin import DEADLINE_S

from .promtext import exposed_names

DOCS = Path(__file__).resolve().parents[2] / "docs"


def dashboard_metrics() -> set[str]:
    dashboard = json.loads((DOCS / "grafana" / "hotconf.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"]
             for target in panel.get("targets", [])]
    assert len(exprs) >= 10
    return {name for expr in exprs for name in re.findall(r"\bhotconf_[a-z_]+", expr)}


def test_grafana_dashboard_queries_existing_metrics(serve) -> None:
    proc = serve()
    with urllib.request.urlopen(f"{proc.http}/metrics", timeout=DEADLINE_S) as r:
        exposed = exposed_names(r.read().decode())
    used = dashboard_metrics()
    missing = used - exposed
    assert not missing, f"the dashboard queries metrics no server exposes: {missing}"
    assert {"hotconf_connections", "hotconf_changes_total",
            "hotconf_delivery_duration_seconds_bucket"} <= used


def test_the_dashboard_check_can_fail() -> None:
    assert "hotconf_nope" not in exposed_names("# TYPE hotconf_connections gauge\n"
                                               "hotconf_connections 0\n")
