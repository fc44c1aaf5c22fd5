"""Encode-once WebSocket writes for the hub's fan-out (docs/benchmarks.md).

Tornado's ``write_message`` frames the message again for every socket and wraps each write
in a coroutine and an ``asyncio.Task``: for 10,000 subscribers that is most of a broadcast's
CPU. Here the frame is built once per broadcast and, for each plain stream (no
permessage-deflate, no TLS, not closing) with nothing queued, handed straight to the
kernel with ``socket.send``; only a remainder is queued through the stream's own ``write``,
so ordering with Tornado's writes is kept. Everything else returns ``None`` from
``plain_stream`` (asked once, when a socket registers) and the caller uses
``write_message`` as before. This reads private Tornado state, so every attribute is
checked and a missing one means "not plain" (a future Tornado degrades to the slow path,
it does not break).

``drop`` is the other end of a stream's life: the reset that ends a heartbeat-timeout
close, for a peer that no longer reads.
"""

from __future__ import annotations

import contextlib
import socket as _socket
import struct
from typing import Any

from tornado.iostream import IOStream

#: A protocol ping frame with no payload (server frames are unmasked: RFC 6455 §5.1).
PING_CONTROL = bytes((0x89, 0))

_NEEDED = ("socket", "closed", "write", "_write_buffer", "_total_write_index",
           "_total_write_done_index")


def text_frame(payload: bytes) -> bytes:
    """A final, unmasked text frame carrying ``payload`` (RFC 6455 §5.2)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


class PlainStream:
    """A socket's stream, found eligible for the fast path once, at registration.

    Compression, TLS and the stream's class never change on an open connection, so they
    are checked once; only closing can happen later, so ``open()`` checks that per write.
    """

    __slots__ = ("_ws", "stream")

    def __init__(self, ws: Any, stream: IOStream) -> None:
        self._ws = ws
        self.stream = stream

    def open(self) -> IOStream | None:
        """The stream while it may take frames; ``None`` once closing (the caller then uses
        ``write_message``, which raises ``WebSocketClosedError``, as it should)."""
        if self._ws.is_closing() or self.stream.socket is None:
            return None
        return self.stream


def plain_stream(socket: Any) -> PlainStream | None:
    """The socket's stream when the fast path is valid for it, else ``None``."""
    ws = getattr(socket, "ws_connection", None)
    if ws is None or getattr(ws, "mask_outgoing", True) or getattr(ws, "_compressor", 1):
        return None  # a client side, a compressed connection, or a Tornado we do not know
    stream = getattr(ws, "stream", None)
    if type(stream) is not IOStream or not all(hasattr(stream, a) for a in _NEEDED):
        return None  # SSLIOStream (TLS) and any other subclass keep Tornado's path
    if not callable(getattr(ws, "is_closing", None)):
        return None
    plain = PlainStream(ws, stream)
    return plain if plain.open() is not None else None


def unsent(stream: IOStream) -> int:
    """Bytes handed to the stream and not yet taken by the kernel."""
    return int(stream._total_write_index - stream._total_write_done_index)


def write(stream: IOStream, wire: bytes) -> int:
    """Write ``wire`` (straight to the socket when nothing is queued); the bytes left queued.

    Raises ``OSError`` (including Tornado's ``StreamClosedError``) when the connection is gone.
    """
    if not stream._write_buffer:
        return _send_then_queue(stream, wire)
    stream.write(wire)
    return len(wire)


def send_now(plain: PlainStream | None, wire: bytes) -> int | None:
    """A broadcast's write in the common case: the stream open and nothing queued, so
    ``wire`` goes straight to the kernel (a remainder is queued); returns the bytes left
    queued. ``None``: not that case (not plain, closing, bytes queued already) or the socket
    failed — the caller takes the general path, which fails the same way and cleans up."""
    stream = None if plain is None else plain.open()
    if stream is None or stream._write_buffer:
        return None
    try:
        return _send_then_queue(stream, wire)
    except OSError:
        return None


def _send_then_queue(stream: IOStream, wire: bytes) -> int:
    try:
        sent = stream.socket.send(wire)
    except (BlockingIOError, InterruptedError):
        sent = 0
    if sent == len(wire):
        return 0
    stream.write(wire[sent:])
    return len(wire) - sent


def stream_of(ws_handler: Any) -> IOStream | None:
    """A WebSocket handler's stream (None once closed: ``close()`` forgets it)."""
    stream = getattr(getattr(ws_handler, "ws_connection", None), "stream", None)
    return stream if isinstance(stream, IOStream) else None


def drop(stream: IOStream | None) -> None:
    """Drop a stream's TCP connection at once, with a reset.

    For a peer that stopped reading (docs/protocol.md, "Heartbeat"): the close frame sits
    behind unread data and will never be answered, and a plain ``close()`` of a socket with
    unsent data leaves the kernel flushing to a zero window (the peer stays connected, our
    end lingers in FIN_WAIT1). ``SO_LINGER`` 0 makes the close a reset: both ends are gone.
    """
    sock = getattr(stream, "socket", None)
    if stream is None or sock is None:
        return  # already closed
    with contextlib.suppress(OSError):
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, struct.pack("ii", 1, 0))
    stream.close()
