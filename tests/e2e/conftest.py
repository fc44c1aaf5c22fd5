"""Browser-test fixtures: Debian's Chromium driven by Python playwright, and ``jupyter lab``
subprocesses on temporary dirs (see lab.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .browser import CHROMIUM, CHROMIUM_ARGS
from .lab import LabServer, copy_configs


@pytest.fixture(scope="session")
def labextension_installed() -> None:
    """Fail early and clearly when the prebuilt extension is not installed."""
    out = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    text = out.stdout + out.stderr
    line = next((ln for ln in text.splitlines() if "jupyter-hotconf" in ln), "")
    if "enabled" not in line or "OK" not in line:
        pytest.fail(
            "jupyter-hotconf labextension is not installed/enabled (run scripts/setup):\n" + text
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


@pytest.fixture
def lab(
    tmp_path: Path, hotconf_dir: Path, labextension_installed: None
) -> Iterator[Callable[..., LabServer]]:
    """Factory: ``lab(base_url="/", settings={...}, **LabServer fields)`` starts a server on a
    copy of ``hotconf_dir``; every server is stopped (kernels first) at teardown."""
    servers: list[LabServer] = []

    def start(
        base_url: str = "/", settings: dict[str, Any] | None = None, **options: Any
    ) -> LabServer:
        n = len(servers)
        root = tmp_path / f"root{n}"
        root.mkdir()
        copy_configs(hotconf_dir, root)
        server = LabServer(
            home=tmp_path / f"home{n}",
            root=root,
            base_url=base_url,
            settings=settings or {},
            **options,
        )
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()
