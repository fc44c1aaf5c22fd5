"""Under Jupyter with no ``c.HotConf.config_dir``: ``configs/`` under the server root is
watched (JupyterApp's own ``config_dir`` must not shadow ours), and ``info`` tells the
frontend where that is relative to the contents root, so "Open file" can find a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from traitlets.config import Config

from jupyter_hotconf.pytest_plugin import write_json

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_server_config() -> Config:
    return Config({"ServerApp": {"jpserver_extensions": {"jupyter_hotconf": True}}})


@pytest.fixture
def jp_root_dir(jp_root_dir: Path) -> Path:
    write_json(jp_root_dir / "configs" / "private" / "umbrella.json", {"name": "Umbrella"})
    return jp_root_dir


async def test_configs_under_the_root_is_the_default(jp_serverapp, jp_fetch) -> None:
    tenants = json.loads((await jp_fetch("hotconf", "api", "tenants")).body)
    assert [t["tenant_id"] for t in tenants] == ["umbrella"]
    info = json.loads((await jp_fetch("hotconf", "api", "info")).body)
    assert info["config_dir_present"] is True
    assert info["config_dir_relative"] == "configs"
