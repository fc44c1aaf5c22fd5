"""The config dir's own fate: a symlink re-pointed by a deploy, and a fault that recurs at
every re-arm (docs/change-detection.md)."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest
from test_watcher_support import KINDS, watching

from jupyter_hotconf.pytest_plugin import wait_until, write_json


def _repoint(link: Path, target: str) -> None:
    """``ln -s target tmp && mv -T tmp link``: the atomic swap deploy tools do."""
    tmp = link.with_name(f".{link.name}.new")
    os.symlink(target, tmp)
    os.replace(tmp, link)


@pytest.mark.parametrize("kind", KINDS)
def test_a_re_pointed_config_dir_symlink_is_followed(
    tmp_path: Path, hotconf_dir: Path, kind: str
) -> None:
    """``configs -> releases/v1`` then ``configs -> releases/v2``: every tenant whose content
    differs gets its change, and from then on v2 is watched, v1 no longer."""
    v1, v2 = tmp_path / "releases" / "v1", tmp_path / "releases" / "v2"
    shutil.copytree(hotconf_dir, v1)
    write_json(v1 / "private" / "hooli.json", {"name": "Hooli"})
    shutil.copytree(hotconf_dir, v2)
    write_json(v2 / "private" / "acme.json", {"pricing": {"discount": 0.1}, "name": "Acme v2"})
    write_json(v2 / "private" / "initech.json", {"name": "Initech"})
    link = tmp_path / "configs-link"
    os.symlink("releases/v1", link)
    with watching(link, kind) as h:
        assert h.config("hooli") is not None
        _repoint(link, "releases/v2")
        assert h.wait_for("acme", "modified").new["name"] == "Acme v2"  # type: ignore[index]
        h.wait_for("initech", "created")
        h.wait_for("hooli", "deleted")
        assert h.watcher.config_dir == str(v2)
        write_json(v1 / "private" / "acme.json", {"name": "edited in v1, no longer in force"})
        write_json(v2 / "private" / "globex.json", {"name": "Globex v2"})
        h.wait_for("globex", "modified")  # the new target is watched
        h.sentinel("initech")  # everything before it is settled: the v1 edit was not seen
        assert h.types("acme") == ["modified"]
        assert h.config("acme")["name"] == "Acme v2"  # type: ignore[index]
        assert h.types("globex") == ["modified"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_recurring_worker_error_is_logged_once_and_shown_until_it_stops(
    tmp_path: Path, hotconf_dir: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``private/`` replaced by a symlink to itself: listing it fails with ELOOP at every
    re-arm and rescan. (Tests run as root, whom ``chmod 000`` does not stop; no permission
    bypasses a symlink loop.) One ERROR with the traceback, a count in ``watcher.error``,
    one line when it stops — not one traceback per re-arm."""
    caplog.set_level(logging.INFO, logger="jupyter_hotconf.core")
    private = hotconf_dir / "private"
    with watching(hotconf_dir, kind, rearm_interval_s=0.05) as h:
        assert h.watcher.error is None
        os.rename(private, tmp_path / "saved")
        os.symlink("private", private)
        error = wait_until(
            lambda: (e := h.watcher.error) is not None and e["count"] >= 5 and e,
            what="the error to recur five times",
        )
        assert "Too many levels of symbolic links" in error["message"]
        assert error["since"].endswith("Z")
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]  # watchdog's too
        assert len(errors) == 1 and errors[0].exc_info is not None, errors
        assert h.watcher.watching and h.watcher.stats["rearms"] == 0  # no churn: rescans only
        assert "logged once while it recurs" in errors[0].getMessage()
        os.unlink(private)
        os.rename(tmp_path / "saved", private)
        wait_until(lambda: h.watcher.error is None, what="the error to clear")
        recovered = [r.getMessage() for r in caplog.records if "recovered" in r.getMessage()]
        assert len(recovered) == 1 and "failures since" in recovered[0], recovered
        assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
        h.sentinel()  # watching again
        assert h.types("acme") == []  # the last good configs stayed in force throughout
