"""Load one tenant's config from a config dir: its file, ``defaults.*`` merged under it,
``schema.json`` over the result (docs/config-files.md, docs/change-detection.md).

``load_tenant`` returns a ``LoadResult``: no file, a merged valid config, or the
``InvalidDocument`` that explains — with file, line, column and JSON pointer — why the
config cannot be used. ``load_shared`` reads defaults and schema once for a whole batch.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from .documents import (
    DEFAULT_MAX_FILE_BYTES,
    JSONObject,
    deep_merge,
    read_text_and_parse,
    with_location,
)
from .errors import InvalidDocument
from .schema import check_schema, pointer_parts, validate_schema
from .tenants import ConfigLayout, validate_tenant_id

log = logging.getLogger(__name__)

LOAD_ATTEMPTS = 3  # a file deleted or replaced mid-load is looked up again this often

__all__ = ["LoadResult", "Shared", "load_defaults", "load_schema", "load_shared", "load_tenant"]


@dataclass(frozen=True)
class LoadResult:
    """What loading one tenant gave: it has no file (``exists=False``), or a merged valid
    ``config``, or an ``error``. Exactly one of ``config``/``error`` is set when ``exists``.
    A valid load also keeps the tenant's own ``document`` (its file parsed, without defaults)
    and its ``file`` (relative to the config dir), which the history records so a revision
    can be rolled back (docs/history.md)."""

    tenant_id: str
    exists: bool
    config: JSONObject | None = None
    error: InvalidDocument | None = None
    document: JSONObject | None = field(default=None, compare=False, repr=False)
    file: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Source:
    """One parsed file and its bytes, kept to find the line of a schema error."""

    file: str
    config: JSONObject
    data: bytes


def _read_contained(
    layout: ConfigLayout, path: Path, max_file_bytes: int, real_root: str | None = None
) -> Source:
    rel = layout.relname(path)
    if not layout.is_contained(path, real_root):
        raise InvalidDocument(
            f"refused: the file is a link to {os.path.realpath(path)}, outside the config dir",
            file=rel,
        )
    config, data = read_text_and_parse(path, file=rel, max_file_bytes=max_file_bytes)
    return Source(rel, config, data)


def _one_of(layout: ConfigLayout, files: list[Path], what: str) -> Path | None:
    if len(files) > 1:
        names = " and ".join(layout.relname(p) for p in files)
        raise InvalidDocument(f"{what}: {names}; keep only one", file=layout.relname(files[0]))
    return files[0] if files else None


def load_defaults(layout: ConfigLayout, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> (
    JSONObject | None
):
    """The parsed ``defaults.*`` (None if there is none); errors name the defaults file."""
    source = _load_defaults_source(layout, max_file_bytes)
    return None if source is None else source.config


def _load_defaults_source(layout: ConfigLayout, max_file_bytes: int) -> Source | None:
    path = _one_of(layout, layout.defaults_files(), "more than one defaults file")
    return None if path is None else _read_contained(layout, path, max_file_bytes)


def load_schema(layout: ConfigLayout, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> (
    JSONObject | None
):
    """The parsed and checked ``schema.json`` (None if absent); errors name ``schema.json``."""
    return _load_schema(layout, max_file_bytes)


def _load_schema(layout: ConfigLayout, max_file_bytes: int) -> JSONObject | None:
    path = layout.schema_file()
    if path is None:
        return None
    source = _read_contained(layout, path, max_file_bytes)
    try:
        check_schema(source.config, schema_file=source.file)
    except InvalidDocument as err:
        raise with_location(err, source.data.decode("utf-8-sig"), ".json") from None
    return source.config


@dataclass(frozen=True)
class Shared:
    """``defaults.*`` and ``schema.json`` read, parsed and checked ONCE for a batch of tenant
    loads (re-reading them per tenant was two thirds of a cold load, docs/benchmarks.md).
    Immutable, so threads may share it; it is only as fresh as the moment it was read, which
    is why the watcher takes a new one for every batch (a change to either file starts a new
    batch).
    A broken file is kept as its error and reported by every tenant, as without it.
    With ``listing``, it also holds the tenant files of one listing of ``private/`` and the
    root's real path, so a load of every tenant does not stat four names and resolve the
    root once per tenant (a 10,000-tenant cold load: docs/benchmarks.md). A file gone since
    the listing is looked for again (``load_tenant``); one added since is another event."""

    defaults: Source | None = None
    schema: JSONObject | None = None
    defaults_error: InvalidDocument | None = None
    schema_error: InvalidDocument | None = None
    files: dict[str, list[Path]] | None = None
    real_root: str | None = None


def load_shared(
    layout: ConfigLayout, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, listing: bool = False
) -> Shared:
    """Read ``defaults.*`` and ``schema.json`` for ``load_tenant(..., shared=)``, and with
    ``listing`` list ``private/`` (for a batch of every tenant).

    Raises ``FileNotFoundError`` if one vanished while read (take another, or load without).
    """
    found: dict[str, Any] = {}
    if listing:
        found.update(files=layout.scan_tenants(), real_root=str(layout.real_root))
    for name, load in (("defaults", _load_defaults_source), ("schema", _load_schema)):
        try:
            found[name] = load(layout, max_file_bytes)
        except InvalidDocument as err:
            found[f"{name}_error"] = err
    return Shared(**found)


def blame(err: InvalidDocument, tenant: Source, defaults: Source | None) -> InvalidDocument:
    """Point a schema error at the file the failing value came from, with its line: the
    tenant's document, or ``defaults.*`` for a value the document does not set."""
    parts = pointer_parts(err.pointer or "")
    source = tenant
    if defaults is not None and parts and not _has_path(tenant.config, parts):
        source = defaults if _has_path(defaults.config, parts) else tenant
    moved = InvalidDocument(err.message, file=source.file, pointer=err.pointer)
    suffix = PurePath(source.file).suffix.lower()
    return with_location(moved, source.data.decode("utf-8-sig", "replace"), suffix)


