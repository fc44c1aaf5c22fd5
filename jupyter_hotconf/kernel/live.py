"""``%%hotconf live``: a cell body that re-runs in place on every change (``docs/kernel.md``).

``%%hotconf live acme globex`` follows several tenants: a change of any of them re-runs the
body. Each tenant's provider shares its kernel link with every other provider of that
tenant, so the body reads, through any of them, the revision it re-runs for.

The body runs on the kernel's main thread (the links dispatch there); its output is
captured in the order it was produced (``_OrderedCapture``: printed text and displays
interleaved as in a normal cell, which IPython's ``capture_output`` cannot do — it keeps
text and displays apart) and written to an ``Output`` widget by assigning its ``outputs``
tuple — never ``with out:`` from another thread, which would interleave with
whatever cell runs then. An exception shows as a traceback in that output and does not
escape, so the link stays alive and the next change re-renders.
"""

from __future__ import annotations

import ast
import io
import logging
import sys
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import ipywidgets as widgets
from IPython.core.displaypub import DisplayPublisher
from IPython.display import display

from .change import Change, Subscription
from .provider import ConfigProvider

log = logging.getLogger(__name__)


class _Stream(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` during a live run: text goes into the ordered outputs."""

    def __init__(self, name: str, outputs: list[dict[str, Any]]) -> None:
        self._name, self._outputs = name, outputs

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        last = self._outputs[-1] if self._outputs else None
        if last is not None and last["output_type"] == "stream" and last["name"] == self._name:
            last["text"] += text  # one stream output per run of text, as a frontend merges
        elif text:
            self._outputs.append({"output_type": "stream", "name": self._name, "text": text})
        return len(text)


class _Publisher(DisplayPublisher):
    """The shell's display publisher during a live run: displays into the ordered outputs."""

    def __init__(self, outputs: list[dict[str, Any]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._outputs = outputs

    def publish(self, data: Any, metadata: Any = None, source: Any = None, *,
                transient: Any = None, update: Any = False, **kwargs: Any) -> None:
        self._outputs.append({"output_type": "display_data", "data": data,
                              "metadata": metadata or {}})

    def clear_output(self, wait: bool = False) -> None:
        self._outputs.clear()


class _OrderedCapture:
    """Capture stdout, stderr and displays into one list, in the order they happen."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.outputs: list[dict[str, Any]] = []

    def __enter__(self) -> list[dict[str, Any]]:
        self._saved = (sys.stdout, sys.stderr, self.shell.display_pub)
        sys.stdout = _Stream("stdout", self.outputs)
        sys.stderr = _Stream("stderr", self.outputs)
        self.shell.display_pub = _Publisher(self.outputs)
        return self.outputs

    def __exit__(self, etype: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        sys.stdout, sys.stderr, self.shell.display_pub = self._saved


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
        with _OrderedCapture(self.shell) as outputs:
            try:
                self._execute(self.shell.transform_cell(self.body))
            except Exception:
                outputs.append(self._error_output())
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
