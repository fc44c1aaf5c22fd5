"""Which browser origins may open a standalone socket (cross-site WebSocket hijacking).

Browsers let any web page open a WebSocket to any address, a loopback port included, and
send the page's ``Origin``; the server is the only one who can say no. So the standalone
server accepts:

- a request with no ``Origin`` header: not a browser (wscat, kernels, scripts);
- a browser origin that is itself loopback (``localhost``, ``127.0.0.0/8``, ``[::1]``, any
  port): a page the user serves on this machine;
- an origin listed in ``allow_origins`` (exact origins or ``fnmatch`` globs such as
  ``https://*.example.com``; ``*`` allows every origin);

and refuses every other origin, with or without a token, on every bind (docs/server.md).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from fnmatch import fnmatchcase
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (``[::1]`` with or without brackets)."""
    host = host.lower().rstrip(".")
    if host in ("localhost", "ip6-localhost") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _normalise(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


class OriginPolicy:
    """``policy.refusal(origin)`` is ``None`` when ``origin`` may connect, else the reason."""

    def __init__(self, allow_origins: Iterable[str]) -> None:
        self.patterns = tuple(_normalise(o) for o in allow_origins if o.strip())

    def refusal(self, origin: str | None) -> str | None:
        if origin is None:
            return None  # not a browser: browsers always send Origin on a WebSocket
        normal = _normalise(origin)
        try:
            host = urlsplit(normal).hostname
        except ValueError:
            host = None
        if host is not None and is_loopback(host):
            return None
        if any(fnmatchcase(normal, pattern) for pattern in self.patterns):
            return None
        return (
            f"origin {origin!r} is not allowed: only loopback origins and those listed in "
            "allow_origins (--allow-origins) may connect from a browser"
        )

    def __repr__(self) -> str:
        return f"OriginPolicy(allow_origins={list(self.patterns)!r})"
