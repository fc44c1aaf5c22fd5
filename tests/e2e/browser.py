"""Debian's Chromium for the browser tests: its path, the flags it needs here (root, no
network but loopback) and where screenshots go."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = os.environ.get("HOTCONF_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: Screenshots land here: set HOTCONF_SCREENSHOTS_DIR=docs/img to refresh the README's;
#: by default a temporary dir, so a test run leaves the work tree clean.
IMG_DIR = Path(
    os.environ.get("HOTCONF_SCREENSHOTS_DIR")
    or Path(tempfile.gettempdir()) / "hotconf-screenshots"
).absolute()
