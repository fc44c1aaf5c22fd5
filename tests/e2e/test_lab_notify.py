"""Notifications on invalid edits, and the link surviving a server restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jupyter_hotconf.pytest_plugin import write_json

from .browser import IMG_DIR
from .lab import LabServer
from .test_lab_status import STATUS, open_lab, wait_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BROKEN = '{\n  "pricing": {"discount": 0.3},\n  "name": oops\n}\n'


def test_invalid_edit_notifies_with_the_file_and_fixing_it_dismisses(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab()
    open_lab(page, server)
    acme = server.config_dir / "private" / "acme.json"
    acme.write_text(BROKEN, encoding="utf-8")

    toast = page.locator(".Toastify__toast", has_text="private/acme.json")
    toast.wait_for(state="visible")
    text = toast.inner_text()
    assert "acme" in text and "private/acme.json:3" in text, text
    wait_text(page, STATUS, "invalid: acme")
    assert page.locator(STATUS).get_attribute("data-hotconf-level") == "error"
    assert page.locator(".Toastify__toast", has_text="private/acme.json").count() == 1
    # Screenshot once the toast has slid fully into view.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.Toastify__toast')].every("
        "t => t.getBoundingClientRect().right <= window.innerWidth)"
    )
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG_DIR / "notification.png"))

    toast.get_by_role("button", name="Open file").click()
    editor = page.locator(".jp-FileEditor .cm-content")
    editor.wait_for(state="visible")
    page.locator(".lm-TabBar-tabLabel", has_text="acme.json").first.wait_for(state="visible")
    wait_text(page, ".jp-FileEditor .cm-content", "oops")
    # The cursor is on the failing line (3): the focused editor's DOM selection is there.
    page.wait_for_function(
        "() => { const n = document.getSelection()?.anchorNode;"
        " const line = (n instanceof Element ? n : n?.parentElement)?.closest('.cm-line');"
        " return !!line && line.textContent.includes('oops'); }"
    )

    write_json(acme, {"pricing": {"discount": 0.3}, "name": "Acme"})
    page.locator(".Toastify__toast", has_text="private/acme.json").wait_for(state="detached")
    wait_text(page, STATUS, "acme r2")
    assert "invalid" not in page.locator(STATUS).inner_text()


def test_server_restart_shows_reconnecting_then_recovers(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab(settings={"maxReconnectDelay": 4000})
    item = open_lab(page, server)

    server.stop()
    page.wait_for_selector(
        f'{STATUS}[data-hotconf-link="reconnecting"], {STATUS}[data-hotconf-link="error"]'
    )
    assert "reconnecting" in item.inner_text() or "error" in item.inner_text()
    assert item.get_attribute("data-hotconf-level") in ("busy", "error")

    server.start()
    page.wait_for_selector(f'{STATUS}[data-hotconf-link="connected"]', timeout=90_000)
    # The new server's Snapshot resynced the state; later changes flow again.
    write_json(server.config_dir / "private" / "globex.json", {"pricing": {"discount": 0.4}})
    wait_text(page, STATUS, "globex r2")
