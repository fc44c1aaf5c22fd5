"""A tiny Tornado server that speaks docs/protocol.md (protocol=2) for client unit tests.

It lets a test script what the real server would only do under stress (refuse with 401,
429 + Retry-After, close 4403, go silent). Behaviour a user relies on is also tested against
the real server (test_server_kernels.py).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from tornado import web, websocket
from tornado.httpserver import HTTPServer

from jupyter_hotconf.core import protocol
from jupyter_hotconf.pytest_plugin import free_port


class FakeHotconf:
    def __init__(self, token: str | None = None, port: int | None = None) -> None:
        self.token = token
        self.port = port or free_port()
        self.epoch = "e1"
        self.revision = 1
        self.config: dict[str, Any] = {"pricing": {"discount": 0.1}}
        self.refuse: tuple[int, dict[str, str]] | None = None  # HTTP status at the handshake
        self.close_on_open: tuple[int, str] | None = None
        self.silent = False  # no Ping frames: the client must detect the dead link
        self.connects = 0
        self.received: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.sockets: set[websocket.WebSocketHandler] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: HTTPServer | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, name="test-fakehotconf", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hotconf/"

    def snapshot(self) -> str:
        return protocol.encode({"Snapshot": {
            "tenant_id": "acme", "revision": self.revision, "checksum": f"c{self.revision}",
            "epoch": self.epoch, "exists": True, "valid": True, "error": None,
            "config": self.config, "mode": "dev"}})

    def changed(self, revision: int, config: dict[str, Any], epoch: str | None = None) -> str:
        return protocol.encode({"ConfigChanged": {
            "tenant_id": "acme", "change_type": "modified", "revision": revision,
            "epoch": epoch or self.epoch, "checksum": f"c{revision}",
            "changed_paths": ["/pricing/discount"], "timestamp": "2026-11-26T00:00:00Z",
            "config": config}})

    # -- control from the test thread -------------------------------------------------------------
    def start(self) -> FakeHotconf:
        self._thread.start()
        self._started.wait(10)
        return self

    def call(self, fn: Any, *args: Any) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(fn, *args)

    def send_all(self, text: str) -> None:
        self.call(lambda: [s.write_message(text) for s in list(self.sockets)])

    def close_all(self, code: int = 1001, reason: str = "") -> None:
        self.call(lambda: [s.close(code, reason) for s in list(self.sockets)])

    def stop(self) -> None:
        def _stop() -> None:
            assert self._server is not None
            self._server.stop()
            for s in list(self.sockets):
                s.close(1001)
            asyncio.get_running_loop().call_later(0.2, asyncio.get_running_loop().stop)

        if self.loop is not None and self._thread.is_alive():
            self.call(_stop)
            self._thread.join(10)

    def _main(self) -> None:
        fake = self
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop

        class Ws(websocket.WebSocketHandler):
            def prepare(self) -> None:
                fake.headers.append(dict(self.request.headers))
                auth = self.request.headers.get("Authorization")
                if fake.token and auth != f"token {fake.token}":
                    raise web.HTTPError(401)
                if fake.refuse:
                    code, headers = fake.refuse
                    self.set_status(code)
                    for k, v in headers.items():  # send_error would clear them
                        self.set_header(k, v)
                    self.finish()

            def open(self) -> None:
                fake.connects += 1
                if fake.close_on_open:
                    self.close(*fake.close_on_open)
                    return
                fake.sockets.add(self)
                self.write_message(fake.snapshot())
                self._ping()

            def _ping(self) -> None:
                if self in fake.sockets and not fake.silent:
                    self.write_message(protocol.PING)
                if self in fake.sockets:
                    asyncio.get_running_loop().call_later(0.2, self._ping)

            def on_message(self, message: str | bytes) -> None:
                fake.received.append(str(message))

            def on_close(self) -> None:
                fake.sockets.discard(self)

        class Rest(web.RequestHandler):
            def get(self, tenant: str) -> None:
                self.write({"tenant_id": tenant, "revision": fake.revision,
                            "checksum": f"c{fake.revision}", "valid": True, "error": None,
                            "config": fake.config})

        app = web.Application([(r"/hotconf/ws", Ws), (r"/hotconf/api/tenants/([^/]+)", Rest)])

        async def serve() -> None:
            self._server = HTTPServer(app)
            self._server.listen(self.port, "127.0.0.1")
            self._started.set()

        loop.run_until_complete(serve())
        loop.run_forever()
        loop.close()
