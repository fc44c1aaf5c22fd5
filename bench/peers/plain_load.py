"""Peer for cold load: the plain script a user would write to load every tenant at start.

Read ``defaults.json`` and ``schema.json`` once, then for every ``private/*.json``: read it,
``json.loads``, deep-merge over the defaults, validate with ``jsonschema`` (one validator,
built once), keep the result in a dict; then answer ``GET /health`` (``http.server``) with
the number of tenants. No checksums, no patches, no history, no strict parsing (duplicate
keys and NaN pass), no watcher: what ours does on top of this is what the comparison
prices. Run: ``python -m bench.peers.plain_load --config-dir D --port P``. It prints, on
stdout, the seconds its imports took and the seconds the load itself took.
"""

from __future__ import annotations

import time

T0 = time.monotonic()

import argparse  # noqa: E402 - timed from the first line
import json  # noqa: E402
from http.server import BaseHTTPRequestHandler, HTTPServer  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import jsonschema  # noqa: E402


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        out[key] = merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return out


def load(config_dir: Path) -> tuple[dict[str, Any], int]:
    defaults = json.loads((config_dir / "defaults.json").read_bytes())
    schema = json.loads((config_dir / "schema.json").read_bytes())
    validator = jsonschema.Draft202012Validator(schema)
    configs: dict[str, Any] = {}
    invalid = 0
    for path in sorted((config_dir / "private").glob("*.json")):
        try:
            config = merge(defaults, json.loads(path.read_bytes()))
        except (OSError, ValueError):
            invalid += 1
            continue
        if validator.is_valid(config):
            configs[path.stem] = config
        else:
            invalid += 1
    return configs, invalid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    t1 = time.monotonic()
    configs, invalid = load(args.config_dir.resolve())
    t2 = time.monotonic()
    print(
        json.dumps(
            {"imports_s": t1 - T0, "load_s": t2 - t1, "tenants": len(configs), "invalid": invalid}
        ),
        flush=True,
    )
    body = json.dumps({"tenants": len(configs)}).encode()

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    HTTPServer(("127.0.0.1", args.port), Health).serve_forever()


if __name__ == "__main__":
    main()
