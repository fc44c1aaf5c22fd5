"""History from a kernel started by a REAL Jupyter server (its history routes), on ipykernel 7
and 6: ``cfg.history()``, ``%hotconf history``, ``%hotconf diff``, and ``cfg.rollback(n)``
arriving at the kernel's own ``on_change`` with ``source == "rollback"``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from jupyter_hotconf.pytest_plugin import wait_until, write_json

from .kernels import KERNELS
from .servers import JupyterServer


def html_of(messages: list[dict[str, Any]]) -> str:
    return "".join(m["content"]["data"].get("text/html", "") for m in messages
                   if m["msg_type"] in ("display_data", "execute_result"))


@pytest.mark.parametrize("kernel_name", KERNELS)
def test_history_diff_and_rollback_from_a_server_kernel(
    jupyter_at: Callable[..., JupyterServer], kernel_name: str
) -> None:
    jupyter = jupyter_at(acme={"pricing": {"discount": 0.1}}, shared=False)
    acme = jupyter.root / "configs" / "private" / "acme.json"
    kid, k = jupyter.start_kernel(kernel_name)
    try:
        k.run("%load_ext jupyter_hotconf")
        assert "status connected" in k.text("cfg = %hotconf acme")
        k.run("seen = []\n"
              "cfg.on_change(lambda c: seen.append([c.revision, c.source, c.actor]))")
        write_json(acme, {"pricing": {"discount": 0.5}, "name": "Acme"})
        wait_until(lambda: k.value("seen") != [], what="the edit reaches the kernel")
        assert k.value("seen") == [[2, "watcher", None]]
        assert k.value("[[e.revision, e.change_type, e.source] for e in cfg.history()]") == [
            [2, "modified", "watcher"], [1, "created", "startup"]]
        assert k.value("cfg.at(1).to_dict()") == {"pricing": {"discount": 0.1}}
        assert k.value("cfg.diff(1).changed_paths") == ["/name", "/pricing/discount"]
        table = html_of(k.run("%hotconf history acme --limit 5"))
        assert "<table" in table and "<td>r2</td>" in table and "<td>startup</td>" in table
        diff = html_of(k.run("%hotconf diff acme 1 2"))
        assert "/pricing/discount" in diff and "0.1" in diff and "0.5" in diff
        assert "r1 → r2" in diff
        unknown = k.run("cfg.at(42)", allow_error=True)
        assert any(m["msg_type"] == "error" and m["content"]["ename"] == "UnknownRevision"
                   for m in unknown)
        # the rollback: a new revision through the server, back in the kernel as a change
        result = k.value("(lambda r: [r.revision, r.rolled_back_to, r.changed])"
                          "(cfg.rollback(1))")
        assert result == [3, 1, True]
        assert json.loads(acme.read_text()) == {"pricing": {"discount": 0.1}}
        wait_until(lambda: len(k.value("seen")) == 2, what="the rollback's on_change")
        revision, source, _actor = k.value("seen")[1]
        assert (revision, source) == (3, "rollback")
        assert k.value("[cfg.revision, cfg['pricing']['discount']]") == [3, 0.1]
        assert k.value("cfg.history()[0].source") == "rollback"
    finally:
        jupyter.shutdown_kernel(kid, k)
