"""Pytest fixtures shared by this project's tests (and usable by projects that embed it).

Enable with ``pytest_plugins = ["jupyter_hotconf.pytest_plugin"]``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

#: Generous deadline that only bounds a wait (never an assertion about speed).
DEADLINE_S = float(os.environ.get("HOTCONF_TEST_DEADLINE", "20"))


def wait_until(
    predicate: Callable[[], T], timeout: float = DEADLINE_S, interval: float = 0.01, what: str = ""
) -> T:
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout``.

    This waits for an observable state, it does not sleep to synchronise: the interval only
    paces the check.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate!r}")
        time.sleep(interval)


class Recorder:
    """Thread-safe list of items with a condition to wait on (for callbacks from threads)."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def extend(self, items: list[Any]) -> None:
        with self._cond:
            self.items.extend(items)
            self._cond.notify_all()

    def wait_for(
        self, predicate: Callable[[list[Any]], bool], timeout: float = DEADLINE_S, what: str = ""
    ) -> list[Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.items), timeout):
                pytest.fail(f"timed out after {timeout}s waiting for {what}; got {self.items!r}")
            return list(self.items)


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON atomically (temp file + ``os.replace``), as editors and git do."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


EXAMPLE_DEFAULTS: dict[str, Any] = {
    "pricing": {"currency": "USD", "discount": 0.0},
    "features": {"beta": False},
}
EXAMPLE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "pricing": {
            "type": "object",
            "properties": {
                "currency": {"type": "string"},
                "discount": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "features": {"type": "object"},
    },
}


@pytest.fixture
def hotconf_dir(tmp_path: Path) -> Iterator[Path]:
    """A fresh config dir: ``defaults.json``, ``schema.json``, ``private/acme.json`` and
    ``private/globex.json``, all valid."""
    root = tmp_path / "configs"
    (root / "private").mkdir(parents=True)
    write_json(root / "defaults.json", EXAMPLE_DEFAULTS)
    write_json(root / "schema.json", EXAMPLE_SCHEMA)
    write_json(root / "private" / "acme.json", {"pricing": {"discount": 0.1}, "name": "Acme"})
    write_json(root / "private" / "globex.json", {"pricing": {"discount": 0.2}, "name": "Globex"})
    yield root


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for servers that need it before they bind)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_status(url: str, token: str | None = None, timeout: float = 2) -> int | None:
    """The HTTP status of ``GET url`` (None when nothing answers)."""
    headers = {"Authorization": f"token {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return int(r.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except OSError:
        return None


class ServerProcess:
    """A server as a subprocess with its output in ``log_path``; ``start()`` returns once
    ``ready_url`` answers at all (waited for, never slept), ``stop()`` sends SIGTERM."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], ready_url: str,
                 token: str | None, log_path: Path) -> None:
        self.argv, self.cwd, self.env, self.ready_url = argv, cwd, env, ready_url
        self.token, self.log_path = token, log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(f"{self.argv[0]} exited: {self.tail()}")
            return http_status(self.ready_url, self.token) is not None

        wait_until(ready, timeout=DEADLINE_S * 3, interval=0.05, what=f"{self.argv[:2]} ready")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(DEADLINE_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
                pytest.fail(f"{self.argv[:2]} did not exit within {DEADLINE_S}s of SIGTERM")

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def clean_env(**extra: str) -> dict[str, str]:
    """``os.environ`` without hotconf's, Jupyter's kernel and JupyterHub variables."""
    env = {k: v for k, v in os.environ.items()
           if "HOTCONF" not in k and not k.startswith(("JPY_", "JUPYTERHUB"))}
    env.update(extra)
    return env


class ServeProcess(ServerProcess):
    """``jupyter-hotconf serve`` for ``config_dir`` on ``port`` (kept across restarts, so a
    new process on the same port is a server restart), ready when ``/health`` answers."""

    def __init__(self, config_dir: Path, *flags: str, port: int | None = None,
                 token: str | None = None, env: dict[str, str] | None = None) -> None:
        self.config_dir = config_dir
        self.port = port or free_port()
        self.http = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}"
        self.base = f"{self.http}/hotconf/"
        argv = [sys.executable, "-m", "jupyter_hotconf.cli", "serve", f"--port={self.port}",
                f"--config-dir={config_dir}", "--debounce-ms=20", *flags]
        if token:
            argv.append(f"--token={token}")
        env = {**clean_env(), **(env or {})}
        token = token or env.get("HOTCONF_TOKEN") or None
        super().__init__(argv, config_dir.parent, env, f"{self.http}/health", token,
                         config_dir.parent / f"serve-{self.port}.log")

    def restart(self) -> ServeProcess:
        """A new process on the same port and config dir (a new epoch)."""
        self.stop()
        return self.start()  # type: ignore[return-value]


@pytest.fixture
def serve(hotconf_dir: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Factory: ``serve(*flags, token=None, env=None, config_dir=hotconf_dir)`` starts the real
    ``jupyter-hotconf serve`` on a free port; every one is stopped at teardown."""
    procs: list[ServeProcess] = []

    def start(*flags: str, config_dir: Path | None = None, **options: Any) -> ServeProcess:
        proc = ServeProcess(config_dir or hotconf_dir, *flags, **options)
        procs.append(proc)
        return proc.start()  # type: ignore[return-value]

    yield start
    for proc in procs:
        proc.stop()


class RedisServer:
    """A real ``redis-server`` on a free 127.0.0.1 port, persistence off, owned by the test
    (never the system service); ``restart()`` keeps the port, so it comes back empty."""

    def __init__(self, workdir: Path, *args: str) -> None:
        import shutil

        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.fail("redis-server is not installed: run scripts/setup (it installs "
                        "Debian's redis-server) or apt-get install redis-server")
        self.port = free_port()
        self.args, self.workdir = args, workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        argv = [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.workdir), *self.args]
        with open(self.workdir / f"redis-{self.port}.log", "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(f"redis-server exited: {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))
            except OSError:
                return False

        wait_until(ready, what=f"redis-server on port {self.port}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # no persistence: nothing to lose, and no shutdown save
            self.proc.wait(DEADLINE_S)

    def restart(self) -> RedisServer:
        self.stop()
        return self.start()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh ``redis-server`` (see ``RedisServer``), stopped at teardown."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()
