"""Process plumbing for the benchmarks: spawn in a process group, always reap, read /proc.

Every process a benchmark starts goes through ``Spawned`` so that ``close()`` (called from a
``finally`` or a ``with``) kills its whole process group, whatever happened.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

PYTHON = sys.executable
REPO = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def raise_fd_limit(wanted: int = 65536) -> int:
    """Raise RLIMIT_NOFILE's soft limit as far as the hard limit allows (inherited by children)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Spawned:
    """A child process in its own process group, with stdout/stderr in a log file."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log_dir: Path,
        *,
        env: dict[str, str] | None = None,
        stdin: bool = False,
        stdout_pipe: bool = False,
    ) -> None:
        self.name = name
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = open(self.log_path, "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout_pipe else self._log,
            stderr=self._log,
            start_new_session=True,  # own process group: close() kills grandchildren too
            text=True if (stdin or stdout_pipe) else None,
            bufsize=1 if (stdin or stdout_pipe) else -1,
        )
        log.info("started %s pid=%d: %s", name, self.proc.pid, " ".join(argv))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def tail(self, n: int = 30) -> str:
        """The end of the child's log, for error messages."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with {self.proc.returncode}; log {self.log_path}:\n"
                + self.tail()
            )

    def close(self, timeout: float = 5.0) -> None:
        """SIGTERM the process group, then SIGKILL after ``timeout``; always reaps."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
        # the group may outlive its leader (a grandchild): make sure it is gone
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._log.close()

    def __enter__(self) -> Spawned:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_http(url: str, proc: Spawned | None = None, timeout: float = 60.0) -> float:
    """Wait until ``url`` answers 200; return the seconds it took. Fails with the child's log."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        if proc is not None:
            proc.check_alive()
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            tail = proc.tail() if proc is not None else ""
            raise TimeoutError(f"{url} did not answer within {timeout}s\n{tail}")
        time.sleep(0.02)  # paces the probe; the wait itself is for the event


def wait_port(port: int, proc: Spawned | None = None, timeout: float = 60.0) -> float:
    """Wait until something accepts TCP connections on 127.0.0.1:``port``."""
    start = time.monotonic()
    while True:
        if proc is not None:
            proc.check_alive()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"port {port} not open within {timeout}s")
        time.sleep(0.02)


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` from /proc/<pid>/statm."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (its threads included) from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK
