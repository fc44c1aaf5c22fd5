"""Fixtures for the kernel tests: real kernels in local mode, and real Jupyter servers whose
kernels follow them (``kernels.py`` and ``servers.py`` drive both)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_hotconf.pytest_plugin import EXAMPLE_DEFAULTS, EXAMPLE_SCHEMA, write_json

from .kernels import KERNELS, Driver, start_local_kernel
from .servers import JupyterServer

#: acme's file on a fresh server root, unless a test asks for another.
ACME = {"pricing": {"discount": 0.1}, "name": "Acme"}


@pytest.fixture(params=KERNELS)
def kernel(request: pytest.FixtureRequest, hotconf_dir: Path) -> Iterator[Driver]:
    """A real kernel (ipykernel 7, then 6) in local mode on ``hotconf_dir``."""
    env = {k: v for k, v in os.environ.items() if "HOTCONF" not in k}
    env["HOTCONF_CONFIG_DIR"] = str(hotconf_dir)
    km, driver = start_local_kernel(request.param, str(hotconf_dir.parent), env)
    try:
        yield driver
    finally:
        driver.kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.fixture
def jupyter_at() -> Iterator[Callable[..., JupyterServer]]:
    """Factory: ``jupyter_at(*flags, acme=ACME, shared=True)`` starts ``jupyter server`` on a
    fresh root whose ``configs/`` holds acme's file (and the example defaults and schema unless
    ``shared=False``). A private short dir per server: pytest's shared, rotating basetemp gave
    flaky ipykernel-6 starts. One server per kernel: a second kernel on one server hung
    (ipykernel 6)."""
    started: list[tuple[JupyterServer, Path]] = []

    def start(*flags: str, acme: dict[str, Any] | None = None, shared: bool = True
              ) -> JupyterServer:
        top = Path(tempfile.mkdtemp(prefix="hotconf-jp-"))
        configs = top / "root" / "configs"
        (configs / "private").mkdir(parents=True)
        if shared:
            write_json(configs / "defaults.json", EXAMPLE_DEFAULTS)
            write_json(configs / "schema.json", EXAMPLE_SCHEMA)
        write_json(configs / "private" / "acme.json", ACME if acme is None else acme)
        server = JupyterServer(top / "root", *flags).start()
        started.append((server, top))
        return server

    yield start
    for server, top in started:
        server.stop()
        shutil.rmtree(top, ignore_errors=True)
