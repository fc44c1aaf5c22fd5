"""Every change on jupyter_events (emitted on the loop thread, never the config) and every
broadcast logged."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest
from traitlets.config import Config

from jupyter_hotconf.pytest_plugin import DEADLINE_S, write_json
from jupyter_hotconf.server.events import SCHEMA_ID

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_server_config(hotconf_dir: Path) -> Config:
    return Config({"ServerApp": {"jpserver_extensions": {"jupyter_hotconf": True}},
                   "HotConf": {"config_dir": str(hotconf_dir), "debounce_ms": 20}})


async def test_change_emitted_on_event_bus_from_loop_thread(
    jp_serverapp, hotconf_dir: Path, caplog
) -> None:
    got: asyncio.Queue[tuple[dict, str]] = asyncio.Queue()

    async def listener(logger, schema_id: str, data: dict) -> None:
        got.put_nowait((dict(data), threading.current_thread().name))

    jp_serverapp.event_logger.add_listener(schema_id=SCHEMA_ID, listener=listener)
    caplog.set_level(logging.INFO, logger="jupyter_hotconf.server.hub")
    write_json(hotconf_dir / "private" / "acme.json", {"secret": "never on the bus"})
    data, thread = await asyncio.wait_for(got.get(), DEADLINE_S)
    assert data == {"tenant_id": "acme", "change_type": "modified", "revision": 2}
    assert thread == threading.main_thread().name
    assert any("hotconf broadcast: tenant=acme change=modified revision=2 receivers=0"
               in r.getMessage() for r in caplog.records)
