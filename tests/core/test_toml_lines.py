"""Schema errors in TOML files carry the line of the failing value, as JSON and YAML ones
do (docs/config-files.md): a nested table, an array-of-tables entry, a dotted key, an
element of a multi-line inline array."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_hotconf.cli import main
from jupyter_hotconf.core.loading import load_tenant
from jupyter_hotconf.core.tenants import ConfigLayout

SCHEMA = {
    "type": "object",
    "properties": {
        "pricing": {"type": "object",
                    "properties": {"discount": {"type": "number", "maximum": 1}}},
        "servers": {"type": "array", "items": {
            "type": "object", "properties": {"port": {"type": "integer"}}}},
        "limits": {"type": "object", "properties": {"cpu": {"type": "object", "properties": {
            "max": {"type": "number", "minimum": 0}}}}},
        "tiers": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}}}},
    },
}

HEAD = '''# acme's config
title = "Acme"   # a comment = not a key
notes = """
[pricing]
discount = 7
"""
'''

CASES = {
    "nested table value": ("[pricing]\ncurrency = 'EUR'\ndiscount = 5\n", 9, "/pricing/discount"),
    "array-of-tables entry": (
        '[[servers]]\nhost = "a"\nport = 80\n\n[[servers]]\nhost = "b"\nport = "http"\n',
        13, "/servers/1/port",
    ),
    "dotted key": ('limits.cpu.max = -1\n', 7, "/limits/cpu/max"),
    "inline array element": (
        'tiers = [\n  { name = "gold" },\n  { name = 3 },\n]\n', 9, "/tiers/1/name",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_toml_schema_error_has_the_line_of_the_value(tmp_path: Path, case: str) -> None:
    body, line, pointer = CASES[case]
    (tmp_path / "private").mkdir()
    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA))
    (tmp_path / "private" / "acme.toml").write_text(HEAD + body)
    result = load_tenant(ConfigLayout(tmp_path), "acme")
    assert result.error is not None
    assert (result.error.file, result.error.pointer) == ("private/acme.toml", pointer)
    assert result.error.line == line, (HEAD + body).splitlines()[line - 1]
    assert result.error.column == (5 if case == "inline array element" else 1)


def test_validate_prints_the_toml_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "private").mkdir()
    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA))
    (tmp_path / "private" / "acme.toml").write_text(HEAD + CASES["array-of-tables entry"][0])
    assert main(["validate", str(tmp_path)]) == 1
    assert capsys.readouterr().out.startswith(
        "private/acme.toml:13:1: error: 'http' is not of type 'integer' (at /servers/1/port)"
    )
