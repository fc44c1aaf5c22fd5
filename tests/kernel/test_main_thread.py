"""User code on a real kernel's main thread (ipykernel 7 and 6, local mode): a live cell's
output keeps print/display order, and callbacks run while a cell ``await``s
(docs/kernel.md, "Design choices")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_hotconf.pytest_plugin import DEADLINE_S, write_json

from .kernels import Driver, comm_state


@pytest.fixture(autouse=True)
def extension_loaded(kernel: Driver) -> None:
    """Every test here starts with ``%load_ext jupyter_hotconf`` in the local-mode kernel."""
    kernel.run("%load_ext jupyter_hotconf")


def _summary(outputs: list[dict[str, Any]]) -> list[str]:
    """Each output as ``stdout:<text>`` or ``display:<text/plain>``."""
    return [f"stdout:{o['text']}" if o["output_type"] == "stream"
            else f"display:{o.get('data', {}).get('text/plain', '')}" for o in outputs]


def test_live_cell_keeps_prints_and_displays_in_order(kernel: Driver, hotconf_dir: Path) -> None:
    kernel.run("cfg = %hotconf acme")
    live = kernel.run("%%hotconf live acme\n"
                      "name = cfg.get('name')\n"
                      "print('first', name)\n"
                      "display('shown ' + name)\n"
                      "print('second', name)\n"
                      "display('again ' + name)\n"
                      "print('third')\n"
                      "name")
    model = next(m for m in live if m["msg_type"] == "display_data")
    model_id = model["content"]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    kernel.wait_msg(lambda m: m["content"].get("comm_id") == model_id
                    and "stdout:first Acme\n" in _summary(comm_state(m).get("outputs", [])),
                    what="the live cell's first run")
    write_json(hotconf_dir / "private" / "acme.json", {"name": "Acme2"})
    msg = kernel.wait_msg(
        lambda m: m["content"].get("comm_id") == model_id
        and "stdout:first Acme2\n" in _summary(comm_state(m).get("outputs", [])),
        what="the live cell re-run after the change",
    )
    assert _summary(comm_state(msg)["outputs"]) == [
        "stdout:first Acme2\n",
        "display:'shown Acme2'",
        "stdout:second Acme2\n",
        "display:'again Acme2'",
        "stdout:third\n",
        "display:'Acme2'",  # the last expression, shown like a cell's
    ]


def test_a_callback_runs_while_a_cell_awaits(kernel: Driver, hotconf_dir: Path) -> None:
    """The chosen behaviour: an ``await``-ing cell lets callbacks run (``await
    cfg.wait_for_change()`` needs it); the cell waits on the callback's flag, not on time."""
    kernel.run("import asyncio, time\n"
               "cfg = %hotconf acme\n"
               "flag = []\n"
               "cfg.on_change(lambda c: flag.append(c.new['name']))")
    msg_id = kernel.kc.execute(
        "print('waiting', flush=True)\n"
        f"deadline = time.monotonic() + {DEADLINE_S}\n"
        "while not flag and time.monotonic() < deadline:\n"
        "    await asyncio.sleep(0.01)\n"
        "print('flag', flag, 'while the cell ran')"
    )

    def mine(kind: str, text: str = "") -> Any:
        return lambda m: (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == kind
                          and text in m["content"].get("text", ""))

    kernel.wait_msg(mine("stream", "waiting"), what="the cell to start awaiting")
    write_json(hotconf_dir / "private" / "acme.json", {"name": "Set while awaiting"})
    out = kernel.wait_msg(mine("stream", "while the cell ran"), what="the cell to see the flag")
    assert "flag ['Set while awaiting']" in out["content"]["text"]
