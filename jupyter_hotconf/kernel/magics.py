"""``%hotconf`` / ``%%hotconf live`` (``docs/kernel.md``), loaded by ``%load_ext jupyter_hotconf``.

    cfg = %hotconf acme                 # prints where the config comes from
    %hotconf --status                   # a table of every link (tenant and source)
    %hotconf history acme --limit 20    # the tenant's history as a table
    %hotconf diff acme 3 5              # old → new per changed path (5: default current)
    %hotconf set acme pricing.discount=0.2 name="Acme Co"   # write-back, one revision
    %%hotconf live acme                 # the cell re-runs in place on every change
    print(cfg["pricing"]["discount"])
    %%hotconf live acme globex          # ... on every change of either tenant

``%unload_ext jupyter_hotconf`` closes every provider and live cell.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import shlex
import urllib.request
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display

from ..core.tenants import ConfigLayout
from .discovery import DiscoveryError, Source, discover
from .live import LiveCell
from .provider import ConfigProvider, close_all, providers
from .view import split_path

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # an error message, not SystemExit in a kernel
        raise ValueError(f"%hotconf: {message}\n{self.format_usage()}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="%hotconf", add_help=False)
    p.add_argument("words", nargs="*", help="TENANT, or: live TENANT [TENANT …] (cell magic)")
    p.add_argument("--url")
    p.add_argument("--token")
    p.add_argument("--config-dir")
    p.add_argument("--status", action="store_true")
    p.add_argument("--close", action="store_true", help="close the tenant's provider")
    p.add_argument("--quiet", "-q", action="store_true")
    p.add_argument("--limit", type=int, default=50, help="entries shown by history")
    return p


def list_tenants(source: Source) -> list[str]:
    """Tenant ids for tab completion: REST ``api/tenants`` or the local config dir."""
    if source.kind == "local" and source.config_dir is not None:
        return sorted(ConfigLayout(source.config_dir).scan_tenants())
    request = urllib.request.Request(source.rest_url("tenants"), headers=source.headers())
    with urllib.request.urlopen(request, timeout=3) as response:
        return sorted(str(t["tenant_id"]) for t in json.loads(response.read()))


HISTORY_WORDS = ("history", "diff")
USAGE = ("cfg = %hotconf TENANT [--url U] [--token T] | --status | "
         "history TENANT [--limit N] | diff TENANT A [B] | set TENANT PATH=VALUE …")


def assignments_patch(items: list[str]) -> dict[str, Any]:
    """``["a.b=1", "a.c=x"]`` → the merge patch ``{"a": {"b": 1, "c": "x"}}``, as
    ``jupyter-hotconf set`` reads them: VALUE parsed as JSON, else a string (``null``
    removes the key); PATH dotted or a JSON pointer."""
    patch: dict[str, Any] = {}
    for item in items:
        raw_path, sep, raw_value = item.partition("=")
        parts = [str(p) for p in split_path(raw_path)]
        if not sep or not parts or "" in parts:
            raise ValueError(f"%hotconf set: {item!r}: expected PATH=VALUE, e.g. "
                             "pricing.discount=0.2")
        try:
            value: Any = json.loads(raw_value)
        except ValueError:
            value = raw_value
        node = patch
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = value
    return patch


@magics_class
class HotconfMagics(Magics):
    """Owns the handles made by ``%hotconf`` (one per tenant and options) and live cells;
    ``ConfigProvider(tenant)`` elsewhere in the kernel shares their links."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self._providers: dict[tuple[Any, ...], ConfigProvider] = {}
        self.live_cells: list[LiveCell] = []

    def provider(self, tenant: str, url: str | None = None, token: str | None = None,
                 config_dir: str | None = None) -> ConfigProvider:
        key = (tenant, url, token, config_dir)
        cfg = self._providers.get(key)
        if cfg is None or cfg.closed:
            cfg = ConfigProvider(tenant, url=url, token=token, config_dir=config_dir)
            self._providers[key] = cfg
        return cfg

    @line_cell_magic
    def hotconf(self, line: str, cell: str | None = None) -> Any:
        args = _parser().parse_args(shlex.split(line))
        if args.status:
            self.show_status()
            return None
        words = list(args.words)
        if cell is not None:
            if len(words) < 2 or words[0] != "live":
                raise ValueError("usage: %%hotconf live TENANT [TENANT …] [--url U] [--token T]")
            cfgs = [self.provider(t, args.url, args.token, args.config_dir)
                    for t in dict.fromkeys(words[1:])]
            live = LiveCell(self.shell, cell, cfgs)
            self.live_cells.append(live)
            live.start()
            return None
        if words and words[0] in HISTORY_WORDS and len(words) > 1:
            self.show_history(words, args)
            return None
        if words and words[0] == "set" and len(words) > 1:
            self.write(words[1], words[2:], args)
            return None
        if len(words) != 1:
            raise ValueError(f"usage: {USAGE}")
        key = (words[0], args.url, args.token, args.config_dir)
        if args.close:
            if key in self._providers:
                self._providers.pop(key).close()
            return None
        cfg = self.provider(*key)
        if not args.quiet:
            src = cfg.source.describe() if cfg.source is not None else "fixed config"
            print(f"hotconf: {cfg.tenant_id!r} from {src} — status {cfg.status}, "
                  f"revision {cfg.revision}{'' if cfg.valid else ', INVALID'}"
                  f"{f' ({cfg.error})' if cfg.error else ''}")
        return cfg

    def show_history(self, words: list[str], args: argparse.Namespace) -> None:
        """``history TENANT [--limit N]`` / ``diff TENANT A [B]``: display the HTML table
        (text elsewhere) through the tenant's provider, so it asks the same source."""
        verb, tenant, numbers = words[0], words[1], words[2:]
        cfg = self.provider(tenant, args.url, args.token, args.config_dir)
        if verb == "history":
            if numbers:
                raise ValueError(f"usage: %hotconf history TENANT [--limit N]\n{USAGE}")
            display(cfg.history(limit=args.limit))  # type: ignore[no-untyped-call]
            return
        if not 1 <= len(numbers) <= 2 or not all(n.isdigit() for n in numbers):
            raise ValueError(f"usage: %hotconf diff TENANT A [B] (revision numbers)\n{USAGE}")
        a, b = int(numbers[0]), int(numbers[1]) if len(numbers) == 2 else None
        display(cfg.diff(a, b))  # type: ignore[no-untyped-call]

    def write(self, tenant: str, items: list[str], args: argparse.Namespace) -> None:
        """``set TENANT PATH=VALUE …``: one conditional write (``cfg.update``) of them all
        through the tenant's provider; its errors (``ConfigConflict`` …) are raised."""
        if not items:
            raise ValueError(f"usage: %hotconf set TENANT PATH=VALUE [PATH=VALUE …]\n{USAGE}")
        patch = assignments_patch(items)
        cfg = self.provider(tenant, args.url, args.token, args.config_dir)
        revision = cfg.update(patch)
        if not args.quiet:
            print(f"hotconf: {cfg.tenant_id!r} {' '.join(items)} → revision {revision}")

    def show_status(self) -> None:
        """One row per link (the providers of a tenant and source share it), and one per
        fixed-config provider."""
        cols = ("tenant", "status", "revision", "valid", "attempts", "last change", "handles",
                "source")
        first: dict[int, tuple[ConfigProvider, int]] = {}
        for p in providers():
            key = id(p.shared_link) if p.shared_link is not None else id(p)
            seen = first.get(key)
            first[key] = (seen[0], seen[1] + 1) if seen else (p, 1)
        rows = [
            (p.tenant_id, str(p.status), str(p.revision), "yes" if p.valid else "NO",
             str(p.reconnect_attempts), p.last_change or "-", str(n),
             p.source.describe() if p.source is not None else "fixed")
            for p, n in first.values()
        ]
        widths = [max(len(r[i]) for r in [cols, *rows]) for i in range(len(cols))]
        text = "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [cols, *rows]
        )
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
        )
        head = "".join(f"<th>{c}</th>" for c in cols)
        table = f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
        display({"text/plain": text if rows else "no hotconf providers",
                 "text/html": table}, raw=True)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        for live in self.live_cells:
            live.stop()
        self.live_cells.clear()
        self._providers.clear()
        close_all()


def complete_tenants(_self: Any, event: Any) -> list[str]:
    """``%hotconf <TAB>`` / ``%%hotconf live <TAB>``: tenant names (never raises)."""
    try:
        return list_tenants(discover())
    except (DiscoveryError, OSError, ValueError) as e:
        log.debug("hotconf: no tenant completion: %s", e)
        return []


_magics: HotconfMagics | None = None


def load_ipython_extension(ipython: Any) -> None:
    global _magics
    if _magics is not None:
        return
    _magics = HotconfMagics(ipython)
    ipython.register_magics(_magics)
    for key in ("%hotconf", "%%hotconf"):
        ipython.set_hook("complete_command", complete_tenants, str_key=key)


def unload_ipython_extension(ipython: Any) -> None:
    global _magics
    if _magics is not None:
        _magics.close()
        _magics = None
    else:
        close_all()
