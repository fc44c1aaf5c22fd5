"""A real ``jupyter lab`` subprocess for browser tests: temporary config, data and root dirs,
a free port, a token, and clean shutdown of its kernels (BUILD-NOTES.md)."""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jupyter_hotconf.pytest_plugin import free_port, wait_until

log = logging.getLogger(__name__)

#: Deadline for a cold ``jupyter lab`` start on a busy 2-core machine (only bounds a wait).
START_DEADLINE_S = 120.0


@dataclass
class LabServer:
    """One ``jupyter lab`` on 127.0.0.1; ``stop()`` and ``start()`` again keep port and dirs."""

    home: Path
    root: Path
    base_url: str = "/"
    settings: dict[str, Any] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    proc: subprocess.Popen[bytes] | None = None
    #: ``HotConf.mode`` of the server (``prod`` hides the status item).
    mode: str = "dev"
    #: False: the labextension stays installed but the server extension is off (its routes 404).
    server_extension: bool = True
    #: The Python module serving the front end: ``jupyterlab``, or ``notebook`` for Notebook 7.
    app: str = "jupyterlab"
    #: Extra command-line flags, e.g. ``--LabApp.expose_app_in_browser=True``.
    extra_args: list[str] = field(default_factory=list)
    #: Other plugins' user settings by path, e.g. ``{"@jupyterlab/apputils-extension/themes":
    #: {"theme": "JupyterLab Dark"}}``.
    lab_settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT{base_url}`` (ends in ``/``)."""
        return f"http://127.0.0.1:{self.port}{self.base_url}"

    @property
    def config_dir(self) -> Path:
        return self.root / "configs"

    def lab_url(self, path: str = "lab") -> str:
        return f"{self.url}{path}?token={self.token}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        for var in ("HOTCONF_URL", "HOTCONF_TOKEN", "JUPYTER_HOTCONF_URL", "JUPYTER_HOTCONF_TOKEN"):
            env.pop(var, None)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.home / "config"),
            JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(self.home / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.home / "workspaces"),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONUNBUFFERED="1",
        )
        return env

    def _prepare(self) -> None:
        config = self.home / "config"
        config.mkdir(parents=True, exist_ok=True)
        # Explicit, so the test does not depend on the auto-enable file of the install.
        (config / "jupyter_server_config.json").write_text(
            json.dumps(
                {"ServerApp": {"jpserver_extensions": {"jupyter_hotconf": self.server_extension}}}
            )
        )
        user = self.home / "settings" / "jupyter-hotconf"
        user.mkdir(parents=True, exist_ok=True)
        (user / "plugin.jupyterlab-settings").write_text(json.dumps(self.settings))
        # No "what's new" / news pop-ups covering the notifications under test.
        apputils = self.home / "settings" / "@jupyterlab" / "apputils-extension"
        apputils.mkdir(parents=True, exist_ok=True)
        (apputils / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        for plugin, values in self.lab_settings.items():
            path = self.home / "settings" / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))

    def start(self) -> None:
        self._prepare()
        self.log_path = self.home / f"lab-{self.port}.log"
        out = self.log_path.open("ab")
        cmd = [
            sys.executable, "-m", self.app,
            "--allow-root",
            "--no-browser",
            "--ServerApp.open_browser=False",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.base_url={self.base_url}",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.news_url=",
            f"--HotConf.mode={self.mode}",
            # Explicit: HotConf inherits JupyterApp.config_dir, which shadows the default
            # "configs under the root" (reported to the server side).
            f"--HotConf.config_dir={self.config_dir}",
            *self.extra_args,
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=self.root, env=self._env(), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_until(
            self._ready, timeout=START_DEADLINE_S, interval=0.2, what=f"jupyter lab on {self.url}"
        )

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited {self.proc.returncode}:\n{self.tail()}")
        try:
            # Without the server extension its routes 404: the server's own status then.
            self.api("hotconf/api/info" if self.server_extension else "api/status")
        except (OSError, urllib.error.URLError):
            return False
        return True

    def api(self, path: str, method: str = "GET") -> Any:
        req = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Kernels outlive pages: delete them, or the next run would share them."""
        for kernel in self.api("api/kernels"):
            self.api(f"api/kernels/{quote(kernel['id'])}", method="DELETE")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            self.shutdown_kernels()
        except (OSError, urllib.error.URLError) as err:
            log.warning("could not shut kernels down: %s", err)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def copy_configs(src: Path, root: Path) -> Path:
    """Put a config dir at ``root/configs`` (the server's default ``config_dir``)."""
    dest = root / "configs"
    shutil.copytree(src, dest)
    return dest
