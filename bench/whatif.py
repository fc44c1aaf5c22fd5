"""What-if prototypes of hot-path fixes, measured without editing the server's own files.

``python -m bench.whatif --nodelay --fast-send serve …`` runs ``jupyter-hotconf serve`` with
``ConfigHub`` patched in this process only, so the benchmark can show what a change to
``jupyter_hotconf/server/hub.py`` would buy before its owner makes it (issue 7: "profile,
fix the hot path, measure again"). Nothing here is imported by the package.

- ``--nodelay``: ``set_nodelay(True)`` on each socket at registration. Tornado leaves Nagle's
  algorithm on for WebSockets (asyncio, under the ``websockets`` peer, turns it off), so a
  small frame sent while the previous one is unacknowledged can wait for a delayed ACK.
- ``--fast-send``: build the WebSocket frame once per broadcast and write the same bytes to
  each plain stream (no compression, no TLS), reading the unsent byte count from the stream
  instead of a done-callback per write. Tornado's ``write_message`` costs a coroutine and an
  ``asyncio.Task`` per call (``ensure_future(wrapper())``), which is most of a broadcast.
- ``--direct-send``: as ``--fast-send``, and when the stream has nothing queued, ``send()``
  on the socket directly (queueing only a remainder), skipping the Future that every
  ``IOStream.write`` creates — what asyncio's transports do under the ``websockets`` peer.
- ``--fast-sweep``: the heartbeat sweep writes ``"Ping"`` and the protocol ping as one
  pre-built chunk per connection, straight to the socket when nothing is queued.
"""

from __future__ import annotations

import argparse
import struct
import sys
from typing import Any

from tornado.iostream import SSLIOStream, StreamClosedError


def _frame(payload: bytes) -> bytes:
    """A final, unmasked text frame (RFC 6455 §5.2) — what a server sends."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


def _plain_stream(conn: Any) -> Any:
    """The connection's IOStream when the fast path is valid for it (no per-connection
    compression, no TLS), else None."""
    ws = getattr(conn.socket, "ws_connection", None)
    stream = getattr(ws, "stream", None)
    if stream is None or stream.closed() or getattr(ws, "_compressor", None) is not None:
        return None  # the original path handles closed streams and compression
    return None if isinstance(stream, SSLIOStream) else stream


def _write(hub: Any, conn: Any, stream: Any, wire: bytes, direct: bool) -> bool:
    """Write ``wire``: straight to the socket when nothing is queued (``direct``; as
    asyncio's transport.write does), queueing only what the kernel did not take."""
    if direct and not stream._write_buffer:
        try:
            sent = stream.socket.send(wire)
        except BlockingIOError:
            sent = 0
        except OSError:
            hub.unregister(conn)
            return False
        if sent == len(wire):
            return True
        wire = wire[sent:]
    try:
        stream.write(wire)
    except StreamClosedError:
        hub.unregister(conn)
        return False
    return True


def patch(nodelay: bool, fast_send: bool, direct: bool = False) -> None:
    from jupyter_hotconf.core.protocol import CloseCode
    from jupyter_hotconf.server.hub import ConfigHub

    if nodelay:
        register = ConfigHub.register

        def register_nodelay(self: ConfigHub, socket: Any, sub: Any, peer: str) -> Any:
            set_nodelay = getattr(socket, "set_nodelay", None)
            if set_nodelay is not None:
                set_nodelay(True)
            return register(self, socket, sub, peer)

        ConfigHub.register = register_nodelay  # type: ignore[method-assign]

    if fast_send or direct:
        send = ConfigHub.send
        last: list[Any] = [None, b""]  # (payload object, its frame): one broadcast at a time

        def fast(self: ConfigHub, conn: Any, frame: bytes) -> bool:
            stream = None if conn.closed else _plain_stream(conn)
            if stream is None:
                return send(self, conn, frame)
            if last[0] is not frame:
                last[0], last[1] = frame, _frame(frame)
            wire = last[1]
            pending = stream._total_write_index - stream._total_write_done_index
            limit = self.limits.max_pending_bytes
            if limit and pending and pending + len(wire) > limit:
                self.close(
                    conn,
                    CloseCode.SLOW_CONSUMER,
                    f"slow consumer: {pending} bytes unsent (max_pending_bytes={limit})",
                )
                return False
            return _write(self, conn, stream, wire, direct)

        ConfigHub.send = fast  # type: ignore[method-assign]


def patch_sweep() -> None:
    """One write per connection per beat: the ``"Ping"`` text frame and the protocol ping
    frame built once per sweep and written together (the sweep now makes two writes, one
    through ``write_message``'s Task, one through ``ping``)."""
    from jupyter_hotconf.core import protocol
    from jupyter_hotconf.core.protocol import CloseCode
    from jupyter_hotconf.server.hub import ConfigHub

    sweep = ConfigHub.sweep
    wire = _frame(protocol.PING.encode()) + bytes((0x89, 0))  # text "Ping" + ping, no data

    def fast_sweep(self: ConfigHub) -> None:
        now = self.clock()
        timeout = self.limits.heartbeat_timeout_s
        slow: list[Any] = []
        for conn in list(self.connections):
            silent = now - conn.last_seen
            if silent > timeout:
                self.close(
                    conn,
                    CloseCode.HEARTBEAT_TIMEOUT,
                    f"heartbeat timeout: nothing received for {silent:.1f}s",
                )
                continue
            stream = _plain_stream(conn)
            if stream is None or stream._write_buffer:
                slow.append(conn)
                continue
            _write(self, conn, stream, wire, direct=True)
        if slow:  # the original path for the rest (and the bucket cleanup it does)
            keep = self.connections
            self.connections = set(slow)
            try:
                sweep(self)
            finally:
                self.connections = keep

    ConfigHub.sweep = fast_sweep  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.whatif", description=__doc__)
    parser.add_argument("--nodelay", action="store_true")
    parser.add_argument("--fast-send", action="store_true")
    parser.add_argument(
        "--direct-send",
        action="store_true",
        help="--fast-send, and write straight to the socket when the stream has nothing queued",
    )
    parser.add_argument(
        "--fast-sweep",
        action="store_true",
        help="one write per connection per heartbeat (see patch_sweep)",
    )
    args, rest = parser.parse_known_args()
    if args.fast_sweep:
        patch_sweep()
    patch(args.nodelay, args.fast_send, args.direct_send)
    from jupyter_hotconf.cli import main as cli_main

    return cli_main(rest)


if __name__ == "__main__":
    sys.exit(main())
