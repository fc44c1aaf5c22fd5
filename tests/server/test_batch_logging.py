"""A large batch is logged in one line: a first start that records 25 tenants (or a checkout of
hundreds) must not write a line per tenant to the log; a small batch still does."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from jupyter_hotconf.pytest_plugin import DEADLINE_S, write_json

pytestmark = pytest.mark.asyncio


async def infos_once(caplog: pytest.LogCaptureFixture, line: str) -> list[str]:
    """The INFO lines logged so far, once ``line`` is among them (the start-up batch is
    published on the loop after the server started); the interval only paces the check."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        infos = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
        if line in infos or time.monotonic() > deadline:
            return infos
        await asyncio.sleep(0.01)


async def test_a_first_start_logs_its_batch_in_one_line(
    standalone_factory, hotconf_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(23):  # 25 tenants with acme and globex
        write_json(hotconf_dir / "private" / f"t{n:02d}.json", {"name": f"T{n}"})
    caplog.set_level(logging.INFO, logger="jupyter_hotconf")
    standalone_factory(history=str(tmp_path / "history.sqlite"))
    infos = await infos_once(caplog, "hotconf broadcast: 25 changes (created 25)")
    assert "hotconf broadcast: 25 changes (created 25)" in infos, infos
    assert "25 tenants changed in one batch" in infos
    assert not [m for m in infos if m.startswith(("hotconf broadcast: tenant=", "tenant t0"))]


async def test_a_small_batch_logs_each_change(
    standalone_factory, hotconf_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jupyter_hotconf")
    standalone_factory(history=str(tmp_path / "history.sqlite"))
    line = "hotconf broadcast: tenant=acme change=created revision=1 receivers=0"
    assert line in await infos_once(caplog, line)
