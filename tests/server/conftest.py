"""Fixtures for the server tests: an in-process standalone server on a free port (the
subprocess ``serve`` fixture is the package's, ``jupyter_hotconf.pytest_plugin``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio

from jupyter_hotconf.server.settings import StandaloneSettings
from jupyter_hotconf.server.standalone import StandaloneServer

from .clients import Standalone


@pytest_asyncio.fixture
async def standalone_factory(
    hotconf_dir: Path,
) -> AsyncIterator[Callable[..., Standalone]]:
    servers: list[StandaloneServer] = []

    def make(**settings: Any) -> Standalone:
        settings.setdefault("config_dir", str(hotconf_dir))
        settings.setdefault("port", 0)
        settings.setdefault("debounce_ms", 20)
        server = StandaloneServer(StandaloneSettings(**settings))
        server.start()
        servers.append(server)
        return Standalone(server)

    yield make
    for server in servers:
        await server.stop()


@pytest_asyncio.fixture
async def standalone(standalone_factory: Callable[..., Standalone]) -> Standalone:
    return standalone_factory()
