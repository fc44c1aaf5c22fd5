"""ConfigSocket: the kernel's WebSocket link to a hotconf server (``docs/kernel.md``).

All network I/O runs on one daemon thread with its own asyncio loop, so Pings are answered
while a cell blocks the kernel's main thread. The socket knows nothing of IPython nor of the
follower's rules: it hands typed messages (``protocol.decode_message``) and link states to
callbacks (called on its thread); the link folds them with ``core.follow`` and decides where
user code runs. ``jupyter-hotconf watch`` uses it directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import itertools
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

from ..core.errors import ProtocolError
from ..core.follow import rest_snapshot
from ..core.messages import Message, Ping, Pong, Snapshot, StrEnum
from ..core.protocol import PING, PONG, CloseCode, decode_message
from .backoff import Backoff
from .discovery import Source, ca_context

log = logging.getLogger(__name__)

#: Every thread this package starts has a name with this prefix (tests count them).
THREAD_PREFIX = "hotconf-"


class LinkStatus(StrEnum):
    """A link's state; equal to the plain strings (``cfg.status == "connected"`` holds)."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ERROR = "error"
    LOCAL = "local"  # local mode: the kernel runs the engine itself
    DISABLED = "disabled"  # loaded once or fixed: nothing followed


MessageCallback = Callable[[Message], None]
StatusCallback = Callable[[LinkStatus, "str | None", int], None]
RestCallback = Callable[[Snapshot], None]

_FINAL_HTTP = {401: "unauthorized", 403: "forbidden"}
_FINAL_CLOSE = {CloseCode.FORBIDDEN: "forbidden", CloseCode.BAD_TENANT: "bad tenant id",
                CloseCode.TOKEN_EXPIRED: "token expired"}  # a new token needs a new link
_WAKE = object()  # queued to end a session early (close / reconnect)
_ids = itertools.count(1)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _retry_after_in_reason(reason: str | None) -> float | None:
    """A ``CloseCode.TOO_MANY`` close has no headers: read ``retry after N`` from its reason."""
    m = re.search(r"retry[-_ ]after\D{0,5}(\d+(?:\.\d+)?)", reason or "", re.IGNORECASE)
    return float(m.group(1)) if m else None


def _send(conn: WebSocketClientConnection, text: str) -> None:
    """Write without raising: a link that closed meanwhile is noticed by the read side."""
    try:
        fut = conn.write_message(text)
    except WebSocketClosedError:
        return
    fut.add_done_callback(lambda f: f.cancelled() or f.exception())  # consume a late error


