"""``jupyter-hotconf history | diff | rollback`` (docs/history.md, "Command line").

Against a server (``--url``/``--token``, else ``HOTCONF_URL``/``HOTCONF_TOKEN``) over its
REST API, or — for ``history`` and ``diff`` — straight from the history database of
``--config-dir``. A table by default, ``--format json`` for scripts. Only the standard
library talks HTTP here, so the CLI never loads Tornado.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A failure to report in one line (exit status 1)."""


def _common(parser: argparse.ArgumentParser, *, local: bool) -> None:
    parser.add_argument("tenant", help="tenant id")
    parser.add_argument("--url", default=None,
                        help="the server's hotconf base, e.g. http://127.0.0.1:7945/hotconf/ "
                        "(default $HOTCONF_URL)")
    parser.add_argument("--token", default=None, help="the server's token (default "
                        "$HOTCONF_TOKEN)")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="output format (default table)")
    if local:
        parser.add_argument("--config-dir", default=None,
                            help="read the history database of this config dir instead of "
                            "asking a server")
        parser.add_argument("--history", default=None, help="with --config-dir: the database "
                            "path, if not the default under Jupyter's data dir")


def add_history_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser, local=True)
    parser.add_argument("--limit", type=int, default=50, help="entries to show (default 50)")
    parser.add_argument("--before", type=int, default=None,
                        help="only entries older than this revision")


def add_diff_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser, local=True)
    parser.add_argument("a", type=int, help="from revision")
    parser.add_argument("b", type=int, nargs="?", default=None,
                        help="to revision (default: the current one)")


def add_rollback_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser, local=False)
    parser.add_argument("revision", type=int, help="the revision to roll back to")


# -- where the answers come from -----------------------------------------------------------


def _base_url(args: argparse.Namespace) -> str:
    url = args.url or os.environ.get("HOTCONF_URL")
    if not url:
        raise CliError("no server: pass --url (or set HOTCONF_URL), or --config-dir to read "
                       "the history database directly")
    if not url.endswith("/"):
        url += "/"
    return url if url.endswith("/hotconf/") else url + "hotconf/"


def _request(args: argparse.Namespace, path: str, body: Any = None) -> Any:
    url = _base_url(args) + path
    headers = {"Accept": "application/json"}
    token = args.token or os.environ.get("HOTCONF_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers,
                                     method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        raise CliError(f"{err.code} from {url}: {_reason(err.read())}") from None
    except (urllib.error.URLError, OSError) as err:
        raise CliError(f"cannot reach {url}: {getattr(err, 'reason', err)}") from None


def _reason(body: bytes) -> str:
    try:
        value = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip() or "no reason given"
    return str(value.get("message") or value.get("reason") or value) if isinstance(
        value, dict) else str(value)


def _local(args: argparse.Namespace) -> Any:
    """The history database of ``--config-dir``, opened only if it exists (never created)."""
    from jupyter_core.paths import jupyter_data_dir

    from .core.history import HistoryStore, default_history_path

    config_dir = Path(args.config_dir)
    if not config_dir.is_dir():
        raise CliError(f"--config-dir {config_dir}: not a directory")
    path = Path(args.history) if args.history else default_history_path(
        config_dir, jupyter_data_dir())
    if not path.exists():
        raise CliError(f"no history database for {config_dir} at {path} (has a server or "
                       "kernel watched it with history on?)")
    return HistoryStore(path)


def _fetch_history(args: argparse.Namespace) -> dict[str, Any]:
    if args.limit < 1:
        raise CliError(f"--limit must be at least 1, got {args.limit}")
    if args.config_dir:
        with _local(args) as history:
            entries = history.history(args.tenant, args.limit, args.before)
            return {"tenant_id": args.tenant, "epoch": history.epoch,
                    "entries": [entry.to_dict() for entry in entries]}
    query = {"limit": args.limit, **({"before": args.before} if args.before else {})}
    tenant = urllib.parse.quote(args.tenant, safe="")
    return dict(_request(args, f"api/tenants/{tenant}/history?{urllib.parse.urlencode(query)}"))


def _fetch_diff(args: argparse.Namespace) -> dict[str, Any]:
    if args.config_dir:
        with _local(args) as history:
            return dict(history.diff(args.tenant, args.a, args.b).to_dict())
    query = {"from": args.a, **({"to": args.b} if args.b is not None else {})}
    tenant = urllib.parse.quote(args.tenant, safe="")
    return dict(_request(args, f"api/tenants/{tenant}/diff?{urllib.parse.urlencode(query)}"))


# -- rendering ---------------------------------------------------------------------------


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    return "\n".join(lines)


def render_history(body: dict[str, Any]) -> str:
    rows = []
    for e in body["entries"]:
        what = ", ".join(e["changed_paths"]) or "-"
        if e["error"]:
            err = e["error"]
            where = err["file"] + (f":{err['line']}" if err.get("line") else "")
            what = f"{where}: {err['message']}"
        rows.append(["-" if e["revision"] is None else str(e["revision"]), e["timestamp"],
                     e["change_type"], e["source"], e["actor"] or "-", what])
    head = f"tenant {body['tenant_id']} (epoch {body['epoch']})"
    if not rows:
        return f"{head}: no entries"
    return head + "\n" + _table(rows, ["REV", "TIME", "CHANGE", "SOURCE", "ACTOR", "PATHS"])


def render_diff(body: dict[str, Any]) -> str:
    rows = [[op["op"], op["path"], json.dumps(op.get("value")) if "value" in op else ""]
            for op in body["patch"]]
    head = f"revision {body['from']} -> {body['to']}"
    if not rows:
        return f"{head}: no difference"
    return head + "\n" + _table(rows, ["OP", "PATH", "VALUE"])


def render_rollback(body: dict[str, Any]) -> str:
    if not body.get("changed"):
        return (f"revision {body['rolled_back_to']} is already in force (revision "
                f"{body['revision']}); nothing written")
    return (f"rolled back to revision {body['rolled_back_to']}: now revision "
            f"{body['revision']} ({body['checksum']})")


def _emit(args: argparse.Namespace, body: dict[str, Any], render: Any) -> int:
    print(json.dumps(body, indent=2) if args.format == "json" else render(body))
    return 0


def _guard(fn: Any, args: argparse.Namespace) -> int:
    try:
        return int(fn(args))
    except CliError as err:
        print(f"jupyter-hotconf {args.command}: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as err:  # a typed engine error (bad tenant, unknown revision …)
        from .core.errors import HotconfError

        if not isinstance(err, HotconfError):
            raise
        print(f"jupyter-hotconf {args.command}: error: {err}", file=sys.stderr)
        return EXIT_ERROR


def run_history(args: argparse.Namespace) -> int:
    return _guard(lambda a: _emit(a, _fetch_history(a), render_history), args)


def run_diff(args: argparse.Namespace) -> int:
    return _guard(lambda a: _emit(a, _fetch_diff(a), render_diff), args)


def run_rollback(args: argparse.Namespace) -> int:
    def go(a: argparse.Namespace) -> int:
        tenant = urllib.parse.quote(a.tenant, safe="")
        body = _request(a, f"api/tenants/{tenant}/rollback", {"revision": a.revision})
        return _emit(a, dict(body), render_rollback)

    return _guard(go, args)
