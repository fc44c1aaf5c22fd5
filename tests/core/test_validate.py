"""``jupyter-hotconf validate``: the real console script on the repo's configs and on broken
files, plus the JSON format and the exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_hotconf.cli import main
from jupyter_hotconf.core.validate import check_dir
from jupyter_hotconf.pytest_plugin import EXAMPLE_DEFAULTS, EXAMPLE_SCHEMA, write_json

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("jupyter-hotconf")

BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]\n"
    for prev, cur in zip("abcdefghi", "bcdefghij", strict=True)
)

#: broken file → the location its error line must start with
BROKEN: dict[str, tuple[str, str]] = {
    "private/acme.json": ('{\n  "name": "Acme",\n  "name": "Again"\n}\n', "private/acme.json:3:3:"),
    "private/globex.yaml": ("name: Globex\nrun: !!python/object/apply:os.system [id]\n",
                            "private/globex.yaml:2:6:"),
    "private/initech.toml": ('name = "Initech"\n[pricing\n', "private/initech.toml:2:9:"),
    "private/hooli.json": ('{"pricing": {"discount": NaN}}', "private/hooli.json:1:14:"),
    "private/umbrella.json": ('{\n  "pricing": {\n    "discount": 5\n  }\n}\n',
                              "private/umbrella.json:3:5:"),
    "private/bomb.yaml": (BOMB, "private/bomb.yaml:"),
    "private/nested.json": ('{"a":' * 101 + "1" + "}" * 101, "private/nested.json:1:"),
    "private/latin1.json": ('{"name": "caf\xe9"}', "private/latin1.json:1:14:"),
    "private/list.yaml": ("- just\n- a list\n", "private/list.yaml:1:1:"),
    "private/empty.json": ("", "private/empty.json:"),
}


def _broken_dir(root: Path) -> Path:
    write_json(root / "defaults.json", EXAMPLE_DEFAULTS)
    write_json(root / "schema.json", EXAMPLE_SCHEMA)
    write_json(root / "private" / "fine.json", {"name": "Fine"})
    for rel, (text, _) in BROKEN.items():
        data = text.encode("latin-1") if "latin1" in rel else text.encode()
        (root / rel).write_bytes(data)
    # never a tenant, so never reported, however broken
    (root / "private" / ".ipynb_checkpoints").mkdir()
    (root / "private" / ".ipynb_checkpoints" / "acme-checkpoint.json").write_text("{{{")
    (root / "private" / ".fine.json.swp").write_text("\x00garbage")
    return root


def _script(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_console_script_accepts_the_repo_configs() -> None:
    proc = _script("validate", "configs")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines() == ["3 tenants checked, 0 errors"]


def test_console_script_names_every_broken_file_with_line(tmp_path: Path) -> None:
    root = _broken_dir(tmp_path / "cfg")
    proc = _script("validate", str(root))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    for rel, (_, where) in BROKEN.items():
        matching = [line for line in lines if line.startswith(where)]
        assert matching, f"{rel} not reported as {where!r} in:\n{proc.stdout}"
        assert ": error: " in matching[0]
        if rel != "private/empty.json":  # an empty file has no line to point at
            assert re.match(rf"{re.escape(rel)}:\d+(:\d+)?: error: ", matching[0])
    assert "checkpoint" not in proc.stdout and "swp" not in proc.stdout
    assert lines[-1] == f"{len(BROKEN) + 1} tenants checked, {len(BROKEN)} errors"


def test_repo_configs_are_realistic() -> None:
    report = check_dir(REPO / "configs")
    assert report.ok and [t.tenant_id for t in report.tenants] == ["acme", "globex", "initech"]
    assert {f for t in report.tenants for f in t.files} == {
        "private/acme.json", "private/globex.yaml", "private/initech.toml"}
    assert (REPO / "configs" / "defaults.json").is_file()
    assert (REPO / "configs" / "schema.json").is_file()


def test_json_format_lists_every_tenant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _broken_dir(tmp_path / "cfg")
    assert main(["validate", str(root), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False
    tenants = {t["tenant_id"]: t for t in doc["tenants"]}
    assert tenants["fine"]["ok"] is True and tenants["fine"]["error"] is None
    assert tenants["umbrella"]["error"] == {
        "file": "private/umbrella.json", "line": 3, "column": 5,
        "pointer": "/pricing/discount", "message": "5 is greater than the maximum of 1"}
    assert tenants["acme"]["ok"] is False
    assert doc["summary"] == {"tenants": len(BROKEN) + 1, "errors": len(BROKEN), "warnings": 0}


def test_missing_dir_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "does not exist" in err
    (tmp_path / "file").write_text("x")
    assert main(["validate", str(tmp_path / "file")]) == 2


def test_default_dir_is_configs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 2
    assert "'configs'" in capsys.readouterr().err
    write_json(tmp_path / "configs" / "private" / "acme.json", {"name": "Acme"})
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.strip() == "1 tenant checked, 0 errors"


def test_broken_defaults_reported_once(
    hotconf_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (hotconf_dir / "defaults.json").write_text('{\n  "pricing": {,}\n}')
    assert main(["validate", str(hotconf_dir)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["defaults.json:2:15: error: Expecting property name enclosed in double quotes",
                   "2 tenants checked, 1 error"]


def test_shared_files_checked_without_tenants(tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text('{"type": "objekt"}')
    report = check_dir(tmp_path)
    assert [e.file for e in report.errors] == ["schema.json"]
    assert report.warnings == [("private", "no private/ folder: there are no tenants")]


def test_misnamed_tenant_file_is_a_warning(
    hotconf_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (hotconf_dir / "private" / "acme corp.json").write_text("{}")
    (hotconf_dir / "private" / "notes.txt").write_text("not config")
    assert main(["validate", str(hotconf_dir)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("private/acme corp.json: warning: ignored: 'acme corp'")
    assert out[-1] == "2 tenants checked, 0 errors, 1 warning"


def test_max_file_bytes_flag(hotconf_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(hotconf_dir), "--max-file-bytes", "20"]) == 1
    assert "max_file_bytes" in capsys.readouterr().out
