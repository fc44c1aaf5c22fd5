"""Under Jupyter the hotconf metrics are on the server's own ``/metrics``, and its
``authenticate_prometheus`` rule decides who may read them (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config import Config

from jupyter_hotconf.pytest_plugin import write_json

from .clients import Client, fetch
from .promtext import parse, value

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture(params=[True, False], ids=["authenticated", "open"])
def authenticate_prometheus(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def jp_server_config(hotconf_dir: Path, authenticate_prometheus: bool) -> Config:
    return Config({
        "ServerApp": {"jpserver_extensions": {"jupyter_hotconf": True},
                      "authenticate_prometheus": authenticate_prometheus},
        "HotConf": {"config_dir": str(hotconf_dir), "debounce_ms": 20},
    })


async def test_metrics_on_jupyters_own_endpoint(
    jp_serverapp, jp_fetch, jp_ws_fetch, jp_http_port, jp_base_url, hotconf_dir: Path,
    authenticate_prometheus: bool,
) -> None:
    anonymous = await fetch(f"http://127.0.0.1:{jp_http_port}{jp_base_url}metrics")
    assert anonymous.code == (403 if authenticate_prometheus else 200)

    before = parse((await jp_fetch("metrics")).body.decode())
    assert value(before, "hotconf_tenants", state="valid") == 2
    ws = await jp_ws_fetch("hotconf", "ws", params={"tenant_id": "acme"})
    write_json(hotconf_dir / "private" / "acme.json", {"name": "A2"})
    assert "ConfigChanged" in await Client(ws).recv()
    after = parse((await jp_fetch("metrics")).body.decode())
    assert value(after, "hotconf_connections") == 1
    assert (value(after, "hotconf_changes_total", change_type="modified")
            - value(before, "hotconf_changes_total", change_type="modified")) == 1
    ws.close()
