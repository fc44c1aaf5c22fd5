"""The start-up batch. A large batch is logged in one line: a first start that records 25
tenants, or a restart that finds a checkout of hundreds, must not write a line per tenant to
the log; a small batch still does. A first start records every tenant, however many chunks
its rows take."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

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


async def test_a_first_start_logs_one_line_not_one_per_tenant(
    standalone_factory, hotconf_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A new history's first load tells no client anything (no revision was ever sent under
    its epoch): no broadcast at all, and the count in the start-up line."""
    for n in range(23):  # 25 tenants with acme and globex
        write_json(hotconf_dir / "private" / f"t{n:02d}.json", {"name": f"T{n}"})
    caplog.set_level(logging.INFO, logger="jupyter_hotconf")
    srv = standalone_factory(history=str(tmp_path / "history.sqlite"))
    infos = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any(m.startswith("hotconf: watching") and m.endswith("25 tenants)") for m in infos)
    assert not [m for m in infos if m.startswith(("hotconf broadcast", "tenant t0"))], infos
    recording = srv.engine.recording
    assert recording.history.entry_count() == 25  # each recorded all the same (after the
    assert recording.entries == 25  # commit that follows the load: it waits for it)


async def test_a_first_start_larger_than_a_chunk_records_every_tenant(
    standalone_factory, hotconf_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load queues its first revisions; the history's thread writes them in chunks and
    commits after the load: every tenant is in the database, with the store's checksum and
    the store's epoch."""
    monkeypatch.setattr("jupyter_hotconf.core.history_batch.CHUNK", 3)
    for n in range(23):
        write_json(hotconf_dir / "private" / f"t{n:02d}.json", {"name": f"T{n}"})
    srv = standalone_factory(history=str(tmp_path / "history.sqlite"))
    engine = srv.engine
    history = engine.recording.history
    assert history.entry_count() == engine.recording.entries == 25
    assert history.epoch == engine.store.epoch
    states = engine.store.states()
    assert len(states) == 25
    assert {s.tenant_id: history.last(s.tenant_id) for s in states} == {
        s.tenant_id: (1, s.checksum) for s in states}
    assert history.revision("t07", 1).document == {"name": "T7"}


async def restarted(
    standalone_factory, tmp_path: Path, caplog: pytest.LogCaptureFixture, while_down: Any
) -> None:
    """Start on a history, stop, run ``while_down()``, start again on the same history (the
    changes found then are delivered, as edits made while nobody watched)."""
    history = str(tmp_path / "history.sqlite")
    await standalone_factory(history=history).server.stop()
    while_down()
    caplog.set_level(logging.INFO, logger="jupyter_hotconf")
    standalone_factory(history=history)


async def test_a_large_batch_logs_in_one_line(
    standalone_factory, hotconf_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def add_tenants() -> None:  # a checkout of 23 tenants while the server was down
        for n in range(23):
            write_json(hotconf_dir / "private" / f"t{n:02d}.json", {"name": f"T{n}"})

    await restarted(standalone_factory, tmp_path, caplog, add_tenants)
    infos = await infos_once(caplog, "hotconf broadcast: 23 changes (created 23)")
    assert "hotconf broadcast: 23 changes (created 23)" in infos, infos
    assert "23 tenants changed in one batch" in infos
    assert not [m for m in infos if m.startswith(("hotconf broadcast: tenant=", "tenant t0"))]


async def test_a_small_batch_logs_each_change(
    standalone_factory, hotconf_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def edit_acme() -> None:
        write_json(hotconf_dir / "private" / "acme.json", {"name": "Acme while down"})

    await restarted(standalone_factory, tmp_path, caplog, edit_acme)
    line = "hotconf broadcast: tenant=acme change=modified revision=2 receivers=0"
    assert line in await infos_once(caplog, line)
