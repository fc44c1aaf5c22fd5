"""Test clients for the server tests: a WebSocket client that reads with a deadline, a raw
one that can stay silent or stop reading, and a handle on an in-process standalone server."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse
from tornado.websocket import WebSocketClientConnection, websocket_connect

from jupyter_hotconf.pytest_plugin import DEADLINE_S
from jupyter_hotconf.server.standalone import StandaloneServer

PING = '"Ping"'


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

    async def next_change(self, timeout: float = DEADLINE_S) -> dict[str, Any]:
        """The body of the next ``ConfigChanged``, skipping every other message."""
        while True:
            message = await self.recv(timeout)
            assert message is not None, "the server closed the socket"
            if isinstance(message, dict) and "ConfigChanged" in message:
                return dict(message["ConfigChanged"])

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


class RawClient:
    """A WebSocket client on a bare asyncio stream: it sends nothing unless told (not even
    protocol pongs) and can stop reading, which Tornado's and websockets' clients cannot."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(
        cls, port: int, target: str, *, rcvbuf: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> RawClient:
        """Handshake on ``target``; ``headers`` go out as they are, Latin-1 as HTTP has it."""
        sock = socket.socket()
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**16)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n".encode()
            + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()).encode("latin-1")
            + b"\r\n"
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE_S)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def frame(self, timeout: float = DEADLINE_S) -> tuple[int, bytes]:
        """Next (opcode, payload) from the server (frames from a server are unmasked)."""

        async def read() -> tuple[int, bytes]:
            b0, b1 = await self.reader.readexactly(2)
            size = b1 & 0x7F
            if size == 126:
                size = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            return b0 & 0x0F, await self.reader.readexactly(size)

        return await asyncio.wait_for(read(), timeout)

    async def close_code(self, timeout: float = DEADLINE_S) -> tuple[int, str]:
        """Read past data frames to the close frame: (code, reason)."""
        while True:
            opcode, payload = await self.frame(timeout)
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0], payload[2:].decode()

    def close(self) -> None:
        self.writer.close()
