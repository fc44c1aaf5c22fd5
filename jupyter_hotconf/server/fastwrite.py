"""Encode-once WebSocket writes for the hub's fan-out (issue 7, docs/benchmarks.md).

Tornado's ``write_message`` frames the message again for every socket and wraps each write
in a coroutine and an ``asyncio.Task``: for 10,000 subscribers that is most of a broadcast's
CPU. Here the frame is built once per broadcast and, for each plain stream (no
permessage-deflate, no TLS, not closing) with nothing queued, handed straight to the
kernel with ``socket.send``; only a remainder is queued through the stream's own ``write``,
so ordering with Tornado's writes is kept. Everything else returns ``None`` from
``plain_stream`` and the caller uses ``write_message`` as before. This reads private Tornado
state, so every attribute is checked and a missing one means "not plain" (a future Tornado
degrades to the slow path, it does not break).
"""

from __future__ import annotations

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


def plain_stream(socket: Any) -> IOStream | None:
    """The socket's ``IOStream`` when the fast path is valid for it, else ``None``."""
    ws = getattr(socket, "ws_connection", None)
    if ws is None or getattr(ws, "mask_outgoing", True) or getattr(ws, "_compressor", 1):
        return None  # a client side, a compressed connection, or a Tornado we do not know
    stream = getattr(ws, "stream", None)
    if type(stream) is not IOStream or not all(hasattr(stream, a) for a in _NEEDED):
        return None  # SSLIOStream (TLS) and any other subclass keep Tornado's path
    is_closing = getattr(ws, "is_closing", None)
    if is_closing is None or is_closing() or stream.socket is None:
        return None  # closing: write_message raises WebSocketClosedError, as it should
    return stream


def unsent(stream: IOStream) -> int:
    """Bytes handed to the stream and not yet taken by the kernel."""
    return int(stream._total_write_index - stream._total_write_done_index)


def write(stream: IOStream, wire: bytes) -> int:
    """Write ``wire`` (straight to the socket when nothing is queued); the bytes left queued.

    Raises ``OSError`` (including Tornado's ``StreamClosedError``) when the connection is gone.
    """
    if not stream._write_buffer:
        try:
            sent = stream.socket.send(wire)
        except (BlockingIOError, InterruptedError):
            sent = 0
        if sent == len(wire):
            return 0
        wire = wire[sent:]
    stream.write(wire)
    return len(wire)
