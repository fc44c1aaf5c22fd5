"""``jupyter-hotconf watch TENANT [--url U] [--token T]``: print a tenant's messages as JSON
lines, reconnecting with the kernel's backoff — a ``wscat`` that knows the protocol.

Built on ``ConfigSocket`` only (no IPython): messages go to stdout, one compact JSON object a
line; link states go to stderr as ``{"status": …}`` lines so stdout stays machine-readable.
``--show-ping`` also prints each heartbeat as a ``"Ping"`` line (the socket answers it
either way): to see that a quiet link is alive, or that a proxy lets heartbeats through.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
from collections.abc import Callable
from typing import Any

from ..core.protocol import PING, encode
from .client import ConfigSocket, LinkStatus
from .discovery import DiscoveryError, discover


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tenant", help="tenant id to follow")
    parser.add_argument("--url", help="hotconf base URL (…/hotconf/) or a ws://…/ws URL; "
                        "default: $HOTCONF_URL, $JUPYTER_HOTCONF_URL")
    parser.add_argument("--token", help="credential sent as 'Authorization: token …'")
    parser.add_argument("--count", type=int, default=0,
                        help="exit after this many lines on stdout, pings shown included "
                        "(0 = run until interrupted)")
    parser.add_argument("--show-ping", action="store_true",
                        help='also print each server heartbeat as a "Ping" line')


class _PingSocket(ConfigSocket):
    """A ``ConfigSocket`` that also reports the heartbeats it answers (``--show-ping``)."""

    def __init__(self, *args: Any, on_ping: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_ping = on_ping

    def _handle_frame(self, conn: Any, frame: str | bytes) -> None:
        text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        if text == PING:
            self._on_ping()
        super()._handle_frame(conn, frame)


def run(args: argparse.Namespace) -> int:
    try:
        source = discover(args.url, args.token)
    except DiscoveryError as e:
        print(f"jupyter-hotconf watch: {e}", file=sys.stderr)
        return 2
    if source.kind != "server":
        print("jupyter-hotconf watch: needs a server: pass --url or set HOTCONF_URL",
              file=sys.stderr)
        return 2
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    options: dict[str, Any] = {
        "on_message": lambda message: events.put(("msg", message)),
        "on_status": lambda status, error, attempts: events.put(("status", (status, error))),
    }
    if args.show_ping:
        sock: ConfigSocket = _PingSocket(
            source, args.tenant, on_ping=lambda: events.put(("ping", None)), **options
        )
    else:
        sock = ConfigSocket(source, args.tenant, **options)
    sock.start()
    seen = 0
    try:
        while True:
            what, payload = events.get()
            if what == "status":
                status, error = payload
                print(json.dumps({"status": status, "error": error}), file=sys.stderr, flush=True)
                if status is LinkStatus.ERROR and sock.final:
                    return 1  # HTTP 401/403 or CloseCode.FORBIDDEN: final
                continue
            if what == "ping":
                print(PING, flush=True)
            else:  # the body as received: fields this version does not read are printed too
                print(encode({payload.kind.value: payload.body}), flush=True)
            seen += 1
            if args.count and seen >= args.count:
                return 0
    except KeyboardInterrupt:
        return 0
    finally:
        sock.close()
