"""Real servers as subprocesses: ``jupyter server`` with the extension, and the standalone
``jupyter-hotconf serve``. Ready means: their HTTP answers (waited for, never slept)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from jupyter_client import BlockingKernelClient

from jupyter_hotconf.pytest_plugin import DEADLINE_S

from .kernels import Driver, wait_ready
from .wsfake import free_port

BIN = Path(sys.executable).parent


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if "HOTCONF" not in k and not k.startswith("JPY_") and not k.startswith("JUPYTERHUB")}
    env.update(extra)
    return env


def http(url: str, token: str | None = None, method: str = "GET", body: Any = None,
         timeout: float = 10) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Authorization": f"token {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, None


class Proc:
    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], ready_url: str,
                 token: str | None, log: Path) -> None:
        self.argv, self.cwd, self.env, self.ready_url, self.token = argv, cwd, env, ready_url, token
        self.log_path = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        self.log = open(self.log_path, "ab")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + DEADLINE_S * 3
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[0]} exited: {self.log_path.read_text()[-3000:]}")
            try:
                if http(self.ready_url, self.token, timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)  # paces the readiness poll only
        raise RuntimeError(f"{self.argv} not ready: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(DEADLINE_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if hasattr(self, "log"):
            self.log.close()


class JupyterServer(Proc):
    """``jupyter server`` on a free port, root = ``root`` (which holds ``configs/``)."""

    def __init__(self, root: Path, *extra: str, token: str = "jtoken") -> None:
        self.port = free_port()
        self.root = root
        self.runtime = root.parent / "runtime"
        self.url = f"http://127.0.0.1:{self.port}/"
        argv = [str(BIN / "jupyter"), "server", "--no-browser", "--allow-root",
                f"--port={self.port}", "--ip=127.0.0.1", f"--ServerApp.root_dir={root}",
                f"--IdentityProvider.token={token}", "--HotConf.debounce_ms=20", *extra]
        # an empty Jupyter config dir of its own, so a user's ~/.jupyter cannot leak in;
        # HotConf.config_dir defaults to configs/ under the root
        env = clean_env(JUPYTER_RUNTIME_DIR=str(self.runtime),
                        JUPYTER_CONFIG_DIR=str(root.parent / "jupyter-config"))
        super().__init__(argv, root, env, self.url + "api/status", token,
                         root.parent / f"jupyter-{self.port}.log")

    def start_kernel(self, name: str) -> tuple[str, Driver]:
        status, body = http(self.url + "api/kernels", self.token, "POST", {"name": name})
        assert status == 201, (status, body)
        kid = body["id"]
        kc = BlockingKernelClient(connection_file=str(self.runtime / f"kernel-{kid}.json"))
        kc.load_connection_file()
        kc.start_channels()
        wait_ready(kc)
        return kid, Driver(kc)

    def shutdown_kernel(self, kid: str, driver: Driver) -> None:
        driver.kc.stop_channels()
        http(self.url + f"api/kernels/{kid}", self.token, "DELETE")


class Standalone(Proc):
    """``jupyter-hotconf serve`` on ``port`` (kept across restarts) for ``config_dir``."""

    def __init__(self, config_dir: Path, port: int | None = None, token: str = "stoken",
                 *extra: str) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}/hotconf/"
        argv = [str(BIN / "jupyter-hotconf"), "serve", f"--port={self.port}",
                f"--config-dir={config_dir}", f"--token={token}", "--debounce-ms=20", *extra]
        super().__init__(argv, config_dir.parent, clean_env(), self.base + "api/info", token,
                         config_dir.parent / f"serve-{self.port}.log")
