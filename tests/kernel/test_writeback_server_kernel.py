"""Write-back from a kernel started by a REAL Jupyter server (its write routes), on ipykernel
7 and 6: ``cfg.set`` reads its own write, the server and the file have it, the kernel's own
``on_change`` fires once with ``source == "api"``; a write on an old config is a
``ConfigConflict``, an invalid one a ``ConfigRejected`` (file untouched); ``cfg.link``
driven by the frontend's comm messages writes the file and snaps back on a refusal; a
``prod`` server is read-only."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from jupyter_hotconf.pytest_plugin import (
    wait_until,
)

from .kernels import KERNELS, Driver, comm_state
from .servers import JupyterServer, http


def send_widget_value(k: Driver, model_id: str, new: float) -> None:
    """What a frontend sends when the user moves a widget: an ``update`` on its comm."""
    k.kc.shell_channel.send(k.kc.session.msg("comm_msg", {
        "comm_id": model_id,
        "data": {"method": "update", "state": {"value": new}, "buffer_paths": []},
    }))


@pytest.mark.parametrize("kernel_name", KERNELS)
def test_write_back_from_a_server_kernel(jupyter_at: Callable[..., JupyterServer],
                                         kernel_name: str) -> None:
    jupyter = jupyter_at()
    acme = jupyter.root / "configs" / "private" / "acme.json"
    kid, k = jupyter.start_kernel(kernel_name)
    try:
        k.run("%load_ext jupyter_hotconf")
        assert "status connected" in k.text("cfg = %hotconf acme")
        k.run("seen = []\n"
              "cfg.on_change(lambda c: seen.append([c.revision, c.source]))")
        # read-your-writes: in the same cell, right after set() returns
        assert k.value("r = cfg.set('pricing.discount', 0.2)\n"
                        "[r, cfg.get('pricing.discount'), cfg.revision]") == [2, 0.2, 2]
        status, body = http(jupyter.url + "hotconf/api/tenants/acme", jupyter.token)
        assert status == 200 and body["revision"] == 2
        assert body["config"]["pricing"] == {"currency": "USD", "discount": 0.2}
        assert json.loads(acme.read_text()) == {"pricing": {"discount": 0.2}, "name": "Acme"}
        wait_until(lambda: k.value("seen") != [], what="the write's on_change")
        assert k.value("r2 = cfg.update({'name': 'Acme Corp'})\nr2") == 3
        wait_until(lambda: len(k.value("seen")) >= 2, what="the second write's on_change")
        assert k.value("seen") == [[2, "api"], [3, "api"]]  # each write fired once

        # a write based on an old config: the cell edits the file like another editor and
        # waits until the SERVER has it, while this kernel's main loop (the cell) is busy
        conflict = k.value(f"""
import os, time
from jupyter_hotconf import ConfigConflict
p = {str(acme)!r}
open(p + '.tmp', 'w').write('{{"pricing": {{"discount": 0.3}}, "name": "Other"}}')
os.replace(p + '.tmp', p)
deadline = time.monotonic() + 20
while cfg.shared_link.fetch().revision < 4 and time.monotonic() < deadline:
    time.sleep(0.01)  # paces a poll of the server, bounded by the deadline
try:
    cfg.set('pricing.discount', 0.9); got = None
except ConfigConflict as e:
    got = [e.status, e.current_revision, cfg.revision]
got""")
        assert conflict == [412, 4, 3]
        assert json.loads(acme.read_text())["pricing"]["discount"] == 0.3
        wait_until(lambda: k.value("cfg.revision") == 4, what="the edit in the kernel")

        before = acme.read_bytes()
        rejected = k.value("""
from jupyter_hotconf import ConfigRejected
try:
    cfg.set('pricing.discount', 1.5); got = None
except ConfigRejected as e:
    got = [e.status, e.pointer, e.file, 'maximum' in e.message]
got""")
        assert rejected == [422, "/pricing/discount", "private/acme.json", True]
        assert acme.read_bytes() == before and k.value("cfg.revision") == 4

        # cfg.link: the frontend moves the slider (comm messages); the file follows
        model = k.value("""
import ipywidgets as widgets
from jupyter_hotconf.kernel.widgets import ConfigUpdateIndicator
slider = widgets.FloatSlider(min=0, max=2, step=0.05)
ind = ConfigUpdateIndicator(cfg)
binding = cfg.link('pricing.discount', slider)
[slider.model_id, slider.value]""")
        model_id, shown = model
        assert shown == 0.3
        send_widget_value(k, model_id, 0.35)
        wait_until(lambda: json.loads(acme.read_text())["pricing"]["discount"] == 0.35,
                   what="the widget's value in the file")
        assert k.value("[cfg.get('pricing.discount'), cfg.revision]") == [0.35, 5]
        # a value the schema refuses: the kernel puts the widget back, the indicator says why
        before = acme.read_bytes()
        k.seen.clear()
        send_widget_value(k, model_id, 1.5)
        k.wait_msg(lambda m: m["msg_type"] == "comm_msg"
                   and m["content"]["comm_id"] == model_id
                   and comm_state(m).get("value") == 0.35, what="the widget put back")
        assert acme.read_bytes() == before
        shown = k.value("[slider.value, cfg.write_error, ind.value]")
        assert shown[0] == 0.35 and "maximum" in shown[1]
        assert "Write refused" in shown[2] and "maximum" in shown[2]

        # the magic: several PATH=VALUE in one write; the config moves the linked widget
        k.seen.clear()
        out = k.text('%hotconf set acme pricing.discount=0.4 name="Acme Co" tiers=[1,2]')
        assert "revision 6" in out
        assert json.loads(acme.read_text()) == {
            "pricing": {"discount": 0.4}, "name": "Acme Co", "tiers": [1, 2]}
        k.wait_msg(lambda m: m["msg_type"] == "comm_msg"
                   and m["content"]["comm_id"] == model_id
                   and comm_state(m).get("value") == 0.4, what="the widget following")
        assert k.value("[slider.value, cfg.write_error, cfg.revision]") == [0.4, None, 6]
    finally:
        jupyter.shutdown_kernel(kid, k)


def test_a_prod_server_is_read_only_for_a_kernel(jupyter_at: Callable[..., JupyterServer]
                                                 ) -> None:
    jupyter = jupyter_at("--HotConf.mode=prod")
    acme = jupyter.root / "configs" / "private" / "acme.json"
    before = acme.read_bytes()
    kid, k = jupyter.start_kernel("python3")
    try:
        k.run("%load_ext jupyter_hotconf\ncfg = %hotconf acme")
        got = k.value("""
from jupyter_hotconf import ConfigReadOnly
try:
    cfg.set('pricing.discount', 0.3); got = None
except ConfigReadOnly as e:
    got = [e.status, 'read-only' in str(e)]
got""")
        assert got == [403, True]
        assert acme.read_bytes() == before
    finally:
        jupyter.shutdown_kernel(kid, k)
