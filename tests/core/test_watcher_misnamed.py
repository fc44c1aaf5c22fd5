"""``private/ACME.JSON`` is no tenant, and it is never silently so: the watcher warns once
per file and ``jupyter-hotconf validate`` lists it (docs/config-files.md)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from test_watcher_support import KINDS, watching

from jupyter_hotconf.cli import main
from jupyter_hotconf.pytest_plugin import write_json


def _warnings(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and f"private/{name} " in r.getMessage()]


@pytest.mark.parametrize("kind", KINDS)
def test_the_watcher_warns_once_per_wrong_case_suffix(
    hotconf_dir: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jupyter_hotconf.core")
    write_json(hotconf_dir / "private" / "ACME.JSON", {"name": "shouting"})
    with watching(hotconf_dir, kind) as h:
        assert _warnings(caplog, "ACME.JSON") == [
            "private/ACME.JSON is not a tenant file and is ignored: the suffix .JSON is not"
            " lower-case (tenant files end in exactly .json, .yaml, .yml or .toml); rename it"
            " to ACME.json"
        ]
        write_json(hotconf_dir / "private" / "acme.Json", {"name": "mixed"})
        write_json(hotconf_dir / "private" / "acme.Json", {"name": "mixed, again"})
        write_json(hotconf_dir / "private" / "ACME.JSON", {"name": "shouting, again"})
        h.sentinel()  # every event before it has been mapped
        assert len(_warnings(caplog, "acme.Json")) == 1
        assert len(_warnings(caplog, "ACME.JSON")) == 1
        assert sorted(h.store.tenant_ids()) == ["acme", "globex"]
        assert h.types("acme") == []


def test_validate_lists_a_wrong_case_suffix(
    hotconf_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_json(hotconf_dir / "private" / "ACME.JSON", {"name": "shouting"})
    write_json(hotconf_dir / "private" / "globex.Yaml", {"name": "mixed"})
    assert main(["validate", str(hotconf_dir)]) == 0  # a warning, not an error
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("private/ACME.JSON: warning: ignored: the suffix .JSON is not lower-case"
                      " (tenant files end in exactly .json, .yaml, .yml or .toml); rename it"
                      " to ACME.json")
    assert out[1].startswith("private/globex.Yaml: warning: ignored: the suffix .Yaml")
    assert out[-1] == "2 tenants checked, 0 errors, 2 warnings"