class ConfigSocket:
    """Follows one tenant over ``protocol=2&include=config``, reconnecting per ``Backoff``.

    ``on_status(status, error, attempts)`` gets a ``LinkStatus`` (connecting, connected,
    disconnected, error); ``on_message(message)`` every typed message but Ping/Pong;
    ``on_rest(snapshot)`` ``GET api/tenants/<t>`` as an epoch-less ``Snapshot``, polled while
    the link is in ``error`` (the seed's polling fallback). All three are called on the
    socket's thread, one at a time.
    """

    def __init__(
        self,
        source: Source,
        tenant_id: str,
        *,
        on_message: MessageCallback,
        on_status: StatusCallback | None = None,
        on_rest: RestCallback | None = None,
        heartbeat_timeout: float = 10.0,
        backoff: Backoff | None = None,
        auto_reconnect: bool = True,
        connect_timeout: float = 10.0,
    ) -> None:
        if source.kind != "server" or not source.ws_url:
            raise ValueError(f"ConfigSocket needs a server source, got {source.describe()}")
        self.source = source
        self.tenant_id = tenant_id
        self.on_message = on_message
        self.on_status = on_status or (lambda status, error, attempts: None)
        self.on_rest = on_rest
        self.heartbeat_timeout = heartbeat_timeout
        self.backoff = backoff or Backoff()
        self.auto_reconnect = auto_reconnect
        self.connect_timeout = connect_timeout
        self.status = LinkStatus.DISCONNECTED
        self.error: str | None = None
        self._closing = False
        self.final = False  # stopped for good on HTTP 401/403, FORBIDDEN or BAD_TENANT
        self._skip_delay = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Any] | None = None
        self._wake: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=self._thread_main, name=f"{THREAD_PREFIX}socket-{tenant_id}-{next(_ids)}",
            daemon=True,
        )

    @property
    def url(self) -> str:
        sep = "&" if "?" in str(self.source.ws_url) else "?"
        query = f"tenant_id={quote(self.tenant_id)}&protocol=2&include=config"
        return f"{self.source.ws_url}{sep}{query}"

    # -- control, from any thread -------------------------------------------------------------
    def start(self) -> ConfigSocket:
        self._thread.start()
        self._ready.wait(5)
        return self

    def reconnect(self) -> None:
        """Drop the current link (or cut the wait) and connect again now, attempts reset."""
        self._skip_delay = True
        self._poke()

    def close(self, timeout: float = 5.0) -> None:
        """Stop for good: closes the socket, ends the thread and its loop."""
        self._closing = True
        self._poke()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _poke(self) -> None:
        loop, queue, wake = self._loop, self._queue, self._wake
        if loop is None or queue is None or wake is None:
            return
        with contextlib.suppress(RuntimeError):  # loop already closed
            loop.call_soon_threadsafe(queue.put_nowait, _WAKE)
            loop.call_soon_threadsafe(wake.set)

    # -- the socket's thread --------------------------------------------------------------------
    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        except Exception:  # a bug here must not kill the kernel silently
            log.exception("hotconf socket for %r crashed", self.tenant_id)
            self._set_status(LinkStatus.ERROR, "internal error in the hotconf client (see the log)")
        finally:
            with contextlib.suppress(Exception):
                AsyncHTTPClient().close()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            asyncio.set_event_loop(None)
            loop.close()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._wake = asyncio.Event()
        self._ready.set()
        while not self._closing:
            if not (self.backoff.exhausted and self.status is LinkStatus.ERROR):
                self._set_status(LinkStatus.CONNECTING, self.error)
            retry_after, final = await self._attempt()
            if self._closing:
                break
            if final is not None:
                self.final = True
                self._set_status(LinkStatus.ERROR, final)
                log.warning("hotconf %r: %s; not retrying", self.tenant_id, final)
                return
            if self._skip_delay:
                self._skip_delay = False
                self.backoff.reset()
                continue
            if not self.auto_reconnect:
                self._set_status(LinkStatus.DISCONNECTED, self.error)
                return
            delay = self.backoff.next_delay(retry_after)
            if self.backoff.gave_up:
                gave_up = f"gave up after {self.backoff.max_attempts} attempts"
                self._set_status(LinkStatus.ERROR, gave_up)
                return
            if self.backoff.exhausted:
                self._set_status(
                    LinkStatus.ERROR,
                    f"{self.error or 'unreachable'}; retrying every {delay:g} s "
                    f"after {self.backoff.max_attempts} failed attempts",
                )
                await self._poll_rest()
            else:
                self._set_status(LinkStatus.DISCONNECTED, self.error)
            log.info("hotconf %r: reconnecting in %.2f s (attempt %d)",
                     self.tenant_id, delay, self.backoff.attempts)
            await self._sleep(delay)

    async def _sleep(self, delay: float) -> None:
        assert self._wake is not None
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    async def _attempt(self) -> tuple[float | None, str | None]:
        """One connection and its session: ``(retry_after, final_error)`` when it ends."""
        assert self._queue is not None
        while not self._queue.empty():  # stale wake-ups from before this attempt
            self._queue.get_nowait()
        request = HTTPRequest(
            self.url, headers=self.source.headers(), connect_timeout=self.connect_timeout,
            request_timeout=self.connect_timeout, ssl_options=ca_context(),
        )
        try:
            conn = await websocket_connect(
                request, on_message_callback=self._queue.put_nowait,
                max_message_size=64 * 1024 * 1024,
            )
        except HTTPClientError as e:
            if e.code in _FINAL_HTTP:
                return None, f"HTTP {e.code} {_FINAL_HTTP[e.code]} at {self.source.ws_url}"
            headers = e.response.headers if e.response is not None else {}
            self.error = f"HTTP {e.code} from {self.source.ws_url}"
            return parse_retry_after(headers.get("Retry-After")), None
        except Exception as e:  # OSError, timeouts, WebSocketError, StreamClosedError …
            self.error = f"cannot connect to {self.source.ws_url}: {e or type(e).__name__}"
            return None, None
        try:
            return await self._session(conn)
        finally:
            conn.close()

    async def _session(self, conn: WebSocketClientConnection) -> tuple[float | None, str | None]:
        assert self._queue is not None
        last = time.monotonic()

        def alive(_data: bytes = b"") -> None:
            nonlocal last
            last = time.monotonic()

        conn.on_ping = alive  # type: ignore[method-assign,assignment]  # protocol pings count as life
        self.backoff.connected()
        self.error = None
        self._set_status(LinkStatus.CONNECTED, None)
        try:
            while not self._closing:
                timeout = last + self.heartbeat_timeout - time.monotonic()
                try:
                    frame = await asyncio.wait_for(self._queue.get(), max(timeout, 0.001))
                except asyncio.TimeoutError:
                    if time.monotonic() - last >= self.heartbeat_timeout:
                        self.error = f"no frame for {self.heartbeat_timeout:g} s (dead link)"
                        return None, None
                    continue
                if frame is _WAKE:
                    return None, None
                if frame is None:
                    return self._closed(conn.close_code, conn.close_reason)
                alive()
                self._handle_frame(conn, frame)
            return None, None
        finally:
            self.backoff.disconnected()

    def _closed(self, code: int | None, reason: str | None) -> tuple[float | None, str | None]:
        what = f"closed by the server ({code}{': ' + reason if reason else ''})"
        if code in _FINAL_CLOSE:
            return None, f"{_FINAL_CLOSE[CloseCode(code)]}: {what}"
        self.error = what
        if code == CloseCode.TOO_MANY:
            return _retry_after_in_reason(reason), None
        return None, None

    def _handle_frame(self, conn: WebSocketClientConnection, frame: str | bytes) -> None:
        text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        if text == PING:
            _send(conn, PONG)
            return
        try:
            message = decode_message(text)
        except ProtocolError as e:
            log.warning("hotconf %r: ignoring a bad frame: %s", self.tenant_id, e)
            return
        if isinstance(message, Ping):
            _send(conn, PONG)
        elif message is not None and not isinstance(message, Pong):
            self._deliver(self.on_message, message)

    async def _poll_rest(self) -> None:
        """While the socket is down for good, ask REST once per retry (polling fallback)."""
        if self.on_rest is None:
            return
        url = self.source.rest_url("tenants", quote(self.tenant_id))
        try:
            response = await AsyncHTTPClient().fetch(
                url, headers=self.source.headers(), request_timeout=self.connect_timeout,
                ssl_options=ca_context(),
            )
            body = json.loads(response.body)
        except Exception as e:
            log.debug("hotconf %r: REST poll of %s failed: %s", self.tenant_id, url, e)
            return
        if isinstance(body, dict):
            self._deliver(self.on_rest, rest_snapshot(self.tenant_id, body))

    def _deliver(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("hotconf %r: a message handler raised", self.tenant_id)

    def _set_status(self, status: LinkStatus, error: str | None) -> None:
        self.status, self.error = status, error
        self._deliver(self.on_status, status, error, self.backoff.attempts)
