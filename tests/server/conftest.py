"""Fixtures for the server tests: an in-process standalone server on a free port, a
``jupyter-hotconf serve`` subprocess, and a WebSocket client that reads with a deadline."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse
from tornado.websocket import WebSocketClientConnection, websocket_connect

from jupyter_hotconf.pytest_plugin import DEADLINE_S, wait_until
from jupyter_hotconf.server.settings import StandaloneSettings
from jupyter_hotconf.server.standalone import StandaloneServer

PING = '"Ping"'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    """A Tornado WebSocket client whose reads have a deadline; heartbeat Pings are
    counted and skipped unless asked for."""

    def __init__(self, conn: WebSocketClientConnection) -> None:
        self.conn = conn
        self.pings = 0

    async def recv(self, timeout: float = DEADLINE_S, *, pings: bool = False) -> Any:
        """Next message as JSON (``None`` when the server closed)."""
        while True:
            raw = await asyncio.wait_for(self.conn.read_message(), timeout)
            if raw is None:
                return None
            if raw == PING and not pings:
                self.pings += 1
                continue
            return json.loads(raw)

    async def closed(self, timeout: float = DEADLINE_S) -> tuple[int | None, str | None]:
        """Read until the server closes; the close code and reason."""
        while await asyncio.wait_for(self.conn.read_message(), timeout) is not None:
            pass
        return self.conn.close_code, self.conn.close_reason

    def send(self, text: str) -> None:
        self.conn.write_message(text)

    def close(self) -> None:
        self.conn.close()


async def connect(url: str, headers: dict[str, str] | None = None, **kw: Any) -> Client:
    request = HTTPRequest(url, headers=headers or {}, connect_timeout=DEADLINE_S)
    return Client(await asyncio.wait_for(websocket_connect(request, **kw), DEADLINE_S))


async def fetch(url: str, **kw: Any) -> HTTPResponse:
    return await AsyncHTTPClient().fetch(url, raise_error=False, request_timeout=DEADLINE_S, **kw)


class Standalone:
    """An in-process standalone server (so tests can look at its hub)."""

    def __init__(self, server: StandaloneServer) -> None:
        self.server = server
        self.hub = server.engine.hub
        self.engine = server.engine
        self.http = f"http://127.0.0.1:{server.port}"
        self.ws = f"ws://127.0.0.1:{server.port}"

    async def client(self, query: str, path: str = "/ws", **kw: Any) -> Client:
        return await connect(f"{self.ws}{path}?{query}", **kw)


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


class ServeProcess:
    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.port = port
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"


@pytest.fixture
def serve(hotconf_dir: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start the real ``jupyter-hotconf serve`` on a free port; wait for /health."""
    procs: list[subprocess.Popen[str]] = []

    def start(*flags: str, env: dict[str, str] | None = None) -> ServeProcess:
        port = free_port()
        cmd = [sys.executable, "-m", "jupyter_hotconf.cli", "serve",
               "--config-dir", str(hotconf_dir), "--port", str(port), "--debounce-ms", "20",
               *flags]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env={**os.environ, **(env or {})})
        procs.append(proc)
        wait_until(lambda: _listening(port) or proc.poll() is not None, what="serve to listen")
        assert proc.poll() is None, proc.communicate()[0]
        return ServeProcess(proc, port)

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server fails the test
            proc.kill()
            proc.wait()
            pytest.fail("jupyter-hotconf serve did not exit within 10 s of SIGTERM")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
