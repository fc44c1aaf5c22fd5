"""Peer for ``jupyter-hotconf validate``: the plain script a user would write as a CI check.

The same work as ``plain_load.load`` (read ``defaults.json`` and ``schema.json`` once, then
for every ``private/*.json``: read, ``json.loads``, deep-merge over the defaults, validate
with one ``jsonschema`` validator built once), then print a summary and exit 1 if any tenant
failed. It imports only ``json`` and ``jsonschema`` (not ``plain_load``, whose
``http.server`` import would cost it ~20 ms of a whole-process time we compare against):
the benchmark times the whole process, start to exit, as it times ours.
Run: ``python -m bench.peers.plain_validate DIR``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        out[key] = merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return out


def validate(config_dir: Path) -> tuple[int, list[str]]:
    """``(tenants checked, names of the invalid ones)``."""
    defaults = json.loads((config_dir / "defaults.json").read_bytes())
    schema = json.loads((config_dir / "schema.json").read_bytes())
    validator = jsonschema.Draft202012Validator(schema)
    paths = sorted((config_dir / "private").glob("*.json"))
    invalid: list[str] = []
    for path in paths:
        try:
            config = merge(defaults, json.loads(path.read_bytes()))
        except (OSError, ValueError):
            invalid.append(path.name)
            continue
        if not validator.is_valid(config):
            invalid.append(path.name)
    return len(paths), invalid


def main(argv: list[str]) -> int:
    checked, invalid = validate(Path(argv[0] if argv else "configs"))
    for name in invalid:
        print(f"private/{name}: invalid")
    print(f"{checked} tenants checked, {len(invalid)} errors")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
