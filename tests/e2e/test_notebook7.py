"""The extension in Notebook 7 (``jupyter notebook``), which has no status bar: it must still
load, follow the tenants, open its panel and notify (``IStatusBar`` is optional,
docs/labextension.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jupyter_hotconf.pytest_plugin import write_json

from .lab import LabServer
from .test_lab_notify import BROKEN
from .test_lab_status import STATUS, wait_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLUGIN = "jupyter-hotconf:plugin"
PANEL = "#jp-hotconf-panel"


def test_notebook7_loads_the_extension_panel_and_notifications(
    lab: Callable[..., LabServer], page: Any
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    server = lab(app="notebook", extra_args=["--JupyterNotebookApp.expose_app_in_browser=True"])
    page.goto(server.lab_url("tree"))
    page.wait_for_function(
        "id => window.jupyterapp?.isPluginActivated?.(id) === true", arg=PLUGIN, timeout=120_000
    )
    assert page.locator(STATUS).count() == 0  # no status bar in Notebook 7's tree

    page.evaluate("() => window.jupyterapp.commands.execute('hotconf:show-panel')")
    panel = page.locator(PANEL)
    panel.wait_for(state="visible")
    wait_text(page, PANEL, "hotconf: connected")
    assert panel.locator('tr[data-tenant="acme"]').count() == 1

    write_json(server.config_dir / "private" / "acme.json", {"pricing": {"discount": 0.3}})
    wait_text(page, PANEL, "acme r2")

    (server.config_dir / "private" / "globex.json").write_text(BROKEN, encoding="utf-8")
    toast = page.locator(".Toastify__toast", has_text="private/globex.json")
    toast.wait_for(state="visible")
    assert "globex" in toast.inner_text()
    wait_text(page, PANEL, "invalid: globex")
    assert not [e for e in errors if "hotconf" in e.lower()], errors
