"""Plumbing for the fuzz tests: an in-process standalone server on a loop of its own thread
(hypothesis drives synchronous tests), a bystander client that must keep receiving changes,
a log watch for server errors, and raw HTTP/WebSocket I/O on blocking sockets so any byte
can be sent."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import struct
import threading
import urllib.error
import urllib.request
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from jupyter_hotconf.core.store import Change, ChangeType
from jupyter_hotconf.pytest_plugin import DEADLINE_S
from jupyter_hotconf.server.settings import StandaloneSettings
from jupyter_hotconf.server.standalone import StandaloneServer

from .clients import Client, connect

T = TypeVar("T")
#: What a probe waits for the server's answer: generous, it only bounds the wait.
ANSWER_S = 10.0


class ErrorLog(logging.Handler):
    """Collects ERROR records (Tornado's "Uncaught exception", a handler's 500)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")

    def take(self) -> list[str]:
        found, self.records = self.records, []
        return found


class ThreadedServer:
    """A standalone server on its own loop thread, with a protocol=2 bystander on acme."""

    def __init__(self, config_dir: Path, **settings: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-server",
                                       daemon=True)
        self.thread.start()
        self.errors = ErrorLog()
        for name in ("tornado", "jupyter_hotconf", "asyncio"):
            logging.getLogger(name).addHandler(self.errors)
        settings = {"config_dir": str(config_dir), "port": 0, "debounce_ms": 20, **settings}
        self.server = StandaloneServer(StandaloneSettings(**settings))
        self.run(self._start())
        self.port = self.server.port
        self.bystander: Client = self.run(
            connect(f"ws://127.0.0.1:{self.port}/ws?tenant_id=acme&protocol=2"))
        self.run(self.bystander.recv())  # its Snapshot
        self.revision = 10_000

    async def _start(self) -> None:
        self.server.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = DEADLINE_S) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def still_serving(self) -> None:
        """The server answers health and the bystander receives the next change."""
        url = f"http://127.0.0.1:{self.port}/health"
        with urllib.request.urlopen(url, timeout=DEADLINE_S) as r:
            assert r.status == 200
        self.revision += 1
        change = Change(tenant_id="acme", change_type=ChangeType.MODIFIED,
                        revision=self.revision, epoch=self.server.engine.store.epoch,
                        checksum=f"sha256:{self.revision:064x}",
                        timestamp="2026-11-29T00:00:00Z", new={"n": self.revision},
                        changed_paths=["/n"])

        async def delivered() -> None:
            self.server.engine.publish([change])
            while True:
                msg = await self.bystander.recv()
                assert msg is not None, "the bystander was closed"
                if msg.get("ConfigChanged", {}).get("revision") == self.revision:
                    return

        self.run(delivered())
        errors = self.errors.take()
        assert not errors, f"the server logged errors: {errors}"

    def close(self) -> None:
        for name in ("tornado", "jupyter_hotconf", "asyncio"):
            logging.getLogger(name).removeHandler(self.errors)
        self.loop.call_soon_threadsafe(self.bystander.close)  # its loop's, not this thread's
        self.run(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def example_config_dir(root: Path) -> Path:
    (root / "private").mkdir(parents=True, exist_ok=True)
    for tenant in ("acme", "globex"):
        (root / "private" / f"{tenant}.json").write_text(json.dumps({"name": tenant}))
    return root


# -- raw HTTP and WebSocket ------------------------------------------------------------------

class Wire:
    """A blocking socket with exact reads and a deadline per read."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_S)
        self.buf = b""

    def send(self, data: bytes) -> bool:
        """False when the server has already gone (reset or closed)."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def exactly(self, n: int) -> bytes | None:
        """``n`` bytes, or None at EOF/reset."""
        try:
            while len(self.buf) < n:
                if not self._fill():
                    return None
        except ConnectionResetError:
            return None
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def head(self) -> tuple[int, bytes] | None:
        """An HTTP response's status and head (None: closed without an answer)."""
        try:
            while b"\r\n\r\n" not in self.buf:
                if not self._fill():
                    return None
        except ConnectionResetError:
            return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return int(head.split(b" ", 2)[1]), head

    def body(self, head: bytes) -> bytes:
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                return self.exactly(int(value)) or b""
        return b""

    def frame(self) -> tuple[int, bytes] | None:
        """The next (opcode, payload) from the server (None: the connection ended)."""
        first = self.exactly(2)
        if first is None:
            return None
        size = first[1] & 0x7F
        if size == 126:
            raw = self.exactly(2)
            size = struct.unpack("!H", raw)[0] if raw else 0
        elif size == 127:
            raw = self.exactly(8)
            size = struct.unpack("!Q", raw)[0] if raw else 0
        payload = self.exactly(size)
        return None if payload is None else (first[0] & 0x0F, payload)

    def close(self) -> None:
        self.sock.close()


def handshake(target: str, headers: dict[str, str] | None = None,
              extra: bytes = b"") -> bytes:
    """A WebSocket upgrade request for ``target``; ``headers`` override the usual ones
    (a value of ``None``-like empty key removal is done by the caller)."""
    fields = {
        "Host": "127.0.0.1",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
        **(headers or {}),
    }
    lines = [f"GET {target} HTTP/1.1".encode()]
    lines += [f"{k}: {v}".encode("latin-1") for k, v in fields.items() if v is not None]
    return b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n"


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0,
                 masked: bool = True, length: int | None = None) -> bytes:
    """A client frame (RFC 6455 §5.2); ``length`` claims another payload length."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv & 0x7) << 4 | opcode & 0x0F
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head = bytes((b0, mask_bit | n))
    elif n < 1 << 16:
        head = struct.pack("!BBH", b0, mask_bit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mask_bit | 127, n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def http_get(port: int, target: str, method: str = "GET", body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Status and body of a plain HTTP request (errors included)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{target}", data=body,
                                     method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=ANSWER_S) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()
