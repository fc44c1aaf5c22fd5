"""``jupyter-hotconf validate [DIR]``: check every tenant of a config dir, for CI gates.

Prints one line per problem in the compiler style editors and CI annotate
(``private/acme.json:3:5: error: duplicate key 'discount'``), then a summary line; exits 1
on any error, 2 when DIR is missing. ``--format json`` prints one JSON document instead.
A broken ``defaults.*`` or ``schema.json`` is reported once, not once per tenant.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .documents import DEFAULT_MAX_FILE_BYTES
from .errors import InvalidDocument
from .loading import Shared, load_shared, load_tenant
from .tenants import PRIVATE_DIR, ConfigLayout, ignored_reason


@dataclass
class TenantReport:
    tenant_id: str
    files: list[str]
    error: InvalidDocument | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "files": self.files,
            "ok": self.error is None,
            "error": None if self.error is None else self.error.to_dict(),
        }


@dataclass
class Report:
    """The outcome of checking one config dir."""

    config_dir: str
    tenants: list[TenantReport] = field(default_factory=list)
    errors: list[InvalidDocument] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (file, message)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, err: InvalidDocument) -> None:
        if err not in self.errors:  # a broken defaults file fails every tenant the same way
            self.errors.append(err)

    def summary(self) -> str:
        text = f"{_count(len(self.tenants), 'tenant')} checked, {_count(len(self.errors), 'error')}"
        if self.warnings:
            text += f", {_count(len(self.warnings), 'warning')}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "config_dir": self.config_dir,
            "ok": self.ok,
            "tenants": [t.to_dict() for t in self.tenants],
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [{"file": f, "message": m} for f, m in self.warnings],
            "summary": {
                "tenants": len(self.tenants),
                "errors": len(self.errors),
                "warnings": len(self.warnings),
            },
        }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _ignored_files(layout: ConfigLayout) -> list[tuple[str, str]]:
    """Config-looking files in ``private/`` that are no tenant, so a typo is not silent."""
    warnings = []
    for name in layout.iter_names():
        reason = ignored_reason(name)
        if reason is not None:
            warnings.append((f"{PRIVATE_DIR}/{name}", f"ignored: {reason}"))
    return warnings


def check_dir(root: str | Path, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Report:
    """Load every tenant of ``root`` (plus ``defaults.*`` and ``schema.json`` on their own,
    so their errors show even when there is no tenant) and collect every problem."""
    layout = ConfigLayout(root)
    report = Report(str(layout.root))
    shared: Shared | None = None
    try:  # read once for every tenant, as the watcher does per batch
        shared = load_shared(layout, max_file_bytes=max_file_bytes)
    except FileNotFoundError:  # removed while we looked: each tenant reads for itself
        pass
    else:  # their errors show even when there is no tenant
        for err in (shared.defaults_error, shared.schema_error):
            if err is not None:
                report.add_error(err)
    if not layout.private_dir.is_dir():
        report.warnings.append((PRIVATE_DIR, "no private/ folder: there are no tenants"))
    for tenant_id, files in layout.scan_tenants().items():
        result = load_tenant(layout, tenant_id, max_file_bytes=max_file_bytes, shared=shared)
        entry = TenantReport(tenant_id, [layout.relname(p) for p in files], result.error)
        report.tenants.append(entry)
        if result.error is not None:
            report.add_error(result.error)
    report.warnings.extend(_ignored_files(layout))
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir", nargs="?", default="configs", metavar="DIR",
        help="config dir holding defaults.*, schema.json and private/ (default: configs)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text",
        help="text: one line per problem and a summary (default); json: one JSON document",
    )
    parser.add_argument(
        "--max-file-bytes", type=int, default=DEFAULT_MAX_FILE_BYTES, metavar="N",
        help=f"refuse files larger than N bytes (default {DEFAULT_MAX_FILE_BYTES})",
    )


def run(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "does not exist"
        print(f"jupyter-hotconf validate: error: config dir {str(root)!r} {what}", file=sys.stderr)
        return 2
    report = check_dir(root, max_file_bytes=args.max_file_bytes)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for err in report.errors:
            print(err)
        for file, message in report.warnings:
            print(f"{file}: warning: {message}")
        print(report.summary())
    return 0 if report.ok else 1
