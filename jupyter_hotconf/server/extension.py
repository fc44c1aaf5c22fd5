"""The Jupyter server extension ``HotConf``: glue between ServerApp and the engine.

Configure with ``c.HotConf.<setting>`` (every setting of docs/server.md is a trait of
``HotConfSettings``). Routes are ``{base_url}hotconf/ws`` and ``{base_url}hotconf/api/…``.
At start it exports ``JUPYTER_HOTCONF_URL`` and ``JUPYTER_HOTCONF_TOKEN`` (a random secret
only the hotconf handlers accept, read-only) so the kernels this server launches find it;
it never touches ``HOTCONF_*`` and restores its environment on stop.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join

from .._version import __version__
from .engine import HotConfEngine
from .handlers import route_table
from .jupyter_handlers import CLASSES, SECRET_SETTING
from .settings import HotConfSettings

URL_ENV = "JUPYTER_HOTCONF_URL"
TOKEN_ENV = "JUPYTER_HOTCONF_TOKEN"
PREFIX = "hotconf/"


class HotConf(ExtensionApp, HotConfSettings):
    """Configuration hot-reload for Jupyter: pushes tenant config changes to kernels and
    JupyterLab over ``{base_url}hotconf/ws``."""

    name = "jupyter_hotconf"

    # ExtensionApp (a JupyterApp) has its own, non-configurable ``config_dir`` (the Jupyter
    # config dir, ~/.jupyter) which shadows HotConfSettings.config_dir in the MRO: without
    # this the engine watched ~/.jupyter and ``c.HotConf.config_dir`` was ignored.
    config_dir = HotConfSettings.class_traits()["config_dir"].__class__(
        "", help=HotConfSettings.class_traits()["config_dir"].help
    ).tag(config=True)
    description = "Configuration hot-reload for Jupyter"
    version = __version__
    load_other_extensions = True

    engine: HotConfEngine | None = None
    _saved_env: dict[str, str | None]

    def resolved_config_dir(self) -> Path:
        """``config_dir``, or ``configs`` under the server root; relative paths are taken
        from the server root too."""
        root = Path(self.serverapp.root_dir if self.serverapp else os.getcwd()).expanduser()
        path = Path(self.config_dir or "configs").expanduser()
        return path if path.is_absolute() else root / path

    def initialize_settings(self) -> None:
        event_logger = getattr(self.serverapp, "event_logger", None)
        root = self.serverapp.root_dir if self.serverapp else None
        self.engine = HotConfEngine(
            self, self.resolved_config_dir(), event_logger=event_logger, contents_root=root
        )
        self.secret = secrets.token_urlsafe(32)
        self.settings[SECRET_SETTING] = self.secret
        self.engine.start()
        self._export_environment()

    def initialize_handlers(self) -> None:
        assert self.engine is not None
        self.handlers.extend(route_table(PREFIX, CLASSES, self.engine))

    def hotconf_url(self) -> str:
        """``http://127.0.0.1:8888/a%40b/hotconf/`` — the server's address + base_url +
        hotconf/. ``localhost`` and wildcard binds become 127.0.0.1 (``localhost`` may
        resolve to ::1 in a kernel while the server listens on IPv4 only)."""
        app = self.serverapp
        assert app is not None
        if getattr(app, "sock", ""):
            return url_path_join(app.connection_url, PREFIX)
        ip = app.ip
        if ip in ("", "localhost", "0.0.0.0", "*"):
            ip = "127.0.0.1"
        elif ip == "::":
            ip = "::1"
        host = f"[{ip}]" if ":" in ip else ip
        scheme = "https" if app.certfile else "http"
        return url_path_join(f"{scheme}://{host}:{app.port}", app.base_url, PREFIX)

    def _export_environment(self) -> None:
        self._saved_env = {name: os.environ.get(name) for name in (URL_ENV, TOKEN_ENV)}
        os.environ[URL_ENV] = self.hotconf_url()
        os.environ[TOKEN_ENV] = self.secret
        self.log.info("hotconf: %s=%s exported for kernels", URL_ENV, os.environ[URL_ENV])

    def _restore_environment(self) -> None:
        for name, value in getattr(self, "_saved_env", {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}

    async def stop_extension(self) -> None:
        """Close every socket and stop the watcher (bounded: 3 s), restore the env."""
        try:
            if self.engine is not None:
                await self.engine.stop()
        finally:
            self._restore_environment()
