"""Drive a real kernel with jupyter_client: run code, collect iopub, wait for messages."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable
from typing import Any

from jupyter_client import BlockingKernelClient, KernelManager

from jupyter_hotconf.pytest_plugin import DEADLINE_S

KERNELS = ["python3", "hotconf-ipykernel6"]


class Driver:
    """A BlockingKernelClient plus the iopub messages seen so far (for later predicates)."""

    def __init__(self, kc: BlockingKernelClient) -> None:
        self.kc = kc
        self.seen: list[dict[str, Any]] = []

    def _next(self, timeout: float) -> dict[str, Any] | None:
        try:
            msg = self.kc.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            return None
        self.seen.append(msg)
        return msg

    def run(self, code: str, timeout: float = DEADLINE_S * 3, allow_error: bool = False
            ) -> list[dict[str, Any]]:
        """Execute ``code``; return the iopub messages of that request (until idle)."""
        msg_id = self.kc.execute(code)
        mine: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._next(0.5)
            if msg is None or msg["parent_header"].get("msg_id") != msg_id:
                continue
            mine.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                errors = [m for m in mine if m["msg_type"] == "error"]
                if errors and not allow_error:
                    raise AssertionError("\n".join(errors[0]["content"]["traceback"]))
                return mine
        raise AssertionError(f"no idle after {timeout}s for {code!r}; got {mine!r}")

    def text(self, code: str, **kw: Any) -> str:
        out = []
        for m in self.run(code, **kw):
            if m["msg_type"] == "stream":
                out.append(m["content"]["text"])
            elif m["msg_type"] in ("execute_result", "display_data"):
                out.append(m["content"]["data"].get("text/plain", ""))
        return "".join(out)

    def value(self, code: str) -> Any:
        """Run ``code`` (its last line an expression) and return that expression, via JSON."""
        *body, last = code.strip().splitlines()
        out = self.text("\n".join([*body, f"import json as _j; print(_j.dumps({last}))"]))
        return json.loads(out.strip().splitlines()[-1])

    def wait_msg(self, pred: Callable[[dict[str, Any]], bool], timeout: float = DEADLINE_S * 2,
                 what: str = "") -> dict[str, Any]:
        """Wait for an iopub message matching ``pred`` (ones already seen count too)."""
        for m in self.seen:
            if pred(m):
                return m
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._next(0.5)
            if msg is not None and pred(msg):
                return msg
        raise AssertionError(f"no iopub message {what} within {timeout}s")


def wait_ready(kc: BlockingKernelClient, timeout: float = DEADLINE_S * 3) -> None:
    """Wait for a kernel_info_reply (``wait_for_ready`` without a manager judges the kernel
    dead before its first heartbeat)."""
    deadline = time.monotonic() + timeout
    sent: set[str] = set()
    while time.monotonic() < deadline:
        sent.add(kc.kernel_info())
        try:
            reply = kc.get_shell_msg(timeout=2)
        except queue.Empty:
            continue
        if reply["parent_header"].get("msg_id") in sent:  # a reply to any of our requests
            while True:  # drain the iopub status messages of the handshake
                try:
                    kc.get_iopub_msg(timeout=0.2)
                except queue.Empty:
                    return
    raise AssertionError(f"kernel not ready within {timeout}s")


def start_local_kernel(name: str, cwd: str, env: dict[str, str]) -> tuple[KernelManager, Driver]:
    km = KernelManager(kernel_name=name)
    km.start_kernel(cwd=cwd, env=env)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, Driver(kc)


def comm_state(msg: dict[str, Any]) -> dict[str, Any]:
    if msg["msg_type"] != "comm_msg":
        return {}
    data = msg["content"].get("data", {})
    return data.get("state", {}) if data.get("method") == "update" else {}