def _has_path(obj: Any, parts: tuple[str, ...]) -> bool:
    for part in parts:
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return False
    return True


def load_tenant(
    layout: ConfigLayout,
    tenant_id: str,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    shared: Shared | None = None,
) -> LoadResult:
    """Read the tenant's file, merge ``defaults.*`` under it, validate against ``schema.json``.

    Two files for one tenant, two defaults files, a file whose real path leaves the config
    dir: each an ``InvalidDocument``. No file at all → ``LoadResult(exists=False)``.
    A schema error is reported against the file the failing value came from (the tenant's
    own file, or ``defaults.*`` when the tenant does not set that value).
    ``shared`` (from ``load_shared``) stands for ``defaults.*`` and ``schema.json``, so a
    batch reads them once; without it they are read now.
    """
    tenant_id = validate_tenant_id(tenant_id)
    for _ in range(LOAD_ATTEMPTS):  # a file deleted mid-load: look again
        try:
            return _load_once(layout, tenant_id, max_file_bytes, shared)
        except FileNotFoundError:
            log.debug("a file of tenant %s vanished while it was loaded; looking again", tenant_id)
            shared = None  # maybe it was defaults or schema: read them afresh
    return _load_once(layout, tenant_id, max_file_bytes, shared)


def _shared_now(shared: Shared | None, layout: ConfigLayout, max_file_bytes: int) -> Shared:
    return shared if shared is not None else load_shared(layout, max_file_bytes=max_file_bytes)


def _load_once(
    layout: ConfigLayout, tenant_id: str, max_file_bytes: int, shared: Shared | None
) -> LoadResult:
    listed = None if shared is None or shared.files is None else shared.files.get(tenant_id, [])
    files = layout.tenant_files(tenant_id) if listed is None else listed
    if not files:
        return LoadResult(tenant_id, exists=False)
    try:
        path = _one_of(layout, files, f"two files for tenant {tenant_id!r}")
        assert path is not None
        real_root = None if shared is None else shared.real_root
        tenant = _read_contained(layout, path, max_file_bytes, real_root)
        shared = _shared_now(shared, layout, max_file_bytes)
        for error in (shared.defaults_error, shared.schema_error):  # one instance, not raised
            if error is not None:  # again: a re-raise would grow its traceback per tenant
                return LoadResult(tenant_id, exists=True, error=error)
        defaults, schema = shared.defaults, shared.schema
        merged = tenant.config if defaults is None else deep_merge(defaults.config, tenant.config)
        if schema is not None:
            try:
                validate_schema(merged, schema, file=tenant.file)
            except InvalidDocument as err:
                raise blame(err, tenant, defaults) from None
    except InvalidDocument as err:
        return LoadResult(tenant_id, exists=True, error=err)
    return LoadResult(
        tenant_id, exists=True, config=merged, document=tenant.config, file=tenant.file
    )
