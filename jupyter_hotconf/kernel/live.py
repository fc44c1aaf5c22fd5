"""``%%hotconf live``: a cell body that re-runs in place on every change (``docs/kernel.md``).

``%%hotconf live acme globex`` follows several tenants: a change of any of them re-runs the
body. Each tenant's provider shares its kernel link with every other provider of that
tenant, so the body reads, through any of them, the revision it re-runs for.

The body runs on the kernel's main thread (the links dispatch there); its output is
captured with IPython's ``capture_output`` and written to an ``Output`` widget by assigning
its ``outputs`` tuple — never ``with out:`` from another thread, which would interleave with
whatever cell runs then. An exception shows as a traceback in that output and does not
escape, so the link stays alive and the next change re-renders.
"""

from __future__ import annotations

import ast
import logging
import sys
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
from IPython.display import display
from IPython.utils.capture import capture_output

from .change import Change, Subscription
from .provider import ConfigProvider

log = logging.getLogger(__name__)


class LiveCell:
    """Runs ``body`` now and after every change of any of ``providers``; output replaced in
    place."""

    def __init__(self, shell: Any, body: str, providers: Sequence[ConfigProvider]) -> None:
        if not providers:
            raise ValueError("a live cell follows at least one tenant")
        self.shell = shell
        self.body = body
        self.providers = list(providers)
        self.output = widgets.Output()
        self.runs = 0
        self._subs: list[Subscription] = []

    def start(self) -> None:
        display(self.output)  # type: ignore[no-untyped-call]
        self.run()
        self._subs = [p.on_change(self.run) for p in self.providers]

    def stop(self) -> None:
        for sub in self._subs:
            sub.remove()
        self._subs = []

    def run(self, change: Change | None = None) -> None:
        self.runs += 1
        error: dict[str, Any] | None = None
        with capture_output(stdout=True, stderr=True, display=True) as captured:
            try:
                self._execute(self.shell.transform_cell(self.body))
            except Exception:
                error = self._error_output()
        outputs: list[dict[str, Any]] = []
        for name in ("stdout", "stderr"):
            text = getattr(captured, name)
            if text:
                outputs.append({"output_type": "stream", "name": name, "text": text})
        for rich in captured.outputs:
            outputs.append({"output_type": "display_data", "data": rich.data,
                            "metadata": rich.metadata or {}})
        if error is not None:
            outputs.append(error)
        self.output.outputs = tuple(outputs)

    def _execute(self, code: str) -> None:
        """Exec the body in the user namespace; show the last expression like a cell does."""
        tree = ast.parse(code, filename="<hotconf live cell>")
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.Expr):
            tree.body.pop()
        else:
            last = None
        ns = self.shell.user_ns
        exec(compile(tree, "<hotconf live cell>", "exec"), ns)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), "<hotconf live cell>", "eval"), ns)
            if value is not None:
                display(value)  # type: ignore[no-untyped-call]

    def _error_output(self) -> dict[str, Any]:
        etype, evalue, tb = sys.exc_info()
        assert etype is not None and evalue is not None
        try:
            stb = self.shell.InteractiveTB.structured_traceback(etype, evalue, tb)
        except Exception:  # a traceback formatter bug must not hide the user's error
            import traceback

            stb = traceback.format_exception(etype, evalue, tb)
        log.info("hotconf live cell raised %s: %s", etype.__name__, evalue)
        return {"output_type": "error", "ename": etype.__name__, "evalue": str(evalue),
                "traceback": list(stb)}
