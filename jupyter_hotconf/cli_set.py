"""``jupyter-hotconf set TENANT a.b=value …`` (docs/write-back.md, "Command line").

Each ``path=value`` becomes one JSON Merge Patch: the value is parsed as JSON (``0.2``,
``true``, ``[1, 2]``, ``{"a": 1}``, ``null`` removes the key), else taken as a string.
The path is dotted (``pricing.discount``) or a JSON pointer (``/pricing/discount``).

Against a server (``--url``/``--token``, else ``HOTCONF_URL``/``HOTCONF_TOKEN``) it reads the
tenant's ETag and PATCHes with ``If-Match``, so a change made meanwhile is never overwritten
(a tenant without a file is created with ``PUT`` + ``If-None-Match: *``). With
``--config-dir`` it writes the file itself through ``core/writer.py``, holding the same
cross-process lock as the servers on that dir, and records the revision in the dir's
history database when one exists (``source: api``, ``actor``: the OS user).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from .cli_history import EXIT_ERROR, CliError, _base_url, _reason
from .core.patching import merge_patch

MERGE_PATCH = "application/merge-patch+json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tenant", help="tenant id")
    parser.add_argument("assignments", nargs="+", metavar="PATH=VALUE",
                        help="e.g. pricing.discount=0.2 (VALUE parsed as JSON, else a string; "
                        "null removes the key)")
    parser.add_argument("--url", default=None,
                        help="the server's hotconf base, e.g. http://127.0.0.1:7945/hotconf/ "
                        "(default $HOTCONF_URL)")
    parser.add_argument("--token", default=None, help="the server's token (default "
                        "$HOTCONF_TOKEN)")
    parser.add_argument("--config-dir", default=None,
                        help="write the file of this config dir directly, without a server")
    parser.add_argument("--history", default=None, help="with --config-dir: the history "
                        "database, if not the default under Jupyter's data dir")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="output format (default text)")


def _path(raw: str) -> list[str]:
    if raw.startswith("/"):
        return [p.replace("~1", "/").replace("~0", "~") for p in raw[1:].split("/")]
    return raw.split(".")


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """``["a.b=1", "a.c=x"]`` → the merge patch ``{"a": {"b": 1, "c": "x"}}``."""
    patch: dict[str, Any] = {}
    for item in assignments:
        raw_path, sep, raw_value = item.partition("=")
        parts = _path(raw_path)
        if not sep or not raw_path or any(part == "" for part in parts):
            raise CliError(f"{item!r}: expected PATH=VALUE, e.g. pricing.discount=0.2")
        try:
            value = json.loads(raw_value)
        except ValueError:
            value = raw_value
        nested: Any = value
        for part in reversed(parts):
            nested = {part: nested}
        patch = _combine(patch, nested)
    return patch


def _combine(patch: dict[str, Any], nested: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``nested`` into ``patch``, keeping ``null`` (a removal in the patch sent)."""
    out = dict(patch)
    for key, value in nested.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _combine(out[key], value)
        else:
            out[key] = value
    return out


# -- against a server ----------------------------------------------------------------------


def _call(args: argparse.Namespace, method: str, path: str, body: Any = None,
          headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    url = _base_url(args) + path
    hdrs = {"Accept": "application/json", **(headers or {})}
    token = args.token or os.environ.get("HOTCONF_TOKEN")
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        return err.code, answer if isinstance(answer, dict) else {"message": _reason(raw)}, \
            err.headers
    except (urllib.error.URLError, OSError) as err:
        raise CliError(f"cannot reach {url}: {getattr(err, 'reason', err)}") from None


def explain(code: int, body: dict[str, Any], url: str) -> str:
    """One line a person can act on, for a refused write."""
    if code == 412:
        return (f"tenant {body.get('tenant_id')!r} changed meanwhile, now revision "
                f"{body.get('revision')} — try again")
    if code == 422 and isinstance(body.get("error"), dict):
        err = body["error"]
        where = err.get("file") or "?"
        if err.get("line"):
            where += f":{err['line']}" + (f":{err['column']}" if err.get("column") else "")
        at = f" (at {err['pointer']})" if err.get("pointer") else ""
        return f"refused: {where}: {err.get('message')}{at}; nothing written"
    return f"{code} from {url}: {body.get('message') or body.get('reason') or body}"


def _remote(args: argparse.Namespace, patch: dict[str, Any]) -> dict[str, Any]:
    path = "api/tenants/" + urllib.parse.quote(args.tenant, safe="")
    code, body, headers = _call(args, "GET", path)
    if code == 404:  # no file yet: create it, unless someone does first
        code, body, _ = _call(args, "PUT", path, merge_patch({}, patch),
                              {"Content-Type": "application/json", "If-None-Match": "*"})
    elif code == 200:
        code, body, _ = _call(args, "PATCH", path, patch,
                              {"Content-Type": MERGE_PATCH, "If-Match": headers["ETag"]})
    if code != 200:
        raise CliError(explain(code, body, _base_url(args) + path))
    return dict(body)


# -- straight on a config dir -----------------------------------------------------------------


def _local(args: argparse.Namespace, patch: dict[str, Any]) -> dict[str, Any]:
    from jupyter_core.paths import jupyter_data_dir

    from .core.errors import InvalidDocument
    from .core.history import HistoryStore, default_history_path
    from .core.history_types import Source
    from .core.writelock import read_current, tenant_lock
    from .core.writer import prepare_write

    config_dir = Path(args.config_dir)
    if not config_dir.is_dir():
        raise CliError(f"--config-dir {config_dir}: not a directory")
    data_dir = jupyter_data_dir()
    with tenant_lock(config_dir, args.tenant, history=args.history, data_dir=data_dir):
        current = read_current(config_dir, args.tenant)
        if current.exists and current.document is None:
            raise CliError(f"the tenant's file is invalid, fix it first: {current.error}")
        document = merge_patch(current.document or {}, patch)
        try:
            pending = prepare_write(config_dir, args.tenant, document)
        except InvalidDocument as err:
            raise CliError(f"refused: {err}; nothing written") from None
        result: dict[str, Any] = {"tenant_id": pending.tenant_id, "revision": None,
                                  "checksum": pending.checksum, "file": pending.file}
        if document == current.document:
            result["changed"] = False
            return result
        pending.commit()
        result["changed"] = True
        db = Path(args.history) if args.history else default_history_path(config_dir, data_dir)
        if db.exists():  # record it now, so a server on this dir reports who wrote it
            with HistoryStore(db) as history:
                recorded = history.record(pending.tenant_id, pending.config, document=document,
                                          source=Source.API, actor=getpass.getuser(),
                                          file=pending.file)
                result["revision"] = recorded.revision
    return result


def render(body: dict[str, Any]) -> str:
    what = f"revision {body['revision']}" if body.get("revision") else "written"
    if body.get("changed") is False:
        return f"{body['tenant_id']}: already so, nothing written ({body['checksum']})"
    return f"{body['tenant_id']}: {what} ({body['checksum']})"


def run(args: argparse.Namespace) -> int:
    from .core.errors import HotconfError

    try:
        patch = parse_assignments(args.assignments)
        body = _local(args, patch) if args.config_dir else _remote(args, patch)
    except (CliError, HotconfError) as err:
        print(f"jupyter-hotconf set: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    print(json.dumps(body, indent=2) if args.format == "json" else render(body))
    return 0
