"""Kernels started by a REAL Jupyter server (REST API), driven with jupyter_client, on
ipykernel 7 and 6."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_hotconf.core.protocol import MessageKind
from jupyter_hotconf.kernel.client import ConfigSocket
from jupyter_hotconf.kernel.discovery import server_source
from jupyter_hotconf.pytest_plugin import Recorder, write_json

from .kernels import KERNELS, comm_state
from .one_link import run_scenario
from .servers import JupyterServer, http


@pytest.fixture  # one server per kernel: a second kernel on one server hung (ipykernel 6)
def jupyter() -> Iterator[JupyterServer]:
    # a private short dir: pytest's shared, rotating basetemp gave flaky ipykernel-6 starts
    top = Path(tempfile.mkdtemp(prefix="hotconf-jp-"))
    root = top / "root"
    (root / "configs" / "private").mkdir(parents=True)
    write_json(root / "configs" / "private" / "acme.json", {"pricing": {"discount": 0.1}})
    # heartbeat shortened so a 4 s blocking cell outlasts the timeout several times over
    server = JupyterServer(root, "--HotConf.heartbeat_interval_s=0.5",
                           "--HotConf.heartbeat_timeout_s=1.5").start()
    yield server
    server.stop()
    shutil.rmtree(top, ignore_errors=True)


@pytest.mark.parametrize("kernel_name", KERNELS)
def test_server_kernel_connected_widget_and_blocking_cell(
    jupyter: JupyterServer, kernel_name: str
) -> None:
    acme = jupyter.root / "configs" / "private" / "acme.json"
    write_json(acme, {"pricing": {"discount": 0.1}})
    kid, k = jupyter.start_kernel(kernel_name)
    watcher = Recorder()
    sock = ConfigSocket(server_source(jupyter.url, jupyter.token, "test"), "acme",
                        on_message=lambda m: watcher((m.kind, time.monotonic()))).start()
    try:
        k.run("import threading, time, ipywidgets, traitlets\n%load_ext jupyter_hotconf")
        out = k.text("cfg = %hotconf acme")
        assert "status connected" in out, out
        assert f"127.0.0.1:{jupyter.port}/hotconf/" in out
        # (1) a widget bound to a config value sends its new value after a change while idle
        k.run("w = ipywidgets.FloatText()\n"
              "traitlets.dlink((cfg, 'config'), (w, 'value'), lambda c: c['pricing']['discount'])\n"
              "statuses = []\n"
              "cfg.observe(lambda ch: statuses.append(ch['new']), 'status')\n"
              "calls = []\n"
              "in_cell = False\n"
              "cfg.on_change(lambda c: calls.append((c.revision, in_cell,"
              " threading.current_thread() is threading.main_thread())))")
        write_json(acme, {"pricing": {"discount": 0.5}})
        k.wait_msg(lambda m: comm_state(m).get("value") == 0.5, what="FloatText comm_msg 0.5")
        # (2) a cell blocked longer than the heartbeat timeout: not dropped, and the change
        # that arrives meanwhile runs its callback on the main thread after the cell
        msg_id = k.kc.execute("in_cell = True\nprint('sleeping', flush=True)\ntime.sleep(4)\n"
                              "in_cell = False")
        k.wait_msg(lambda m: m["parent_header"].get("msg_id") == msg_id
                   and m["msg_type"] == "stream", what="cell started")
        n = len(watcher.items)
        write_json(acme, {"pricing": {"discount": 0.7}})
        watcher.wait_for(lambda items: any(kd is MessageKind.CONFIG_CHANGED
                                           for kd, _ in items[n:]), what="broadcast")
        idle = [m for m in k.seen if m["parent_header"].get("msg_id") == msg_id
                and m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"]
        assert not idle, "the change must arrive while the cell still blocks"
        k.wait_msg(lambda m: m["parent_header"].get("msg_id") == msg_id
                   and m["msg_type"] == "status" and m["content"]["execution_state"] == "idle",
                   what="cell ended")
        result = k.text("print(calls[-1], statuses, cfg.status, cfg.revision)")
        last_call, rest = result.split(")", 1)
        assert last_call.endswith("False, True"), result  # after the cell, main thread
        assert rest.split() == ["[]", "connected", rest.split()[-1]], result  # never dropped
        k.wait_msg(lambda m: comm_state(m).get("value") == 0.7, what="FloatText comm_msg 0.7")
    finally:
        sock.close()
        jupyter.shutdown_kernel(kid, k)


@pytest.mark.parametrize("kernel_name", KERNELS)
def test_server_kernel_one_link_per_tenant(jupyter: JupyterServer, kernel_name: str) -> None:
    """In a server's kernel, the handles of a tenant share one socket (counted in the kernel
    and at the server); a live cell re-run for revision N reads N through every handle."""
    private = jupyter.root / "configs" / "private"
    write_json(private / "acme.json", {"pricing": {"discount": 0.1}})
    write_json(private / "globex.json", {"name": "Globex"})
    kid, k = jupyter.start_kernel(kernel_name)

    def connections() -> int:
        status, info = http(jupyter.url + "hotconf/api/info", jupyter.token)
        assert status == 200, status
        return int(info["connections"])

    try:
        run_scenario(
            k, lambda d: write_json(private / "acme.json", {"pricing": {"discount": d}}),
            lambda name: write_json(private / "globex.json", {"name": name}),
            server_links=connections,
        )
    finally:
        jupyter.shutdown_kernel(kid, k)
