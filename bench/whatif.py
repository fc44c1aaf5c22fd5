"""What-if prototypes of hot-path changes, measured without editing the server's own files.

``python -m bench.whatif --nodelay serve …`` runs ``jupyter-hotconf serve`` with
``ConfigHub`` patched in this process only, so the benchmark can show what a change would
buy before it is made ("profile, fix the hot path, measure again"). Nothing here is
imported by the package, and the benchmark's own sections always measure the real package.

- ``--nodelay``: ``set_nodelay(True)`` on each socket at registration. Tornado leaves Nagle's
  algorithm on for WebSockets (asyncio, under the ``websockets`` peer, turns it off), so a
  small frame sent while the previous one is unacknowledged can wait for a delayed ACK.
- ``--no-metrics``: every Prometheus hook of ``jupyter_hotconf/server/metrics.py`` (counter
  increments, histogram observations) made a no-op, so the benchmark can price metrics
  against the same server without them (the package has no switch to turn them off).

The encode-once fan-out and the one-write heartbeat that used to be prototyped here
(``--fast-send``, ``--direct-send``, ``--fast-sweep``) are now the hub's own
(``jupyter_hotconf/server/fastwrite.py``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def patch_nodelay() -> None:
    from jupyter_hotconf.server.hub import ConfigHub

    register = ConfigHub.register

    def register_nodelay(self: ConfigHub, socket: Any, sub: Any, peer: str) -> Any:
        set_nodelay = getattr(socket, "set_nodelay", None)
        if set_nodelay is not None:
            set_nodelay(True)
        return register(self, socket, sub, peer)

    ConfigHub.register = register_nodelay  # type: ignore[method-assign]


def patch_no_metrics() -> None:
    from jupyter_hotconf.server import metrics

    def nothing(*_args: Any, **_kwargs: Any) -> None:
        return None

    for name in ("count", "changed", "sent", "refused", "count_write"):
        setattr(metrics, name, nothing)
    for histogram in (metrics.RELOAD_DURATION, metrics.DELIVERY_DURATION):
        histogram.observe = nothing  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.whatif", description=__doc__)
    parser.add_argument("--nodelay", action="store_true")
    parser.add_argument("--no-metrics", action="store_true")
    args, rest = parser.parse_known_args()
    if args.nodelay:
        patch_nodelay()
    if args.no_metrics:
        patch_no_metrics()
    from jupyter_hotconf.cli import main as cli_main

    return cli_main(rest)


if __name__ == "__main__":
    sys.exit(main())
