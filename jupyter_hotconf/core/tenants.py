"""Tenant ids and which file belongs to which tenant (docs/config-files.md).

The tenant id is the only piece of a request that ever becomes part of a path, so it is
checked with ``re.fullmatch`` on the raw value before any file is touched: no ``..``, no
``/``, no NUL, no trailing newline, no Unicode look-alikes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from fnmatch import fnmatchcase
from pathlib import Path, PurePath

from .errors import InvalidTenant

TENANT_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
TENANT_ID_RE = re.compile(TENANT_ID_PATTERN)
CONFIG_SUFFIXES: tuple[str, ...] = (".json", ".yaml", ".yml", ".toml")
PRIVATE_DIR = "private"
DEFAULTS_STEM = "defaults"
SCHEMA_NAME = "schema.json"
MAX_TENANT_ID_LEN = 64

# Temp names that editors and tools leave beside the file they save: vim swap files and
# its ``4913`` write probe, backups ending in ``~``, emacs lock/autosave files, ``*.tmp``
# atomic-write temps, and GNU ``sed -i``'s ``sedXXXXXX`` temp file.
_JUNK_SUFFIXES: tuple[str, ...] = (".swp", ".swo", ".swx", ".tmp", "~")
_JUNK_RE = re.compile(r"4913|sed[A-Za-z0-9]{6}|#.*#")


def _refusal_reason(raw: str) -> str:
    """Say, for a person, why ``raw`` is not a tenant id."""
    if raw == "":
        return "it is empty"
    if len(raw) > MAX_TENANT_ID_LEN:
        return f"it is {len(raw)} characters long (at most {MAX_TENANT_ID_LEN})"
    if not raw.isascii():
        return "it contains a non-ASCII character (look-alikes are refused)"
    if not raw[0].isalnum():
        return "it must start with a letter or digit"
    bad = next(ch for ch in raw if not (ch.isalnum() or ch in "_-"))
    return f"it contains {bad!r}; only letters, digits, '_' and '-' are allowed"


def validate_tenant_id(raw: str | bytes) -> str:
    """Return ``raw`` as a str if it is a valid tenant id, else raise ``InvalidTenant``.

    ``re.fullmatch`` on the raw value (bytes are decoded as strict ASCII first), so
    ``acme\\n``, ``acme\\x00``, ``..``, ``a/b``, look-alikes and 65+ chars are refused.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidTenant(raw, "it contains a non-ASCII byte") from None
    elif isinstance(raw, str):
        text = raw
    else:
        raise InvalidTenant(raw, f"expected a string, got {type(raw).__name__}")
    if TENANT_ID_RE.fullmatch(text) is None:
        raise InvalidTenant(raw, _refusal_reason(text))
    return text


def is_valid_tenant_id(raw: object) -> bool:
    """True when ``validate_tenant_id`` would accept ``raw``."""
    if not isinstance(raw, (str, bytes)):
        return False
    try:
        validate_tenant_id(raw)
    except InvalidTenant:
        return False
    return True


def tenant_allowed(tenant_id: str, patterns: Iterable[str]) -> bool:
    """Whether ``tenant_id`` matches one of the glob ``patterns`` (``fnmatchcase``).

    No patterns means no tenant: callers pass ``["*"]`` for "all".
    """
    return any(fnmatchcase(tenant_id, pattern) for pattern in patterns)


def is_k8s_entry(name: str) -> bool:
    """``..data``, ``..2026_11_26_…`` and other ``..``-prefixed ConfigMap volume entries."""
    return name.startswith("..") and len(name) > 2


def is_junk_name(name: str) -> bool:
    """Editor droppings and hidden files (``.x.swp``, ``x~``, ``.#x``, ``4913``, ``*.tmp``,
    ``sed*`` temp files, dot-files) — but NOT the ``..``-prefixed Kubernetes entries."""
    if is_k8s_entry(name):
        return False
    return (
        name.startswith(".")
        or name.endswith(_JUNK_SUFFIXES)
        or _JUNK_RE.fullmatch(name) is not None
    )


