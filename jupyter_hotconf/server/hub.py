"""ConfigHub: the registry of open sockets, encode-once broadcast, heartbeat sweep.

Everything here runs on the server's loop thread. The hub knows sockets only through the
small ``Socket`` protocol (Tornado's ``WebSocketHandler`` satisfies it), so it is shared by
the Jupyter extension and the standalone server (docs/protocol.md). Who may connect at all
is ``admission``'s question; the hub asks it and keeps the counts it needs.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from tornado.ioloop import PeriodicCallback
from tornado.iostream import IOStream
from tornado.websocket import WebSocketClosedError

from ..core import protocol
from ..core.errors import ProtocolError
from ..core.protocol import CloseCode, MessageKind, close_reason
from ..core.store import Change, ConfigStore
from ..core.tenants import tenant_allowed
from . import fastwrite, metrics
from .admission import Admission, Refusal
from .broker import Broker
from .limits import HubLimits
from .subscription import Subscription

log = logging.getLogger(__name__)

#: The close code of a server going away (RFC 6455 §7.4.1); not one of ours, so not a
#: ``CloseCode``.
GOING_AWAY = 1001
PING_FRAME = protocol.PING.encode()
PONG_FRAME = protocol.PONG.encode()
#: One beat for a plain stream: the ``"Ping"`` text frame and a protocol ping, one write.
BEAT_WIRE = fastwrite.text_frame(PING_FRAME) + fastwrite.PING_CONTROL


class Socket(Protocol):
    """What the hub needs of a socket (Tornado's ``WebSocketHandler`` has it)."""

    def write_message(self, message: bytes) -> Awaitable[None]: ...
    def ping(self, data: bytes = b"") -> None: ...
    def close(self, code: int | None = None, reason: str | None = None) -> None: ...


class Connection:
    """The hub's record of one open socket; slots keep thousands of them small."""

    __slots__ = (
        "closed", "expires", "last_seen", "peer", "pending", "plain", "socket", "sub",
        "window", "window_start",
    )

    def __init__(
        self,
        socket: Socket,
        sub: Subscription,
        peer: str,
        now: float,
        plain: fastwrite.PlainStream | None = None,
    ) -> None:
        self.socket = socket
        self.plain = plain  # the stream when the fast path suits it, decided at registration
        self.sub = sub
        self.peer = peer
        self.last_seen = now
        self.pending = 0  # bytes handed to the stream and not yet flushed to the kernel
        self.window_start = now
        self.window = 0  # inbound frames since window_start
        self.closed = False
        self.expires: float | None = None  # hub clock time its token expires (sweep closes)

    def __repr__(self) -> str:
        return f"<Connection {self.peer} {self.sub.describe()}>"


class ConfigHub:
    """Delivers each ``Change`` from the broker to the sockets that follow its tenant."""

    def __init__(
        self,
        broker: Broker,
        store: ConfigStore,
        limits: HubLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.limits = limits or HubLimits()
        self.clock = clock
        self.connections: set[Connection] = set()
        self._by_tenant: dict[str, set[Connection]] = {}
        self._wildcard: set[Connection] = set()
        self.admission = Admission(self.limits, self._follower_count, clock=clock)
        self.closes: Counter[int] = Counter()  # close code -> count, for info and tests
        self.max_pending_seen = 0
        #: Writes per path ("fast": encode-once straight to the stream, "slow":
        #: ``write_message``), for tests and benchmarks; ``fast_path=False`` forces "slow".
        self.writes: Counter[str] = Counter()
        self.fast_path = True
        self._sweeper: PeriodicCallback | None = None
        self._last_sweep: float | None = None
        #: ``time.monotonic()`` when the change being published was applied (set by the
        #: engine around a publish), so a broadcast times applied → last subscriber written.
        self.applied_at: float | None = None
        #: Set by the engine around a large batch (a first start recording 10,000 tenants, a
        #: checkout of hundreds): each broadcast is logged at debug, the batch in one line.
        self.quiet = False
        self._unsubscribe = broker.subscribe(self._deliver)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the one heartbeat sweep (on the current loop)."""
        if self._sweeper is None:
            self._sweeper = PeriodicCallback(self.sweep, self.limits.heartbeat_interval_s * 1000)
            self._last_sweep = None
            self._sweeper.start()

    def stop(self, code: int = GOING_AWAY, reason: str = "server shutting down") -> None:
        """Stop the sweep, leave the broker and close every socket."""
        if self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper = None
        self._unsubscribe()
        for conn in list(self.connections):
            self.close(conn, code, reason)

    # -- admission ---------------------------------------------------------------------
    def admit(self, peer: str, sub: Subscription, *, rate: bool = True) -> Refusal | None:
        """Check the allow-list and limits for a new socket; ``rate`` spends a token of the
        per-address connect bucket (only at the handshake)."""
        return self.admission.check(peer, sub, len(self.connections), rate=rate)

    def _follower_count(self, tenant_id: str) -> int:
        return len(self._by_tenant.get(tenant_id, ()))

    # -- registration ------------------------------------------------------------------
    def register(self, socket: Socket, sub: Subscription, peer: str,
                 expires: float | None = None) -> Connection | Refusal:
        """Add an open socket (re-checking the limits a concurrent handshake may have
        taken) and send its Snapshots under protocol=2. ``expires`` (seconds since the
        epoch): the sweep closes it ``TOKEN_EXPIRED`` once that time has passed."""
        refusal = self.admit(peer, sub, rate=False)
        if refusal is not None:
            metrics.refused(refusal.kind)
            return refusal
        conn = Connection(socket, sub, peer, self.clock(), fastwrite.plain_stream(socket))
        if expires is not None:
            conn.expires = conn.last_seen + (expires - time.time())
        self.connections.add(conn)
        for tenant in sub.tenants:
            self._by_tenant.setdefault(tenant, set()).add(conn)
        if sub.wildcard:
            self._wildcard.add(conn)
        log.info("hotconf: %s follows %s (%d open)", peer, sub.describe(), len(self.connections))
        if sub.v2:
            frames = self.snapshots(sub)
            for frame in frames:
                self.send(conn, frame)
            metrics.sent(len(frames))
        return conn

    def unregister(self, conn: Connection) -> None:
        """Forget a socket; safe to call twice (close() and the handler's on_close)."""
        conn.closed = True
        if conn not in self.connections:
            return
        self.connections.discard(conn)
        self._wildcard.discard(conn)
        for tenant in conn.sub.tenants:
            followers = self._by_tenant.get(tenant)
            if followers is not None:
                followers.discard(conn)
                if not followers:
                    del self._by_tenant[tenant]

    def close(self, conn: Connection, code: int, reason: str) -> None:
        """Close ``conn`` with ``code`` (counted in ``closes``) and forget it at once."""
        if conn.closed:
            return
        reason = close_reason(reason)
        log.info("hotconf: closing %r with %d: %s", conn, code, reason)
        self.closes[int(code)] += 1
        self.unregister(conn)
        stream = fastwrite.stream_of(conn.socket)  # close() forgets it
        with contextlib.suppress(WebSocketClosedError):  # already gone
            conn.socket.close(int(code), reason)
        if code == CloseCode.HEARTBEAT_TIMEOUT:  # a dead peer never answers the close
            fastwrite.drop(stream)

    # -- outbound ----------------------------------------------------------------------
    def snapshots(self, sub: Subscription) -> list[bytes]:
        tenants = set(sub.tenants)
        if sub.wildcard:
            tenants.update(
                t for t in self.store.tenant_ids()
                if tenant_allowed(t, self.limits.allowed_tenants) and sub.may_follow(t)
            )
        epoch, mode = self.store.epoch, self.limits.mode
        messages = [
            protocol.snapshot(self.store.get(t), t, epoch=epoch, mode=mode) for t in sorted(tenants)
        ]
        return [protocol.encode(m).encode() for m in messages]

    def receivers(self, tenant_id: str) -> list[Connection]:
        found = list(self._by_tenant.get(tenant_id, ()))
        if self._wildcard and tenant_allowed(tenant_id, self.limits.allowed_tenants):
            found.extend(c for c in self._wildcard
                         if tenant_id not in c.sub.tenants and c.sub.may_follow(tenant_id))
        return found

    @staticmethod
    def _encode(change: Change, sub: Subscription) -> bytes | None:
        """The frame a subscriber gets for ``change`` (None: nothing); the mapping itself is
        ``core.protocol``'s, so server and kernel cannot drift apart."""
        message = (
            protocol.frames_for(change, sub.include) if sub.v2 else protocol.seed_frame_for(change)
        )
        return None if message is None else protocol.encode(message).encode()

    def _deliver(self, change: Change) -> None:
        self.broadcast(change)

    def broadcast(self, change: Change) -> int:
        """Send ``change`` to its tenant's followers, encoding each frame variant once.
        Returns how many sockets it was written to."""
        start = time.monotonic()
        frames: dict[tuple[bool, tuple[str, ...]], tuple[bytes, bytes] | None] = {}
        sent = direct = 0
        fast = self.fast_path
        for conn in self.receivers(change.tenant_id):
            sub = conn.sub
            variant = (sub.v2, sub.include)
            if variant not in frames:
                frame = self._encode(change, sub)
                frames[variant] = None if frame is None else (frame, fastwrite.text_frame(frame))
            encoded = frames[variant]
            if encoded is None:
                continue
            # The common case inline (an open plain stream with nothing queued: nothing to
            # check for a slow consumer); anything else takes ``send``.
            queued = None if conn.closed or not fast else fastwrite.send_now(conn.plain, encoded[1])
            if queued is None:
                sent += self.send(conn, *encoded)
                continue
            direct += 1
            if queued:
                self.max_pending_seen = max(self.max_pending_seen, queued)
        self.writes["fast"] += direct
        sent += direct
        if sent:  # one observation and one increment per broadcast, not per socket
            metrics.DELIVERY_DURATION.observe(time.monotonic() - (self.applied_at or start))
            metrics.sent(sent)
        (log.debug if self.quiet else log.info)(
            "hotconf broadcast: tenant=%s change=%s revision=%d receivers=%d",
            change.tenant_id,
            change.change_type.value,
            change.revision,
            sent,
        )
        return sent

    def send(self, conn: Connection, frame: bytes, wire: bytes | None = None) -> bool:
        """Queue ``frame`` for ``conn`` unless it is a slow consumer (then close it
        ``SLOW_CONSUMER``).

        ``wire`` is ``frame`` already framed (``fastwrite.text_frame``), so a broadcast
        frames once; a plain stream gets it directly, any other socket ``write_message``.
        """
        if conn.closed:
            return False
        stream = self._fast_stream(conn)
        if stream is not None:
            return self._write_fast(conn, stream, wire or fastwrite.text_frame(frame))
        if self._too_slow(conn, conn.pending, len(frame)):
            return False
        try:
            written = conn.socket.write_message(frame)
        except WebSocketClosedError:
            self.unregister(conn)
            return False
        self.writes["slow"] += 1
        conn.pending += len(frame)
        self.max_pending_seen = max(self.max_pending_seen, conn.pending)
        future: Any = written
        size = len(frame)
        future.add_done_callback(lambda f: self._flushed(conn, size, f))
        return True

    def _fast_stream(self, conn: Connection) -> IOStream | None:
        """The stream to write ``conn``'s frames to directly, or None for ``write_message``
        (not plain since registration, closing now, or ``fast_path`` switched off)."""
        if conn.plain is None or not self.fast_path:
            return None
        return conn.plain.open()

    def _too_slow(self, conn: Connection, pending: int, size: int) -> bool:
        """Close ``conn`` with ``SLOW_CONSUMER`` if ``size`` more bytes would pass
        ``max_pending_bytes``."""
        limit = self.limits.max_pending_bytes
        if limit and pending and pending + size > limit:
            metrics.count("hotconf_slow_consumer_closes")
            self.close(
                conn,
                CloseCode.SLOW_CONSUMER,
                f"slow consumer: {pending} bytes unsent (max_pending_bytes={limit})",
            )
            return True
        return False

    def _write_fast(self, conn: Connection, stream: IOStream, wire: bytes) -> bool:
        """Write ready-made frame bytes to a plain stream; unsent bytes are read from the
        stream itself (no callback per write). A dead socket closes that connection only."""
        pending = fastwrite.unsent(stream)  # every write to this stream, whichever path
        if self._too_slow(conn, pending, len(wire)):
            return False
        try:
            queued = fastwrite.write(stream, wire)
        except OSError as err:  # StreamClosedError too
            log.debug("hotconf: %r is gone: %s", conn, err)
            self.unregister(conn)
            if not stream.closed():
                stream.close(exc_info=err)  # the handler's on_close follows
            return False
        self.writes["fast"] += 1
        self.max_pending_seen = max(self.max_pending_seen, pending + queued)
        return True

    @staticmethod
    def _flushed(conn: Connection, size: int, future: Any) -> None:
        conn.pending -= size
        future.exception()  # retrieve it: a closed stream is handled by on_close

    # -- inbound -----------------------------------------------------------------------
    def received(self, conn: Connection, frame: str | bytes | None) -> None:
        """Any inbound frame (``None`` = a protocol ping or pong) counts as life; a client's
        ``"Ping"`` is answered; a flood or a frame that is not a message closes with
        ``POLICY``."""
        now = self.clock()
        conn.last_seen = now
        if now - conn.window_start >= 1.0:
            conn.window_start, conn.window = now, 0
        conn.window += 1
        flood = self.limits.max_messages_per_second
        if flood and conn.window > flood:
            self.close(conn, CloseCode.POLICY, f"flood: more than {flood} frames per second")
            return
        if frame is None:
            return
        try:
            kind, _body = protocol.decode(frame)
        except ProtocolError as err:
            self.close(conn, CloseCode.POLICY, f"bad frame: {err}")
            return
        if kind is MessageKind.PING and self.send(conn, PONG_FRAME):
            metrics.sent(1)

    def sweep(self) -> None:
        """The one heartbeat: close the silent, ping the rest ("Ping" + a protocol ping,
        one pre-built write per plain stream)."""
        now = self.clock()
        # A sweep that fires late means this loop was stalled (GC, a slow handler, a starved
        # core): frames that arrived meanwhile still sit unread in the sockets, so the stall
        # is not the clients' silence. Without this, one stall would close every client.
        previous, self._last_sweep = self._last_sweep, now
        interval = self.limits.heartbeat_interval_s
        stall = max(0.0, now - previous - interval) if previous is not None else 0.0
        timeout = self.limits.heartbeat_timeout_s + stall
        pinged = 0
        for conn in list(self.connections):
            silent = now - conn.last_seen
            if silent > timeout:
                self.close(
                    conn,
                    CloseCode.HEARTBEAT_TIMEOUT,
                    f"heartbeat timeout: nothing received for {silent:.1f}s",
                )
                continue
            if conn.expires is not None and now >= conn.expires:
                self.close(conn, CloseCode.TOKEN_EXPIRED, "token expired")
                continue
            stream = self._fast_stream(conn)
            if stream is not None:
                pinged += self._write_fast(conn, stream, BEAT_WIRE)
            elif self.send(conn, PING_FRAME):
                pinged += 1
                try:
                    conn.socket.ping(b"")
                except WebSocketClosedError:
                    self.unregister(conn)
        metrics.sent(pinged)
        self.admission.forget_idle()
