"""Dead links, on both ends of the wire (docs/protocol.md, "Heartbeat"; docs/kernel.md).

(a) A client that completes the handshake and then neither reads nor writes (a hung
process, a peer gone without a FIN) is closed by the server within ``heartbeat_timeout`` +
one sweep interval, and its TCP connection is dropped at once: the close frame cannot get
past the unread data anyway, so waiting for the close handshake would only hold the socket.
(b) A kernel's ``ConfigProvider`` whose server goes silent without closing (a proxy that
stops forwarding) reports ``disconnected`` within its dead-link timeout and recovers, with
what changed meanwhile, when the link comes back.
"""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

from jupyter_hotconf.kernel.provider import ConfigProvider
from jupyter_hotconf.pytest_plugin import (
    DEADLINE_S,
    Recorder,
    ServeProcess,
    wait_until,
    write_json,
)

from .proxy import SilentProxy

TCP_ESTABLISHED = 1
#: A behaviour bound checked against a clock on a shared 2-core machine: the sweep may fire
#: late when the machine is busy (the hub then also extends the timeout by the stall), so
#: the bound gets 1.5 s on top.
SLACK_S = 1.5


def tcp_state(sock: socket.socket) -> int:
    """The kernel's TCP state of ``sock`` (first byte of ``TCP_INFO``)."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


def server_side_open(server_port: int, client_port: int) -> bool:
    """Whether the server's end of the connection still exists (in any state: an orphan in
    FIN_WAIT1 trying to flush to a peer that never reads counts)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, remote = line.split()[1:3]
            if (int(local.rsplit(":", 1)[1], 16) == server_port
                    and int(remote.rsplit(":", 1)[1], 16) == client_port):
                return True
    return False


def handshake_then_play_dead(port: int, target: str) -> socket.socket:
    """A blocking socket with a tiny receive buffer that completes the WebSocket handshake
    (reading exactly the response head) and is never read from or written to again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    sock.settimeout(DEADLINE_S)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        assert byte, f"closed during the handshake: {head!r}"
        head += byte
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def test_a_client_that_never_reads_is_dropped_within_timeout_plus_interval(
    serve: Callable[..., ServeProcess], hotconf_dir: Path
) -> None:
    interval, timeout = 0.5, 2.0
    # a config too big for the socket buffers: the frames stay queued in the server
    write_json(hotconf_dir / "private" / "bulky.json", {"blob": "x" * 400_000})
    srv = serve(f"--heartbeat-interval={interval}", f"--heartbeat-timeout={timeout}")
    sock = handshake_then_play_dead(srv.port, "/ws?tenant_id=bulky&protocol=2&include=config")
    silent_since = time.monotonic()
    client_port = sock.getsockname()[1]
    try:
        assert tcp_state(sock) == TCP_ESTABLISHED
        wait_until(lambda: tcp_state(sock) != TCP_ESTABLISHED, what="the server to drop it")
        dropped = time.monotonic() - silent_since
        wait_until(lambda: not server_side_open(srv.port, client_port), timeout=SLACK_S,
                   what="the server's end of the connection gone, not flushing to a dead peer")
    finally:
        sock.close()
    # never before the timeout (it was silent all along), and at the first sweep after it
    assert timeout - interval <= dropped <= timeout + interval + SLACK_S, dropped
    assert "heartbeat timeout" in srv.tail()


def test_kernel_link_through_a_silent_proxy_is_dead_then_recovers(
    serve: Callable[..., ServeProcess], hotconf_dir: Path
) -> None:
    server_beat, dead_after = 0.2, 1.5
    srv = serve(f"--heartbeat-interval={server_beat}", "--heartbeat-timeout=30")
    statuses = Recorder()
    with SilentProxy(srv.port) as proxy:
        cfg = ConfigProvider("acme", url=f"http://127.0.0.1:{proxy.port}/hotconf/",
                             heartbeat_timeout=dead_after, reconnect_delay=0.05,
                             max_reconnect_attempts=50, connect_timeout=2)
        try:
            wait_until(lambda: cfg.status == "connected", what="connected through the proxy")
            cfg.observe(lambda ch: statuses((time.monotonic(), ch["new"])), "status")
            proxy.pause()
            paused = time.monotonic()
            seen = statuses.wait_for(lambda s: any(st == "disconnected" for _, st in s),
                                     what="disconnected after the silence")
            down = next(t for t, st in seen if st == "disconnected") - paused
            assert "dead link" in (cfg.error or ""), cfg.error
            # the last frame came at most one server beat before the pause
            assert dead_after - server_beat <= down <= dead_after + SLACK_S, down
            write_json(hotconf_dir / "private" / "acme.json", {"pricing": {"discount": 0.77}})
            proxy.resume()
            wait_until(lambda: cfg.status == "connected" and cfg.get("pricing.discount") == 0.77,
                       what="back, with the change made while the link was dead")
            assert proxy.accepted >= 2  # a new connection, not the old one revived
        finally:
            cfg.close()
