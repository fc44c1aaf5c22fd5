"""Importing the schema validation does not build rfc3987_syntax's grammar, and the ``iri``
format is still checked when a schema asks for it (core/lazyformats.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from jupyter_hotconf.core.errors import InvalidDocument
from jupyter_hotconf.core.loading import load_tenant
from jupyter_hotconf.core.tenants import ConfigLayout
from jupyter_hotconf.pytest_plugin import write_json

PROBE = """
import sys
import jupyter_hotconf.core.schema, jupyter_hotconf.core.validate
print(sorted(m for m in sys.modules if m.startswith("rfc3987_syntax")))
"""


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_validation_builds_no_iri_grammar() -> None:
    assert run(PROBE) == "[]"


def test_the_probe_can_fail() -> None:
    """The same probe sees the package when jsonschema is imported the ordinary way."""
    assert "rfc3987_syntax" in run("import jsonschema\n" + PROBE)


def test_the_real_package_is_there_after_the_import() -> None:
    code = "import jupyter_hotconf.core.schema, rfc3987_syntax\nprint(rfc3987_syntax.__file__)"
    assert run(code).endswith(".py")


def test_iri_format_is_still_checked(hotconf_dir: Path) -> None:
    schema = json.loads((hotconf_dir / "schema.json").read_text())
    schema["properties"]["homepage"] = {"type": "string", "format": "iri"}
    write_json(hotconf_dir / "schema.json", schema)
    write_json(hotconf_dir / "private" / "acme.json", {"homepage": "http://ex.org/ä"})
    assert load_tenant(ConfigLayout(hotconf_dir), "acme").error is None
    write_json(hotconf_dir / "private" / "acme.json", {"homepage": "not an iri at all"})
    error = load_tenant(ConfigLayout(hotconf_dir), "acme").error
    assert isinstance(error, InvalidDocument) and error.pointer == "/homepage"