def ignored_reason(name: str) -> str | None:
    """Why a config-looking name in ``private/`` is no tenant file, for a warning (None when
    it is a tenant file, junk, or does not look like config). ``ACME.JSON`` is not a tenant:
    suffixes match exactly, as ids do (docs/config-files.md)."""
    stem, dot, suffix = name.rpartition(".")
    if is_junk_name(name) or not dot:
        return None
    if f".{suffix}" not in CONFIG_SUFFIXES:
        if f".{suffix.lower()}" not in CONFIG_SUFFIXES:
            return None
        return (f"the suffix .{suffix} is not lower-case (tenant files end in exactly .json, "
                f".yaml, .yml or .toml); rename it to {stem}.{suffix.lower()}")
    try:
        validate_tenant_id(stem)
    except InvalidTenant as exc:
        return f"{stem!r} is not a valid tenant id ({exc.reason})"
    return None


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class ConfigLayout:
    """The files of one config dir: ``defaults.*``, ``schema.json``, ``private/<tenant>.*``.

    All paths handed out are absolute; ``relname`` gives the path relative to the
    config dir with ``/`` separators, as used in errors and wire messages.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"ConfigLayout({str(self.root)!r})"

    @property
    def private_dir(self) -> Path:
        return self.root / PRIVATE_DIR

    @property
    def real_root(self) -> Path:
        """The root after symlinks, computed now (the root itself may be swapped)."""
        return Path(os.path.realpath(self.root))

    def _parts(self, path: str | Path) -> tuple[str, ...] | None:
        """Components of ``path`` below the root (given as is or after realpath), or None."""
        p = PurePath(os.path.abspath(path))
        try:
            return p.relative_to(self.root).parts
        except ValueError:  # only now resolve the root: a realpath per call was a cold-load cost
            pass
        try:
            return p.relative_to(self.real_root).parts
        except ValueError:
            return None

    def relname(self, path: str | Path) -> str:
        """``/cfg/private/acme.json`` → ``private/acme.json``."""
        parts = self._parts(path)
        if parts is None:
            return PurePath(path).as_posix()
        return "/".join(parts) if parts else "."

    @staticmethod
    def _tenant_of_name(name: str) -> str | None:
        if is_junk_name(name):
            return None
        stem, dot, suffix = name.rpartition(".")
        if not dot or f".{suffix}" not in CONFIG_SUFFIXES:
            return None
        return stem if is_valid_tenant_id(stem) else None

    def tenant_of(self, path: str | Path) -> str | None:
        """The tenant a path belongs to, or None: only direct children of ``private/``
        with a config suffix, a valid tenant id as stem, and not junk."""
        parts = self._parts(path)
        if parts is None or len(parts) != 2 or parts[0] != PRIVATE_DIR:
            return None
        return self._tenant_of_name(parts[1])

    def classify(self, path: str | Path) -> str:
        """One of ``"tenant" | "defaults" | "schema" | "k8s" | "private_dir" | "root" | "other"``
        for a (possibly deleted) path under the root; ``"k8s"`` for anything whose path
        has a ``..``-prefixed component below the root or ``private/``."""
        parts = self._parts(path)
        if parts is None:
            return "other"
        if not parts:
            return "root"
        if any(is_k8s_entry(part) for part in parts):
            return "k8s"
        if parts == (PRIVATE_DIR,):
            return "private_dir"
        if len(parts) == 2 and parts[0] == PRIVATE_DIR and self._tenant_of_name(parts[1]):
            return "tenant"
        if len(parts) == 1:
            if parts[0] == SCHEMA_NAME:
                return "schema"
            if parts[0] in {DEFAULTS_STEM + suffix for suffix in CONFIG_SUFFIXES}:
                return "defaults"
        return "other"

    def tenant_files(self, tenant_id: str) -> list[Path]:
        """Existing files of one tenant (more than one is an error for the caller)."""
        tenant_id = validate_tenant_id(tenant_id)
        candidates = (self.private_dir / f"{tenant_id}{suffix}" for suffix in CONFIG_SUFFIXES)
        return [p for p in candidates if p.is_file()]

    def scan_tenants(self) -> dict[str, list[Path]]:
        """Every tenant with its files, from one listing of ``private/`` (empty if absent)."""
        found: dict[str, list[Path]] = {}
        try:
            entries = sorted(os.scandir(self.private_dir), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return found
        for entry in entries:
            tenant = self._tenant_of_name(entry.name)
            # is_file() follows symlinks: a dangling link is no file; containment is
            # checked when the file is read, so the refusal is reported, not hidden.
            if tenant is not None and entry.is_file():
                found.setdefault(tenant, []).append(Path(entry.path))
        for files in found.values():
            files.sort(key=lambda p: CONFIG_SUFFIXES.index(p.suffix))
        return dict(sorted(found.items()))

    def defaults_files(self) -> list[Path]:
        """Existing ``defaults.{json,yaml,yml,toml}`` (more than one is an error)."""
        candidates = (self.root / f"{DEFAULTS_STEM}{suffix}" for suffix in CONFIG_SUFFIXES)
        return [p for p in candidates if p.is_file()]

    def schema_file(self) -> Path | None:
        """``schema.json`` if it exists."""
        path = self.root / SCHEMA_NAME
        return path if path.is_file() else None

    def is_contained(self, path: str | Path, real_root: str | None = None) -> bool:
        """Whether the real path (after symlinks) stays inside the real config root;
        Kubernetes ``..data`` links resolve inside it and so pass. ``real_root``: the root's
        real path taken once for a batch of loads (``loading.Shared``), else taken now."""
        return _is_within(os.path.realpath(path), real_root or str(self.real_root))

    def iter_names(self) -> Iterable[str]:
        """Names of the direct children of ``private/`` (for tools that report ignored files)."""
        try:
            return sorted(os.listdir(self.private_dir))
        except (FileNotFoundError, NotADirectoryError):
            return []
