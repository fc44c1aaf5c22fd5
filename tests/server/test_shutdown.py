"""Acceptance 10: stopping closes every socket and stops the watcher within 3 s, leaving no
thread behind."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from jupyter_hotconf.server.settings import StandaloneSettings
from jupyter_hotconf.server.standalone import StandaloneServer

from .clients import connect


@pytest.mark.asyncio
async def test_in_process_stop_is_bounded_and_clean(hotconf_dir) -> None:
    before = set(threading.enumerate())
    server = StandaloneServer(StandaloneSettings(config_dir=str(hotconf_dir), port=0))
    server.start()
    assert set(threading.enumerate()) - before, "the watcher runs threads while serving"
    clients = [await connect(f"ws://127.0.0.1:{server.port}/ws?tenant_id=acme")
               for _ in range(3)]
    started = time.monotonic()
    await server.stop()
    assert time.monotonic() - started < 3.5  # the bound of the contract, not a speed claim
    for client in clients:
        assert await client.closed() == (1001, "server shutting down")
    assert not server.engine.hub.connections
    # asyncio_N are the loop's default-executor workers that the *test client's* address
    # lookups start; the server itself uses no executor.
    leftover = [t for t in set(threading.enumerate()) - before
                if t.is_alive() and not t.name.startswith("asyncio_")]
    assert not leftover, leftover


def test_serve_exits_on_sigterm(serve) -> None:
    srv = serve()
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(10) == 0
    assert "serving" in srv.tail()


def test_jupyter_cleanup_stops_engine(hotconf_dir, jp_serverapp, jp_asyncio_loop) -> None:
    app = next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_hotconf"]))
    assert app.engine.started
    jp_asyncio_loop.run_until_complete(jp_serverapp._cleanup())
    assert not app.engine.started
    assert not any(t.is_alive() for t in threading.enumerate() if "watchdog" in repr(t).lower()
                   or "hotconf" in t.name.lower())


@pytest.fixture
def jp_server_config(hotconf_dir):
    from traitlets.config import Config

    return Config({"ServerApp": {"jpserver_extensions": {"jupyter_hotconf": True}},
                   "HotConf": {"config_dir": str(hotconf_dir)}})


pytest_plugins = ["pytest_jupyter.jupyter_server"]
