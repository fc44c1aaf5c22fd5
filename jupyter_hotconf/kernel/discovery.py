"""Find where a kernel gets its config from (docs/kernel.md), first match wins:

1. explicit ``url=`` / ``token=``;
2. ``HOTCONF_URL`` / ``HOTCONF_TOKEN`` (set by the user);
3. ``JUPYTER_HOTCONF_URL`` / ``JUPYTER_HOTCONF_TOKEN`` (exported by the server extension);
4. the Jupyter server that started this kernel (``JPY_PARENT_PID`` matched against
   ``list_running_servers()``);
5. ``JUPYTERHUB_API_TOKEN`` + ``JUPYTERHUB_SERVICE_PREFIX`` (single-user server);
6. local mode: ``HOTCONF_CONFIG_DIR`` or the nearest ``configs/`` at or above the cwd.

URL convention: a base ending in ``/hotconf/``; WebSocket = base + ``ws`` (http→ws),
REST = base + ``api/…``. A ``ws(s)://`` URL ending in ``/ws`` is used as the WebSocket URL
as is. An ``http(s)://`` URL that does not end in ``hotconf/`` gets it appended, so the
server's own URL (``http://127.0.0.1:8888/``) works too.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..core.errors import HotconfError

log = logging.getLogger(__name__)

ServerLister = Callable[[], Iterable[Mapping[str, Any]]]


class DiscoveryError(HotconfError):
    """No usable source: says what was looked at and how to fix it."""


@dataclass(frozen=True)
class Source:
    """Where a provider's config comes from: a server (``base_url``) or a local dir."""

    kind: str  # "server" | "local"
    origin: str  # which discovery rule matched, for ``%hotconf`` and logs
    base_url: str | None = None  # http(s)://…/hotconf/
    ws_url: str | None = None  # ws(s)://…/hotconf/ws
    token: str | None = None
    config_dir: Path | None = None

    def rest_url(self, *parts: str) -> str:
        """``base + "api/" + "/".join(parts)``."""
        assert self.base_url is not None
        return self.base_url + "api/" + "/".join(parts)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"} if self.token else {}

    def describe(self) -> str:
        where = self.base_url if self.kind == "server" else str(self.config_dir)
        return f"{self.kind} {where} (from {self.origin})"


def ca_context(environ: Mapping[str, str] = os.environ) -> ssl.SSLContext | None:
    """A TLS context trusting the CA bundle named by ``HOTCONF_CA_BUNDLE`` (else
    ``SSL_CERT_FILE``), for an ``https://`` server with a private CA; None: the defaults."""
    bundle = environ.get("HOTCONF_CA_BUNDLE") or environ.get("SSL_CERT_FILE")
    return ssl.create_default_context(cafile=bundle) if bundle else None


def server_source(url: str, token: str | None, origin: str) -> Source:
    """Build a server ``Source`` from any accepted URL form (see the module docstring)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
        raise DiscoveryError(
            f"{origin}: {url!r} is not an http(s):// or ws(s):// URL "
            "(expected e.g. http://127.0.0.1:8888/hotconf/)"
        )
    http_scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    ws_scheme = {"http": "ws", "https": "wss"}.get(scheme, scheme)
    path = parts.path or "/"
    ws_url = None
    if scheme in ("ws", "wss") and path.endswith("/ws"):
        ws_url = urlunsplit((ws_scheme, parts.netloc, path, parts.query, ""))
        path = path[: -len("ws")]
    if not path.endswith("/"):
        path += "/"
    if not path.endswith("/hotconf/"):
        path += "hotconf/"
    base = urlunsplit((http_scheme, parts.netloc, path, "", ""))
    if ws_url is None:
        ws_url = urlunsplit((ws_scheme, parts.netloc, path + "ws", "", ""))
    return Source("server", origin, base_url=base, ws_url=ws_url, token=token or None)


def _running_servers() -> list[Mapping[str, Any]]:
    # Imported lazily: a kernel without jupyter_server installed still works.
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:
        return []
    return list(list_running_servers())


def find_config_dir(start: Path) -> Path | None:
    """The nearest ``configs/`` directory at or above ``start``."""
    for d in (start, *start.parents):
        if (d / "configs").is_dir():
            return d / "configs"
    return None


def discover(
    url: str | None = None,
    token: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    list_servers: ServerLister | None = None,
    cwd: Path | None = None,
    config_dir: str | Path | None = None,
) -> Source:
    """Apply the discovery order; raise ``DiscoveryError`` when nothing matches."""
    env = os.environ if env is None else env
    if config_dir is not None:
        return Source("local", "config_dir=", config_dir=Path(config_dir).absolute())
    if url:
        return server_source(url, token, "url=")
    for prefix in ("HOTCONF", "JUPYTER_HOTCONF"):
        if env.get(f"{prefix}_URL"):
            return server_source(
                env[f"{prefix}_URL"], token or env.get(f"{prefix}_TOKEN"), f"${prefix}_URL"
            )
    parent = env.get("JPY_PARENT_PID")
    if parent:
        for info in (list_servers or _running_servers)():
            if str(info.get("pid")) == parent and info.get("url"):
                return server_source(
                    str(info["url"]), token or info.get("token"), f"Jupyter server pid {parent}"
                )
    if env.get("JUPYTERHUB_API_TOKEN") and env.get("JUPYTERHUB_SERVICE_PREFIX"):
        root = env.get("JUPYTERHUB_SERVICE_URL") or (
            "http://127.0.0.1:8888" + env["JUPYTERHUB_SERVICE_PREFIX"]
        )
        return server_source(root, token or env["JUPYTERHUB_API_TOKEN"], "JupyterHub")
    if env.get("HOTCONF_CONFIG_DIR"):
        return Source(
            "local", "$HOTCONF_CONFIG_DIR", config_dir=Path(env["HOTCONF_CONFIG_DIR"]).absolute()
        )
    here = (cwd or Path.cwd()).absolute()
    found = find_config_dir(here)
    if found is not None:
        return Source("local", f"nearest configs/ above {here}", config_dir=found)
    raise DiscoveryError(
        f"no hotconf server or config dir found from {here}: pass url=…, set HOTCONF_URL, "
        "or set HOTCONF_CONFIG_DIR (or create a configs/ dir above the working directory)"
    )
