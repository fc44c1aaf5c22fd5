"""Parse JSON/YAML/TOML strictly, deep-merge defaults, validate against a schema (DESIGN.md §4).

CONTRACT STUB — signatures are fixed; bodies are filled in by the foundation work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidDocument
from .tenants import ConfigLayout

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 100

JSONObject = dict[str, Any]


def parse_document(data: bytes, *, file: str, max_depth: int = MAX_DEPTH) -> JSONObject:
    """Parse one config file's bytes; the format comes from ``file``'s suffix.

    Raises ``InvalidDocument`` (with ``file``, line, column where known) for every
    strict rule of DESIGN.md §4: NaN/Infinity, duplicate keys, non-string YAML keys,
    unsafe tags, alias bombs, non-object top level, invalid UTF-8 (byte offset in the
    message), empty file, nesting over ``max_depth``. A UTF-8 BOM is accepted; dates
    become ISO 8601 strings.
    """
    raise NotImplementedError


def read_document(
    path: str | Path, *, file: str, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> JSONObject:
    """Read and parse ``path`` (re-reading if it changed while read); ``file`` names it in errors."""
    raise NotImplementedError


def deep_merge(base: JSONObject, override: JSONObject) -> JSONObject:
    """New object: objects merge recursively, everything else in ``override`` replaces."""
    raise NotImplementedError


def validate_schema(config: JSONObject, schema: JSONObject, *, file: str) -> None:
    """Raise ``InvalidDocument`` (file = ``file``, pointer of the failing value) if invalid."""
    raise NotImplementedError


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes the checksum is taken over."""
    raise NotImplementedError


def checksum(obj: Any) -> str:
    """``"sha256:<hex>"`` of ``canonical_json(obj)``."""
    raise NotImplementedError


@dataclass(frozen=True)
class LoadResult:
    """What loading one tenant gave: it has no file (``exists=False``), or a merged valid
    ``config``, or an ``error``. Exactly one of ``config``/``error`` is set when ``exists``."""

    tenant_id: str
    exists: bool
    config: JSONObject | None = None
    error: InvalidDocument | None = None


def load_tenant(
    layout: ConfigLayout, tenant_id: str, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> LoadResult:
    """Read the tenant's file, merge ``defaults.*`` under it, validate against ``schema.json``.

    Two files for one tenant, two defaults files, a file whose real path leaves the config
    dir: each an ``InvalidDocument``. No file at all → ``LoadResult(exists=False)``.
    """
    raise NotImplementedError
