"""A TCP proxy on 127.0.0.1 that can go silent: ``pause()`` stops forwarding in both
directions without closing anything (no FIN, no RST), as a server that vanished behind a
NAT, a suspended VM or a dropped VPN looks to a client; ``resume()`` forwards again.

It runs its own asyncio loop on a daemon thread, so a synchronous test (and the kernel
client's own thread) can use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any


class SilentProxy:
    """Forwards ``127.0.0.1:<port>`` to ``127.0.0.1:<upstream>`` until paused."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = 0
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._flowing: asyncio.Event | None = None
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="silent-proxy",
                                        daemon=True)

    def start(self) -> SilentProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    async def _listen(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            client_w.close()
            return
        self._writers.update((client_w, server_w))
        await asyncio.gather(self._pump(client_r, server_w), self._pump(server_r, client_w),
                             return_exceptions=True)
        for w in (client_w, server_w):
            self._writers.discard(w)
            w.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        while True:
            await self._flowing.wait()  # paused: hold everything, close nothing
            data = await reader.read(65536)
            await self._flowing.wait()
            if not data:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    def _call(self, fn: Any) -> None:
        self._loop.call_soon_threadsafe(fn)

    def pause(self) -> None:
        assert self._flowing is not None
        self._call(self._flowing.clear)

    def resume(self) -> None:
        assert self._flowing is not None
        self._call(self._flowing.set)

    def close(self) -> None:
        async def shut() -> None:
            if self._server is not None:
                self._server.close()
            for w in list(self._writers):
                w.close()

        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> SilentProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
