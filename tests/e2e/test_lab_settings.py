"""Every setting and state of the status item in a real JupyterLab in Chromium
(docs/labextension.md): compact, show-only-on-error, position, notifyOnChange, "server
extension missing", hidden in ``prod``, tenants, wsUrl, the reconnect settings, light and
dark themes, and settings changed at run time applying without a reload."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_hotconf.pytest_plugin import ServeProcess, write_json

from .lab import LabServer, copy_configs
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


def wait_title(page: Any, needle: str) -> None:
    """Wait until the item's tooltip (its text in compact mode, or while hidden) has ``needle``."""
    page.wait_for_function(
        "([s, n]) => (document.querySelector(s)?.title ?? '').includes(n)", arg=[STATUS, needle]
    )


def load_lab(page: Any, server: LabServer) -> None:
    """Load JupyterLab and wait until the (maybe hidden) item knows its link is up."""
    page.goto(server.lab_url())
    page.locator(CONNECTED).wait_for(state="attached", timeout=120_000)


def test_compact_shows_only_the_icon_and_keeps_the_text_as_tooltip(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab(settings={"compact": True})
    item = open_lab(page, server)
    wait_title(page, "r1")
    assert item.locator(".jp-hotconf-dot").is_visible()
    assert item.locator(".jp-hotconf-text").count() == 0
    assert item.inner_text().strip() == ""
    assert "hotconf: connected" in str(item.get_attribute("title"))

    write_json(server.config_dir / "private" / "acme.json", {"pricing": {"discount": 0.3}})
    wait_title(page, "acme r2")
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
    wait_title(page, "acme r2")
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
    page.locator(f"{RIGHT} {STATUS} .jp-hotconf-text").wait_for(state="visible")
    assert page.locator(f"{LEFT} {STATUS}").count() == 0
    wait_text(page, STATUS, "hotconf: connected")

    page.evaluate(SET_SETTING, ["showOnlyOnError", True])
    page.locator(STATUS).wait_for(state="hidden")
    page.evaluate(SET_SETTING, ["showOnlyOnError", False])
    page.locator(STATUS).wait_for(state="visible")

    page.evaluate(SET_SETTING, ["enabled", False])
    page.locator(STATUS).wait_for(state="hidden")
    page.evaluate(SET_SETTING, ["enabled", True])
    page.locator(CONNECTED).wait_for(state="visible")

    item.click()
    panel = page.locator("#jp-hotconf-panel")
    panel.locator('tr[data-tenant="acme"]').wait_for(state="visible")
    page.evaluate(SET_SETTING, ["tenants", ["globex"]])
    panel.locator('tr[data-tenant="acme"]').wait_for(state="detached")
    panel.locator('tr[data-tenant="globex"]').wait_for(state="visible")
    page.evaluate(SET_SETTING, ["tenants", ["*"]])
    panel.locator('tr[data-tenant="acme"]').wait_for(state="visible")

    page.evaluate(SET_SETTING, ["notifyOnChange", True])
    write_json(server.config_dir / "private" / "acme.json", {"pricing": {"discount": 0.3}})
    page.locator(".Toastify__toast", has_text="hotconf: acme").wait_for(state="visible")
    assert page.evaluate("() => window.__hotconfNoReload === true"), "the page reloaded"


def test_tenants_setting_follows_only_the_listed_tenants(
    lab: Callable[..., LabServer], page: Any
) -> None:
    server = lab(settings={"tenants": ["globex"]})
    item = open_lab(page, server)
    item.click()
    panel = page.locator("#jp-hotconf-panel")
    panel.locator('tr[data-tenant="globex"]').wait_for(state="visible")
    assert panel.locator('tr[data-tenant="acme"]').count() == 0

    write_json(server.config_dir / "private" / "acme.json", {"pricing": {"discount": 0.3}})
    write_json(server.config_dir / "private" / "globex.json", {"pricing": {"discount": 0.5}})
    wait_text(page, STATUS, "globex r2")
    assert panel.locator('tr[data-tenant="acme"]').count() == 0
    assert "acme" not in item.inner_text()


@pytest.fixture
def standalone(
    tmp_path: Path, hotconf_dir: Path, serve: Callable[..., ServeProcess]
) -> ServeProcess:
    """``jupyter-hotconf serve`` on its own copy of the configs (token ``stoken``)."""
    root = tmp_path / "standalone"
    root.mkdir()
    return serve(config_dir=copy_configs(hotconf_dir, root), token="stoken")


def test_ws_url_follows_a_standalone_server_even_without_the_server_extension(
    lab: Callable[..., LabServer], page: Any, standalone: ServeProcess, tmp_path: Path
) -> None:
    ws_url = f"ws://127.0.0.1:{standalone.port}/hotconf/ws?token=stoken"
    server = lab(server_extension=False, settings={"wsUrl": ws_url})
    item = open_lab(page, server)
    wait_text(page, STATUS, "r1")
    acme = tmp_path / "standalone" / "configs" / "private" / "acme.json"
    write_json(acme, {"pricing": {"discount": 0.3}})
    wait_text(page, STATUS, "acme r2")
    assert "missing" not in item.inner_text()


#: Counts the closes of the page's hotconf WebSockets (failed attempts included), and notes
#: the count when the item first shows ``error``.
COUNT_CLOSES = """(() => {
  const Native = window.WebSocket;
  window.__hotconfCloses = 0;
  window.WebSocket = function (url, protocols) {
    const socket = new Native(url, protocols);
    if (String(url).includes('hotconf/ws')) {
      socket.addEventListener('close', () => { window.__hotconfCloses += 1; });
    }
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) { window.WebSocket[k] = Native[k]; }
  new MutationObserver(() => {
    const link = document.querySelector('.jp-hotconf-status')?.dataset.hotconfLink;
    if (link === 'error' && window.__hotconfClosesAtError === undefined) {
      window.__hotconfClosesAtError = window.__hotconfCloses;
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hotconf-link'] });
})();"""


def test_reconnect_settings_give_up_after_max_attempts_and_recover_later(
    lab: Callable[..., LabServer], page: Any
) -> None:
    settings = {"maxReconnectAttempts": 2, "reconnectDelay": 200, "maxReconnectDelay": 20000}
    page.add_init_script(COUNT_CLOSES)
    server = lab(settings=settings)
    open_lab(page, server)
    assert page.evaluate("() => window.__hotconfCloses") == 0

    server.stop()
    page.locator(f'{STATUS}[data-hotconf-link="error"]').wait_for(state="visible")
    # `error` once the drop and then maxReconnectAttempts retries failed (as the kernel's
    # policy), and from then on retries wait maxReconnectDelay: no quick retry after it.
    counts = page.evaluate("() => [window.__hotconfClosesAtError, window.__hotconfCloses]")
    assert counts == [3, 3], counts
    assert page.locator(STATUS).get_attribute("data-hotconf-level") == "error"

    server.start()
    page.locator(CONNECTED).wait_for(state="visible", timeout=90_000)


#: The computed colour of a CSS expression in this page's theme.
THEME_COLOUR = """expr => {
  const probe = document.createElement('span');
  probe.style.color = expr;
  document.body.appendChild(probe);
  const colour = getComputedStyle(probe).color;
  probe.remove();
  return colour;
}"""


@pytest.mark.parametrize("theme,light", [("JupyterLab Light", True), ("JupyterLab Dark", False)])
def test_colours_come_from_the_theme(
    lab: Callable[..., LabServer], page: Any, theme: str, light: bool
) -> None:
    server = lab(lab_settings={"@jupyterlab/apputils-extension/themes": {"theme": theme}})
    item = open_lab(page, server)
    page.wait_for_function(
        "light => document.body.dataset.jpThemeLight === String(light)", arg=light
    )
    text = item.locator(".jp-hotconf-item")
    dot = item.locator(".jp-hotconf-dot")
    colour = "el => getComputedStyle(el).color"
    assert text.evaluate(colour) == page.evaluate(THEME_COLOUR, "var(--jp-ui-font-color1)")
    assert dot.evaluate(colour) == page.evaluate(THEME_COLOUR, "var(--jp-success-color1)")
    # Light theme: dark text; dark theme: light text (the theme really applied).
    rgb = [int(v) for v in text.evaluate(colour).split("(")[1].split(")")[0].split(",")[:3]]
    assert (sum(rgb) < 384) is light, rgb


def run_from_palette(page: Any, label: str, tries: int = 5) -> None:
    """Run a command the way a user does: Ctrl+Shift+C, type its label, Enter. The modal palette
    closes when something else takes the focus while the page settles: then open it again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    search = page.locator(".lm-CommandPalette-input")
    for _ in range(tries):
        page.keyboard.press("Control+Shift+C")
        try:
            search.fill(label, timeout=10_000)
            page.locator(".lm-CommandPalette-item", has_text=label).first.wait_for(
                state="visible", timeout=10_000
            )
            search.press("Enter", timeout=10_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    pytest.fail(f"the command palette never ran {label!r}")


def test_palette_commands_and_the_panel_reconnect_button(
    lab: Callable[..., LabServer], page: Any
) -> None:
    page.add_init_script(COUNT_CLOSES)
    server = lab()
    open_lab(page, server)
    run_from_palette(page, "hotconf: Show Configuration Status")
    panel = page.locator("#jp-hotconf-panel")
    panel.locator('tr[data-tenant="acme"]').wait_for(state="visible")

    panel.get_by_role("button", name="Reconnect").click()
    page.wait_for_function("() => window.__hotconfCloses === 1")
    page.locator(CONNECTED).wait_for(state="visible")

    run_from_palette(page, "hotconf: Reconnect")
    page.wait_for_function("() => window.__hotconfCloses === 2")
    page.locator(CONNECTED).wait_for(state="visible")
    write_json(server.config_dir / "private" / "acme.json", {"pricing": {"discount": 0.3}})
    wait_text(page, "#jp-hotconf-panel", "acme r2")
