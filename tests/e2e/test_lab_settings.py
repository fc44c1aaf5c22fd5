"""Every setting and state of the status item in a real JupyterLab in Chromium (DESIGN.md §8):
compact, show-only-on-error, position, notifyOnChange, "server extension missing", hidden in
``prod``, and settings changed at run time applying without a reload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jupyter_hotconf.pytest_plugin import write_json

from .lab import LabServer
from .test_lab_notify import BROKEN
from .test_lab_status import STATUS, open_lab, wait_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LEFT = "#jp-main-statusbar .jp-StatusBar-Left"
RIGHT = "#jp-main-statusbar .jp-StatusBar-Right"
CONNECTED = f'{STATUS}[data-hotconf-link="connected"]'
EXPOSE_APP = "--LabApp.expose_app_in_browser=True"

#: Set one hotconf setting through the page's own settings registry (as the Settings Editor
#: does), found by the token the settings plugin provides; needs ``expose_app_in_browser``.
SET_SETTING = """async ([key, value]) => {
  const app = window.jupyterapp;
  const plugins = app.pluginRegistry?._plugins ?? app._plugins;
  const token = plugins.get('@jupyterlab/apputils-extension:settings').provides;
  const registry = await app.resolveRequiredService(token);
  await registry.set('jupyter-hotconf:plugin', key, value);
}"""


def load_lab(page: Any, server: LabServer) -> None:
    """Load JupyterLab and wait until the (maybe hidden) item knows its link is up."""
    page.goto(server.lab_url())
    page.locator(CONNECTED).wait_for(state="attached", timeout=120_000)


def test_compact_shows_only_the_icon_and_keeps_the_text_as_tooltip(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab(settings={"compact": True})
    item = open_lab(page, server)
    page.wait_for_function(
        "s => (document.querySelector(s)?.title ?? '').includes('r1')", arg=STATUS
    )
    assert item.locator(".jp-hotconf-dot").is_visible()
    assert item.locator(".jp-hotconf-text").count() == 0
    assert item.inner_text().strip() == ""
    assert "hotconf: connected" in str(item.get_attribute("title"))

    write_json(server.config_dir / "private" / "acme.json", {"pricing": {"discount": 0.3}})
    page.wait_for_function(
        "s => (document.querySelector(s)?.title ?? '').includes('acme r2')", arg=STATUS
    )
    assert item.locator(".jp-hotconf-text").count() == 0


def test_position_right_puts_the_item_on_the_right(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab(settings={"position": "right"})
    open_lab(page, server)
    assert page.locator(f"{RIGHT} {STATUS}").count() == 1
    assert page.locator(f"{LEFT} {STATUS}").count() == 0


def test_default_position_is_left(lab: Callable[..., LabServer], page: Any) -> None:
    server = lab()
    open_lab(page, server)
    assert page.locator(f"{LEFT} {STATUS}").count() == 1
    assert page.locator(f"{RIGHT} {STATUS}").count() == 0


def test_show_only_on_error_hides_until_an_invalid_edit_and_again_after_the_fix(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab(settings={"showOnlyOnError": True})
    load_lab(page, server)
    item = page.locator(STATUS)
    assert not item.is_visible()

    acme = server.config_dir / "private" / "acme.json"
    acme.write_text(BROKEN, encoding="utf-8")
    item.wait_for(state="visible")
    wait_text(page, STATUS, "invalid: acme")
    assert item.get_attribute("data-hotconf-level") == "error"

    write_json(acme, {"pricing": {"discount": 0.3}, "name": "Acme"})
    item.wait_for(state="hidden")
    assert item.get_attribute("data-hotconf-level") == "ok"


def test_notify_on_change_shows_an_info_notification_per_valid_change(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab(settings={"notifyOnChange": True})
    open_lab(page, server)
    write_json(server.config_dir / "private" / "globex.json", {"pricing": {"discount": 0.5}})
    toast = page.locator(".Toastify__toast", has_text="hotconf: globex")
    toast.wait_for(state="visible")
    assert "revision 2" in toast.inner_text()


def test_without_notify_on_change_a_valid_change_raises_no_notification(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab()
    open_lab(page, server)
    write_json(server.config_dir / "private" / "globex.json", {"pricing": {"discount": 0.5}})
    wait_text(page, STATUS, "globex r2")
    assert page.locator(".Toastify__toast", has_text="hotconf").count() == 0


def test_server_extension_missing_is_a_distinct_error_state(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab(server_extension=False)
    page.goto(server.lab_url())
    item = page.locator(f'{STATUS}[data-hotconf-link="missing"]')
    item.wait_for(state="visible", timeout=120_000)
    wait_text(page, STATUS, "hotconf: server extension missing")
    assert item.get_attribute("data-hotconf-level") == "error"


def test_prod_mode_hides_the_item(lab: Callable[..., LabServer], page: Any) -> None:
    server = lab(mode="prod")
    load_lab(page, server)
    assert not page.locator(STATUS).is_visible()
    # Still following: a change reaches the (hidden) item, which stays hidden.
    write_json(server.config_dir / "private" / "acme.json", {"pricing": {"discount": 0.3}})
    page.wait_for_function(
        "s => (document.querySelector(s)?.title ?? '').includes('acme r2')", arg=STATUS
    )
    assert not page.locator(STATUS).is_visible()


def test_settings_changed_at_run_time_apply_without_a_reload(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab(extra_args=[EXPOSE_APP])
    item = open_lab(page, server)
    page.evaluate("() => { window.__hotconfNoReload = true; }")
    assert item.locator(".jp-hotconf-text").count() == 1

    page.evaluate(SET_SETTING, ["compact", True])
    item.locator(".jp-hotconf-text").wait_for(state="detached")
    page.evaluate(SET_SETTING, ["compact", False])
    item.locator(".jp-hotconf-text").wait_for(state="visible")

    page.evaluate(SET_SETTING, ["position", "right"])
    page.locator(f"{RIGHT} {STATUS}").wait_for(state="visible")
    assert page.locator(f"{LEFT} {STATUS}").count() == 0

    page.evaluate(SET_SETTING, ["showOnlyOnError", True])
    page.locator(STATUS).wait_for(state="hidden")
    page.evaluate(SET_SETTING, ["showOnlyOnError", False])
    page.locator(STATUS).wait_for(state="visible")

    page.evaluate(SET_SETTING, ["enabled", False])
    page.locator(STATUS).wait_for(state="hidden")
    page.evaluate(SET_SETTING, ["enabled", True])
    page.locator(CONNECTED).wait_for(state="visible")

    page.evaluate(SET_SETTING, ["notifyOnChange", True])
    write_json(server.config_dir / "private" / "acme.json", {"pricing": {"discount": 0.3}})
    page.locator(".Toastify__toast", has_text="hotconf: acme").wait_for(state="visible")
    assert page.evaluate("() => window.__hotconfNoReload === true"), "the page reloaded"
