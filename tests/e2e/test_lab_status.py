"""The status item and panel in a real JupyterLab in Chromium."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jupyter_hotconf.pytest_plugin import write_json

from .browser import IMG_DIR
from .lab import LabServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STATUS = ".jp-hotconf-status"


def open_lab(page: Any, server: LabServer) -> Any:
    """Load JupyterLab and wait for the hotconf item to report a live link."""
    page.goto(server.lab_url())
    item = page.locator(STATUS)
    item.wait_for(state="visible", timeout=120_000)
    page.wait_for_selector(f'{STATUS}[data-hotconf-link="connected"]')
    return item


def wait_text(page: Any, selector: str, needle: str, timeout_ms: int = 60_000) -> str:
    """Wait until the element's text contains ``needle``; on timeout say what it showed."""
    try:
        page.wait_for_function(
            "([s, n]) => (document.querySelector(s)?.textContent ?? '').includes(n)",
            arg=[selector, needle],
            timeout=timeout_ms,
        )
    except Exception as err:  # playwright's TimeoutError: report the actual text
        shown = page.locator(selector).first.inner_text() if page.locator(selector).count() else ""
        pytest.fail(f"{selector} never showed {needle!r}; it shows {shown!r} ({err})")
    return str(page.locator(selector).first.inner_text())


def test_status_item_appears_and_follows_a_file_change(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab()
    item = open_lab(page, server)
    wait_text(page, STATUS, "r1")
    assert "hotconf: connected" in item.inner_text()

    write_json(server.config_dir / "private" / "acme.json", {"pricing": {"discount": 0.3}})
    wait_text(page, STATUS, "acme r2")
    assert item.get_attribute("data-hotconf-level") == "ok"
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    page.locator("#jp-main-statusbar").screenshot(path=str(IMG_DIR / "statusbar.png"))

    item.click()
    panel = page.locator("#jp-hotconf-panel")
    panel.wait_for(state="visible")
    acme = panel.locator('tr[data-tenant="acme"]')
    assert "valid" in acme.inner_text()
    assert "2" in acme.locator("td").nth(2).inner_text()
    assert panel.locator('tr[data-tenant="globex"]').count() == 1
    panel.screenshot(path=str(IMG_DIR / "panel.png"))


def test_non_root_base_url_works(lab: Callable[..., LabServer], page: Any) -> None:
    server = lab(base_url="/user/a%40b/")
    item = open_lab(page, server)
    write_json(server.config_dir / "private" / "globex.json", {"pricing": {"discount": 0.5}})
    wait_text(page, STATUS, "globex r2")
    assert "connected" in item.inner_text()
