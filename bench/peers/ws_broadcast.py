"""Peer (b): the hot-reload server a user would write by hand in an afternoon.

``websockets`` + watchdog, no validation, no debounce, no heartbeat (unless
``--ping-interval``, websockets' own keepalive, for the heartbeat comparison): when a file in
``<config-dir>/private/`` is replaced or written, read it, and ``websockets.broadcast()``
a seed-shaped ``ConfigChanged`` to the sockets that asked for that tenant on
``/ws?tenant_id=T``. Run: ``python -m bench.peers.ws_broadcast --config-dir D --port P``.
It is kept small and honest on purpose: it is the yardstick, not a straw man.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from websockets.asyncio.server import ServerConnection, broadcast, serve

log = logging.getLogger(__name__)


class Peer(FileSystemEventHandler):
    def __init__(self, config_dir: Path, loop: asyncio.AbstractEventLoop) -> None:
        self.private = config_dir / "private"
        self.loop = loop
        self.subscribers: dict[str, set[ServerConnection]] = defaultdict(set)
        self.revision: dict[str, int] = defaultdict(int)

    # watchdog thread → event loop
    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in ("created", "modified", "moved", "closed"):
            return
        path = Path(str(getattr(event, "dest_path", "") or event.src_path))
        if path.parent == self.private and path.suffix == ".json":
            self.loop.call_soon_threadsafe(self.changed, path)

    def changed(self, path: Path) -> None:
        tenant = path.stem
        try:
            json.loads(path.read_bytes())  # a user would at least check it parses
        except (OSError, ValueError):
            return
        self.revision[tenant] += 1
        message = json.dumps(
            {
                "ConfigChanged": {
                    "tenant_id": tenant,
                    "change_type": "modified",
                    "revision": self.revision[tenant],
                }
            },
            separators=(",", ":"),
        )
        broadcast(self.subscribers.get(tenant, ()), message)

    async def handler(self, ws: ServerConnection) -> None:
        query = parse_qs(urlsplit(ws.request.path).query) if ws.request else {}
        tenant = (query.get("tenant_id") or [""])[0]
        self.subscribers[tenant].add(ws)
        try:
            async for _ in ws:  # ignore what clients send; keeps the socket read
                pass
        finally:
            self.subscribers[tenant].discard(ws)


async def main(config_dir: Path, port: int, ping_interval: float | None = None) -> None:
    loop = asyncio.get_running_loop()
    peer = Peer(config_dir, loop)
    observer = Observer()
    observer.schedule(peer, str(config_dir), recursive=True)
    observer.start()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    try:
        async with serve(
            peer.handler, "127.0.0.1", port, ping_interval=ping_interval, backlog=4096
        ):
            print(f"listening on {port}", flush=True)
            await stop
    finally:
        observer.stop()
        observer.join(3)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--ping-interval",
        type=float,
        default=None,
        help="websockets' own keepalive (a task per connection); off by default",
    )
    args = parser.parse_args()
    asyncio.run(main(args.config_dir.resolve(), args.port, args.ping_interval))
