"""A notebook using ``%hotconf`` shows its widget change with no cell re-run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import nbformat
import pytest

from jupyter_hotconf.pytest_plugin import write_json

from .browser import IMG_DIR
from .lab import LabServer
from .test_lab_status import open_lab, wait_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TREE = ".jp-OutputArea-output pre.hotconf-tree"


def write_notebook(server: LabServer) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext jupyter_hotconf"),
        nbformat.v4.new_code_cell("cfg = %hotconf acme\ncfg"),
    ]
    (server.root / "live.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return "live.ipynb"


def test_notebook_widget_follows_a_change_without_rerun(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab()
    open_lab(page, server)
    name = write_notebook(server)
    page.goto(server.lab_url(f"lab/tree/{name}"))
    page.locator(".jp-Notebook").wait_for(state="visible", timeout=120_000)
    # The kernel is connected once the status bar says so.
    page.locator("#jp-main-statusbar", has_text="| Idle").wait_for(timeout=120_000)
    page.locator(".jp-CodeCell .jp-InputArea-editor").first.click()
    run = page.locator(
        '.jp-NotebookPanel-toolbar [data-command="notebook:run-cell-and-select-next"]'
    )
    for n in (1, 2):
        run.click()
        try:
            page.wait_for_function(
                "n => (document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')[n - 1]"
                "?.textContent ?? '').includes('[' + n + ']')",
                arg=n,
                timeout=120_000,
            )
        except Exception as err:  # playwright's TimeoutError: say what the prompts show
            prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
            outputs = page.locator(".jp-OutputArea").all_inner_texts()
            pytest.fail(f"cell {n} did not finish: prompts {prompts}, outputs {outputs} ({err})")

    wait_text(page, TREE, '"discount": 0.1', timeout_ms=120_000)
    counts_before = page.locator(".jp-InputPrompt").all_inner_texts()

    write_json(server.config_dir / "private" / "acme.json", {"pricing": {"discount": 0.35}})
    wait_text(page, TREE, '"discount": 0.35')
    # Nothing was re-run: the execution counts did not move.
    assert page.locator(".jp-InputPrompt").all_inner_texts() == counts_before
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG_DIR / "notebook.png"))
