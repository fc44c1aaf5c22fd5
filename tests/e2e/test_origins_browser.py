"""A web page on another origin, in a real Chromium, tries to read every config from a local
``jupyter-hotconf serve`` (the cross-site WebSocket hijacking found in the field).

Chromium maps the made-up host ``evil.test`` to 127.0.0.1 (``--host-resolver-rules``), so a
page served by this test has the foreign origin ``http://evil.test:<port>`` while everything
stays on loopback. The page opens ``ws://127.0.0.1:<serve port>/ws?tenant_id=*&protocol=2&
include=config`` as the attacker's page did, and reports what it read and how it was closed.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from jupyter_hotconf.core.protocol import CloseCode

from .browser import CHROMIUM, CHROMIUM_ARGS

PAGE = """<!doctype html><title>not hotconf</title><script>
window.seen = []; window.wsClosed = null;
const ws = new WebSocket(new URLSearchParams(location.search).get("ws"));
ws.onmessage = (e) => window.seen.push(e.data);
ws.onclose = (e) => { window.wsClosed = {code: e.code, reason: e.reason}; };
</script>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium that resolves ``evil.test`` to loopback (the module's own, for that flag)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        args = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP evil.test 127.0.0.1"]
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=args)
        yield chromium
        chromium.close()


@pytest.fixture
def evil_site(tmp_path: Path) -> Iterator[str]:
    """An HTTP server for the attacker's page; yields its origin ``http://evil.test:<port>``."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(PAGE, encoding="utf-8")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://evil.test:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def visit(browser: Any, origin: str, port: int) -> dict[str, Any]:
    """Open the attacker's page and wait until its socket has read a config or was closed."""
    context = browser.new_context()
    page = context.new_page()
    try:
        ws = f"ws://127.0.0.1:{port}/ws?tenant_id=*&protocol=2&include=config"
        page.goto(f"{origin}/index.html?ws={quote(ws, safe='')}")
        page.wait_for_function("window.wsClosed !== null || window.seen.length > 0")
        return dict(page.evaluate("() => ({seen: window.seen, closed: window.wsClosed})"))
    finally:
        context.close()


def test_a_foreign_page_reads_nothing(browser: Any, evil_site: str, serve: Any) -> None:
    result = visit(browser, evil_site, serve().port)
    assert result["seen"] == [], "a page on another origin read configs"
    assert result["closed"]["code"] == CloseCode.FORBIDDEN
    assert "evil.test" in result["closed"]["reason"]


def test_an_allowed_origin_reads_its_configs(browser: Any, evil_site: str, serve: Any) -> None:
    """The same page works once the user lists its origin (so the refusal above is ours)."""
    result = visit(browser, evil_site, serve("--allow-origins", evil_site).port)
    assert result["closed"] is None
    assert '"Snapshot"' in result["seen"][0] and '"config"' in result["seen"][0]
