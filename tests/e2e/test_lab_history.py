"""A tenant's history in a real JupyterLab in Chromium: the panel row opens it, an entry shows
its diff against the previous revision, and "Roll back to rN" (after the confirmation dialog)
arrives as a normal change (docs/labextension.md, "History")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_hotconf.pytest_plugin import wait_until, write_json

from .browser import IMG_DIR
from .lab import LabServer
from .test_lab_status import STATUS, open_lab, wait_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEW = "#jp-hotconf-history-acme"
#: acme's document in the ``hotconf_dir`` fixture: revision 1.
ACME_R1 = {"pricing": {"discount": 0.1}, "name": "Acme"}


def open_history(page: Any, tenant: str = "acme") -> Any:
    """Status item → panel → the tenant row's History button; the view once it lists r1."""
    page.locator(STATUS).click()
    panel = page.locator("#jp-hotconf-panel")
    panel.wait_for(state="visible")
    panel.locator(f'tr[data-tenant="{tenant}"] .jp-hotconf-history-open').click()
    view = page.locator(f"#jp-hotconf-history-{tenant}")
    view.wait_for(state="visible")
    return view


def entry(view: Any, revision: int) -> Any:
    return view.locator(f'.jp-hotconf-history-entry[data-revision="{revision}"]')


def history_server(lab: Callable[..., LabServer], tmp_path: Path, *args: str) -> LabServer:
    # A history database of the test's own, not one under the user's Jupyter data dir.
    return lab(extra_args=[f"--HotConf.history={tmp_path / 'history.sqlite'}", *args])


def test_history_lists_entries_shows_a_diff_and_rolls_back(
    lab: Callable[..., LabServer], page: Any, tmp_path: Path
) -> None:
    server = history_server(lab, tmp_path)
    acme = server.config_dir / "private" / "acme.json"
    open_lab(page, server)
    wait_text(page, STATUS, "r1")

    write_json(acme, {"pricing": {"discount": 0.3}, "name": "Acme"})
    wait_text(page, STATUS, "acme r2")
    write_json(acme, {"pricing": {"discount": 5}, "name": "Acme"})  # over the schema's maximum
    wait_text(page, STATUS, "invalid: acme")
    write_json(acme, {"pricing": {"discount": 0.5}, "name": "Acme Corp"})
    wait_text(page, STATUS, "acme r3")

    view = open_history(page)
    entry(view, 1).wait_for()
    rows = view.locator(".jp-hotconf-history-entry")
    changes = [rows.nth(i).get_attribute("data-change") for i in range(rows.count())]
    assert changes == ["modified", "invalid", "modified", "created"], changes
    r3 = entry(view, 3).inner_text()
    assert "watcher" in r3 and "/pricing/discount" in r3 and "/name" in r3, r3
    invalid = view.locator('.jp-hotconf-history-entry[data-change="invalid"]').inner_text()
    assert "private/acme.json" in invalid, invalid

    entry(view, 3).click()
    detail = view.locator('.jp-hotconf-history-detail[data-revision="3"]')
    detail.locator('tr[data-path="/pricing/discount"]').wait_for()
    assert "r3 against r2" in detail.locator("h3").inner_text()
    discount = detail.locator('tr[data-path="/pricing/discount"]')
    assert discount.locator(".jp-hotconf-diff-old").inner_text() == "0.3"
    assert discount.locator(".jp-hotconf-diff-new").inner_text() == "0.5"
    name = detail.locator('tr[data-path="/name"]')
    assert name.locator(".jp-hotconf-diff-old").inner_text() == '"Acme"'
    assert name.locator(".jp-hotconf-diff-new").inner_text() == '"Acme Corp"'
    # r3 is in force: nothing to roll back to.
    assert detail.locator(".jp-hotconf-rollback").is_disabled()
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    view.screenshot(path=str(IMG_DIR / "history.png"))

    entry(view, 1).click()
    button = view.locator('.jp-hotconf-history-detail[data-revision="1"] .jp-hotconf-rollback')
    assert button.inner_text() == "Roll back to r1"
    button.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for()
    assert "Roll back acme to r1?" in dialog.inner_text()
    dialog.locator(".jp-Dialog-button", has_text="Roll back to r1").click()

    # The rollback arrives on the socket as any change does.
    wait_text(page, STATUS, "acme r4")
    wait_until(
        lambda: json.loads(acme.read_text()) == ACME_R1, timeout=30, interval=0.05,
        what="acme.json back to revision 1's content",
    )  # fmt: skip
    wait_text(page, ".jp-hotconf-history-notice", "now revision r4")
    entry(view, 4).wait_for()
    r4 = entry(view, 4).inner_text()
    assert "rollback" in r4, r4
    actor = entry(view, 4).locator("td").nth(4).inner_text().strip()
    assert actor, f"a rollback names who did it: {r4!r}"


def test_a_read_only_server_refuses_the_rollback_and_the_view_says_so(
    lab: Callable[..., LabServer], page: Any, tmp_path: Path
) -> None:
    server = history_server(lab, tmp_path, "--HotConf.read_only=True")
    acme = server.config_dir / "private" / "acme.json"
    open_lab(page, server)
    write_json(acme, {"pricing": {"discount": 0.3}, "name": "Acme"})
    wait_text(page, STATUS, "acme r2")

    view = open_history(page)
    entry(view, 1).click()
    view.locator('.jp-hotconf-history-detail[data-revision="1"] .jp-hotconf-rollback').click()
    page.locator(".jp-Dialog .jp-Dialog-button", has_text="Roll back to r1").click()
    alert = view.locator('.jp-hotconf-history-alert[role="alert"]')
    wait_text(page, f'{VIEW} .jp-hotconf-history-alert[role="alert"]', "Cannot roll back")
    assert "read-only" in alert.inner_text(), alert.inner_text()
    assert json.loads(acme.read_text()) == {"pricing": {"discount": 0.3}, "name": "Acme"}
    assert "acme r2" in page.locator(STATUS).inner_text()


def test_history_off_is_said_in_the_view(
    lab: Callable[..., LabServer], page: Any, tmp_path: Path
) -> None:
    server = lab(extra_args=["--HotConf.history=none"])
    open_lab(page, server)
    open_history(page)
    text = wait_text(page, f'{VIEW} .jp-hotconf-history-alert[role="alert"]', "history")
    assert text.startswith("Cannot read the history"), text
    assert "off" in text, text
