"""Real servers as subprocesses: ``jupyter server`` with the extension, and the standalone
``jupyter-hotconf serve``. Ready means: their HTTP answers (waited for, never slept)."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from jupyter_client import BlockingKernelClient

from jupyter_hotconf.pytest_plugin import ServerProcess, clean_env, free_port

from .kernels import Driver, wait_ready

BIN = Path(sys.executable).parent


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


class JupyterServer(ServerProcess):
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
