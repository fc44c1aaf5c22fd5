"""Save → ``on_change`` callback in a real kernel, and → the widget's comm_msg.

A real ipykernel (jupyter_client ``KernelManager``) runs a ``ConfigProvider`` connected to our
standalone server (quiet window 0). Its ``on_change`` callback prints
``time.monotonic_ns()`` — taken in the kernel, on its main thread, where user callbacks run
(docs/kernel.md) — so the first figure is save → callback, not save → the print reaching us.
The second is save → the first ``comm_msg`` ``update`` of a displayed
``ConfigUpdateIndicator`` arriving on iopub here, which is what a frontend would see.

The floor, measured on the same saves in the same kernel: a raw ``watchdog`` callback on the
config dir that stamps ``time.monotonic_ns()`` on the event naming the file (on watchdog's
thread: no hop to the main thread, no server, no parse, merge or validation). Nothing in that
kernel can learn of a save sooner, so ``on_change`` p99 - floor p99 is what our path adds.
It does not read the file: a read makes inotify events in our server's watch too, which
the figure of ours must not pay for. Each save takes the first floor stamp after it.
"""

from __future__ import annotations

import logging
import os
import queue
import tempfile
import time
from pathlib import Path
from typing import Any

from .stats import summarize
from .systems import TENANT, make_config_dir, save, start_ours

log = logging.getLogger(__name__)
MARK = "HOTCONF-BENCH"
TIMEOUT_S = 60.0

SETUP = """
import sys, time
from jupyter_hotconf.kernel.provider import ConfigProvider

def _line(text):  # one write per line: the floor's thread prints too, and print() writes
    sys.stdout.write(text + "\\n")  # its parts one by one, so two threads' lines interleave
    sys.stdout.flush()

cfg = ConfigProvider({tenant!r}, url={url!r})
cfg.on_change(lambda change: _line(f"{mark} {{change.revision}} {{time.monotonic_ns()}}"))
widget_error = None
try:
    from jupyter_hotconf.kernel.widgets import ConfigUpdateIndicator
    from IPython.display import display
    display(ConfigUpdateIndicator(cfg))
except Exception as err:  # reported, the callback figure is still measured
    widget_error = repr(err)
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

class _Floor(FileSystemEventHandler):
    def on_any_event(self, event):
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads (ours included), not a save
        if {path!r} in (event.src_path, getattr(event, "dest_path", None)):
            _line(f"{floor} {{time.monotonic_ns()}}")

floor_observer = Observer()
floor_observer.schedule(_Floor(), {dir!r}, recursive=False)
floor_observer.start()
print({mark!r}, "ready", cfg.status, cfg.revision, widget_error, flush=True)
"""
#: the floor's lines: ``FLOOR <monotonic ns>``
FLOOR = "HOTCONF-BENCH-FLOOR"


def run(saves: int, log_dir: Path) -> dict[str, Any]:
    from jupyter_client.manager import KernelManager

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hotconf-bench-kernel-") as tmp:
        root = make_config_dir(Path(tmp))
        path = root / "private" / f"{TENANT}.json"
        server = start_ours(root, log_dir, tag="-kernel")
        km = KernelManager(kernel_name="python3")
        try:
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("HOTCONF_", "JUPYTER_HOTCONF_", "JPY_"))
            }
            km.start_kernel(cwd=tmp, env={**env, "HOTCONF_MODE": "dev"})
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=TIMEOUT_S)
                out = _measure(kc, server.port, path, saves)
            finally:
                kc.stop_channels()
        finally:
            km.shutdown_kernel(now=True)
            server.close()
    return out


def _measure(kc: Any, port: int, path: Path, saves: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/hotconf/"
    lines: queue.Queue[tuple[int, str]] = queue.Queue()
    comms: queue.Queue[int] = queue.Queue()
    ready: dict[str, str] = {}
    floors: list[int] = []  # the floor's stamps, in order

    def floor_after(t0: int) -> int | None:
        return next((s for s in floors if s >= t0), None)

    partial = [""]  # stream text arrives in chunks that need not end at a newline

    def hook(msg: dict[str, Any]) -> None:
        now = time.monotonic_ns()
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            *complete, partial[0] = (partial[0] + content.get("text", "")).split("\n")
            for line in complete:
                if line.startswith(FLOOR + " "):
                    floors.append(int(line.split()[1]))
                elif line.startswith(MARK):
                    lines.put((now, line))
        elif kind == "comm_msg" and content.get("data", {}).get("method") == "update":
            comms.put(now)

    setup = SETUP.format(
        tenant=TENANT, url=url, mark=MARK, floor=FLOOR, path=str(path), dir=str(path.parent)
    )
    reply = kc.execute_interactive(setup, timeout=TIMEOUT_S, output_hook=hook)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"kernel setup failed: {reply['content']}")
    _, line = lines.get(timeout=TIMEOUT_S)
    ready["status"] = line
    widget = line.split(" ", 4)[-1] == "None"  # MARK ready <status> <revision> <widget_error>
    callback_ms: list[float] = []
    comm_ms: list[float] = []
    floor_ms: list[float] = []
    for k in range(1, saves + 1):
        for q in (lines, comms):  # anything left over from the last save is not this one
            while not q.empty():
                q.get_nowait()
        t0 = time.monotonic_ns()
        save(path, {"pricing": {"discount": round(k / (saves + 1), 6)}, "seq": k})
        got_line = got_comm = False
        deadline = time.monotonic() + TIMEOUT_S
        floor = None
        while not (got_line and (got_comm or not widget) and floor is not None):
            if time.monotonic() > deadline:
                missing = [name for name, seen in (("on_change", got_line),
                           ("widget update", got_comm or not widget), ("floor", floor is not None))
                           if not seen]
                raise TimeoutError(
                    f"kernel: change {k} not seen within {TIMEOUT_S}s (missing: {missing})"
                )
            try:
                msg = kc.get_iopub_msg(timeout=1.0)
            except queue.Empty:
                continue
            hook(msg)
            floor = floor_after(t0)
            while not lines.empty():
                _, text = lines.get_nowait()
                callback_ms.append((int(text.split()[2]) - t0) / 1e6)
                got_line = True
            while not comms.empty() and not got_comm:
                comm_ms.append((comms.get_nowait() - t0) / 1e6)
                got_comm = True
        floor_ms.append((floor - t0) / 1e6)
        floors.clear()
    result: dict[str, Any] = {
        "setup": ready["status"],
        "on_change_callback": summarize(callback_ms),
        "floor_watchdog_in_kernel": summarize(floor_ms),
        # per save, for reading the tail: which saves were slow, and was the floor slow too
        "samples_ms": {"on_change_callback": callback_ms, "floor": floor_ms},
    }
    if widget:
        result["widget_comm_msg"] = summarize(comm_ms)
    return result
