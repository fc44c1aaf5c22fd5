"""Tenant ids and which file belongs to which tenant (DESIGN.md §3).

CONTRACT STUB — signatures are fixed; bodies are filled in by the foundation work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

TENANT_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
TENANT_ID_RE = re.compile(TENANT_ID_PATTERN)
CONFIG_SUFFIXES: tuple[str, ...] = (".json", ".yaml", ".yml", ".toml")
PRIVATE_DIR = "private"
DEFAULTS_STEM = "defaults"
SCHEMA_NAME = "schema.json"


def validate_tenant_id(raw: str | bytes) -> str:
    """Return ``raw`` as a str if it is a valid tenant id, else raise ``InvalidTenant``.

    ``re.fullmatch`` on the raw value (bytes are decoded as strict ASCII first), so
    ``acme\\n``, ``acme\\x00``, ``..``, ``a/b``, look-alikes and 65+ chars are refused.
    """
    raise NotImplementedError


def is_valid_tenant_id(raw: object) -> bool:
    """True when ``validate_tenant_id`` would accept ``raw``."""
    raise NotImplementedError


def tenant_allowed(tenant_id: str, patterns: Iterable[str]) -> bool:
    """Whether ``tenant_id`` matches one of the glob ``patterns`` (``fnmatchcase``)."""
    raise NotImplementedError


def is_junk_name(name: str) -> bool:
    """Editor droppings and hidden files (``.x.swp``, ``x~``, ``.#x``, ``4913``, ``*.tmp``,
    ``sed*`` temp files, dot-files) — but NOT the ``..``-prefixed Kubernetes entries."""
    raise NotImplementedError


def is_k8s_entry(name: str) -> bool:
    """``..data``, ``..2026_11_26_…`` and other ``..``-prefixed ConfigMap volume entries."""
    raise NotImplementedError


class ConfigLayout:
    """The files of one config dir: ``defaults.*``, ``schema.json``, ``private/<tenant>.*``.

    All paths handed out are absolute; ``relname`` gives the path relative to the
    config dir with ``/`` separators, as used in errors and wire messages.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).absolute()

    @property
    def private_dir(self) -> Path:
        return self.root / PRIVATE_DIR

    def relname(self, path: str | Path) -> str:
        """``/cfg/private/acme.json`` → ``private/acme.json``."""
        raise NotImplementedError

    def tenant_of(self, path: str | Path) -> str | None:
        """The tenant a path belongs to, or None: only direct children of ``private/``
        with a config suffix, a valid tenant id as stem, and not junk."""
        raise NotImplementedError

    def classify(self, path: str | Path) -> str:
        """One of ``"tenant" | "defaults" | "schema" | "k8s" | "private_dir" | "root" | "other"``
        for a (possibly deleted) path under the root; ``"k8s"`` for anything whose path
        has a ``..``-prefixed component below the root or ``private/``."""
        raise NotImplementedError

    def tenant_files(self, tenant_id: str) -> list[Path]:
        """Existing files of one tenant (more than one is an error for the caller)."""
        raise NotImplementedError

    def scan_tenants(self) -> dict[str, list[Path]]:
        """Every tenant with its files, from one listing of ``private/`` (empty if absent)."""
        raise NotImplementedError

    def defaults_files(self) -> list[Path]:
        """Existing ``defaults.{json,yaml,yml,toml}`` (more than one is an error)."""
        raise NotImplementedError

    def schema_file(self) -> Path | None:
        """``schema.json`` if it exists."""
        raise NotImplementedError

    def is_contained(self, path: str | Path) -> bool:
        """Whether the real path (after symlinks) stays inside the real config root;
        Kubernetes ``..data`` links resolve inside it and so pass."""
        raise NotImplementedError
