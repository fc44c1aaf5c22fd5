"""Real kernels (ipykernel 7 and 6) in local mode: magics, live cells, the main thread,
text repr, cleanup."""

from __future__ import annotations

import json
from pathlib import Path

from jupyter_hotconf.pytest_plugin import write_json

from .kernels import Driver, comm_state
from .one_link import run_scenario


def acme(root: Path, discount: float) -> None:
    write_json(root / "private" / "acme.json", {"pricing": {"discount": discount}})


def test_local_mode_magics_live_cell_and_cleanup(kernel: Driver, hotconf_dir: Path) -> None:
    k = kernel
    k.run("import threading, time\nbase = {t.name for t in threading.enumerate()}\n"
          "%load_ext jupyter_hotconf")
    out = k.text("cfg = %hotconf acme")
    assert "local" in out and str(hotconf_dir) in out and "status local" in out
    assert "0.1" in k.text("cfg['pricing']['discount']")
    # text repr for frontends without widgets (nbconvert, terminals)
    bundle = next(m for m in k.run("cfg") if m["msg_type"] == "execute_result")["content"]["data"]
    assert "Local" in bundle["text/plain"] and '"discount": 0.1' in bundle["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in bundle and "text/html" in bundle
    # callbacks record the thread they ran on
    k.run("seen = []\n"
          "cfg.on_change(lambda c: seen.append((c.revision, threading.current_thread().name)))\n"
          "import ipywidgets, traitlets\n"
          "w = ipywidgets.IntText()\n"
          "traitlets.dlink((cfg, 'revision'), (w, 'value'))\n"
          "cfg.observe(lambda ch: seen.append(('observe', ch['new']['pricing']['discount'])),"
          " 'config')")
    # a live cell: runs now, re-runs in place; a failing body shows its traceback there
    live = k.run("%%hotconf live acme\n"
                 "d = cfg.get('pricing.discount')\n"
                 "if d > 0.6: raise ValueError(f'too much: {d}')\n"
                 "print('discount is', d)")
    out_model = next(m for m in live if m["msg_type"] == "display_data")
    model_id = out_model["content"]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]

    def outputs_of(msg: dict) -> list:
        st = comm_state(msg)
        return st.get("outputs", []) if msg["content"].get("comm_id") == model_id else []

    k.wait_msg(lambda m: any("discount is 0.1" in o.get("text", "") for o in outputs_of(m)),
               what="first live render")
    acme(hotconf_dir, 0.7)
    k.wait_msg(lambda m: any(o.get("ename") == "ValueError" for o in outputs_of(m)),
               what="traceback in the live output")
    err = next(o for m in k.seen for o in outputs_of(m) if o.get("ename"))
    assert "too much: 0.7" in err["evalue"] and err["traceback"]
    acme(hotconf_dir, 0.3)
    k.wait_msg(lambda m: any("discount is 0.3" in o.get("text", "") for o in outputs_of(m)),
               what="live cell recovered")
    # the IntText linked to revision sent its new value to the frontend
    rev = json.loads(k.text("print(cfg.revision)"))
    k.wait_msg(lambda m: comm_state(m).get("value") == rev, what="IntText comm_msg")
    seen = eval(k.text("print(seen)"))
    threads = {name for entry in seen if entry[0] != "observe" for name in [entry[1]]}
    assert threads == {"MainThread"}
    assert ("observe", 0.3) in seen
    # invalid edit and fix → valid/config_error follow
    (hotconf_dir / "private" / "acme.json").write_text('{"pricing": {"discount": "x"}}')
    k.run("for _ in range(2000):\n"
          "    if not cfg.valid: break\n"
          "    await __import__('asyncio').sleep(0.01)")
    assert "private/acme.json" in k.text("print(cfg.valid, cfg.config_error['file'])")
    # tab completion: tenants and keys
    reply = k.kc.complete("%hotconf gl", 11, reply=True, timeout=30)
    assert "globex" in reply["content"]["matches"]
    reply = k.kc.complete('cfg["pri', 8, reply=True, timeout=30)
    assert any("pricing" in m for m in reply["content"]["matches"])
    out = k.text("%hotconf --status")
    assert "acme" in out and "local" in out
    # unload: no thread of ours remains
    k.run("%unload_ext jupyter_hotconf")
    left = k.text("print(sorted(t.name for t in threading.enumerate() if t.name not in base))")
    assert left.strip() == "[]", left


def test_one_link_per_tenant_in_local_mode(kernel: Driver, hotconf_dir: Path) -> None:
    """``%hotconf acme``, ``ConfigProvider("acme")`` and ``%%hotconf live acme globex`` share
    one watcher per tenant; a live cell re-run for revision N reads N through every handle."""
    run_scenario(
        kernel, lambda d: acme(hotconf_dir, d),
        lambda name: write_json(hotconf_dir / "private" / "globex.json", {"name": name}),
    )
