"""Parse JSON/YAML/TOML strictly, deep-merge defaults, validate against a schema (DESIGN.md §4).

Everything here is a pure function of bytes on disk: ``load_tenant`` reads a tenant's file,
``defaults.*`` and ``schema.json`` and returns either a merged, validated config or the
``InvalidDocument`` that explains, with file/line/column/pointer, why it cannot be used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from .errors import InvalidDocument
from .formats import depth_error, locate_json, parse_json, parse_toml, pointer_of
from .reading import read_stable
from .schema import check_schema, pointer_parts, validate_schema
from .tenants import ConfigLayout, validate_tenant_id
from .yamlstrict import locate_yaml, parse_yaml

log = logging.getLogger(__name__)

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 100
_BOM = b"\xef\xbb\xbf"
_LOAD_ATTEMPTS = 3

JSONObject = dict[str, Any]

__all__ = [
    "DEFAULT_MAX_FILE_BYTES", "MAX_DEPTH", "JSONObject", "LoadResult", "Shared", "canonical_json",
    "checksum", "deep_merge", "load_defaults", "load_schema", "load_shared", "load_tenant",
    "parse_document", "read_document", "validate_schema",
]

PARSERS = {".json": parse_json, ".yaml": parse_yaml, ".yml": parse_yaml, ".toml": parse_toml}
LOCATORS = {".json": locate_json, ".yaml": locate_yaml, ".yml": locate_yaml}


def _normalize(value: Any, path: tuple[str, ...], *, file: str, max_depth: int) -> Any:
    """Copy ``value`` as plain JSON data: dates → ISO 8601 strings, non-finite floats and
    nesting past ``max_depth`` refused with the JSON pointer of the offending value."""
    if isinstance(value, dict):
        if len(path) >= max_depth:
            raise depth_error(file, max_depth, None, None, path)
        return {
            k: _normalize(v, (*path, k), file=file, max_depth=max_depth) for k, v in value.items()
        }
    if isinstance(value, list):
        if len(path) >= max_depth:
            raise depth_error(file, max_depth, None, None, path)
        return [
            _normalize(v, (*path, str(i)), file=file, max_depth=max_depth)
            for i, v in enumerate(value)
        ]
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidDocument(
            f"{value} is not allowed (JSON cannot carry it)", file=file, pointer=pointer_of(path)
        )
    if isinstance(value, (dt.date, dt.time)):  # TOML dates/times; datetime is a date
        return value.isoformat()
    return value


def _with_location(err: InvalidDocument, text: str, suffix: str) -> InvalidDocument:
    """Add line/column of ``err.pointer`` when the format lets us find it cheaply."""
    locate = LOCATORS.get(suffix)
    if err.line is not None or err.pointer is None or locate is None:
        return err
    found = locate(text, pointer_parts(err.pointer))
    if found is None:
        return err
    return InvalidDocument(
        err.message, file=err.file, line=found[0], column=found[1], pointer=err.pointer
    )


def _decode(data: bytes, file: str) -> str:
    start = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        raise InvalidDocument(
            f"invalid UTF-8 at byte offset {offset} (byte 0x{data[offset]:02x})",
            file=file, line=line, column=column,
        ) from None


def parse_document(data: bytes, *, file: str, max_depth: int = MAX_DEPTH) -> JSONObject:
    """Parse one config file's bytes; the format comes from ``file``'s suffix.

    Raises ``InvalidDocument`` (with ``file``, line, column where known) for every
    strict rule of DESIGN.md §4: NaN/Infinity, duplicate keys, non-string YAML keys,
    unsafe tags, alias bombs, non-object top level, invalid UTF-8 (byte offset in the
    message), empty file, nesting over ``max_depth``. A UTF-8 BOM is accepted; dates
    become ISO 8601 strings.
    """
    suffix = PurePath(file).suffix.lower()
    parser = PARSERS.get(suffix)
    if parser is None:
        raise InvalidDocument(
            f"unsupported file type {suffix or '(none)'!r}; use .json, .yaml, .yml or .toml",
            file=file,
        )
    text = _decode(data, file)
    if not text.strip():
        raise InvalidDocument("file is empty; a config file must contain an object", file=file)
    value = parser(text, file=file, max_depth=max_depth)
    if not isinstance(value, dict):
        kind = "nothing" if value is None else type(value).__name__
        if isinstance(value, (list, tuple)):
            kind = "a list"
        raise InvalidDocument(
            f"the top level must be an object (key: value pairs), got {kind}",
            file=file, line=1, column=1,
        )
    try:
        return _normalize(value, (), file=file, max_depth=max_depth)  # type: ignore[no-any-return]
    except InvalidDocument as err:
        located = _with_location(err, text, suffix)
        if located.line is not None and (located.pointer or "").count("/") > 10:
            # a 100-level pointer helps no one once the line is known
            located = InvalidDocument(
                located.message, file=file, line=located.line, column=located.column
            )
        raise located from None


def _read_text_and_parse(
    path: str | Path, *, file: str, max_file_bytes: int
) -> tuple[JSONObject, bytes]:
    try:
        data = read_stable(Path(path), file=file, max_file_bytes=max_file_bytes)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise InvalidDocument(f"cannot read the file: {exc.strerror or exc}", file=file) from None
    return parse_document(data, file=file), data


def read_document(
    path: str | Path, *, file: str, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> JSONObject:
    """Read and parse ``path`` (re-reading if it changed while read); ``file`` names it in errors.

    A file that disappears raises ``FileNotFoundError`` (it is gone, not invalid).
    """
    return _read_text_and_parse(path, file=file, max_file_bytes=max_file_bytes)[0]


def deep_merge(base: JSONObject, override: JSONObject) -> JSONObject:
    """New object: objects merge recursively, everything else in ``override`` replaces.

    >>> deep_merge({"a": {"x": 1, "y": 2}, "l": [1]}, {"a": {"y": 3}, "l": [2]})
    {'a': {'x': 1, 'y': 3}, 'l': [2]}
    """
    merged = {k: _copy(v) for k, v in base.items()}
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = _copy(value)
    return merged


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes the checksum is taken over."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def checksum(obj: Any) -> str:
    """``"sha256:<hex>"`` of ``canonical_json(obj)``."""
    return "sha256:" + hashlib.sha256(canonical_json(obj)).hexdigest()


@dataclass(frozen=True)
class LoadResult:
    """What loading one tenant gave: it has no file (``exists=False``), or a merged valid
    ``config``, or an ``error``. Exactly one of ``config``/``error`` is set when ``exists``."""

    tenant_id: str
    exists: bool
    config: JSONObject | None = None
    error: InvalidDocument | None = None


@dataclass(frozen=True)
class _Source:
    """One parsed file and its bytes, kept to find the line of a schema error."""

    file: str
    config: JSONObject
    data: bytes


def _read_contained(
    layout: ConfigLayout, path: Path, max_file_bytes: int
) -> _Source:
    rel = layout.relname(path)
    if not layout.is_contained(path):
        raise InvalidDocument(
            f"refused: the file is a link to {os.path.realpath(path)}, outside the config dir",
            file=rel,
        )
    config, data = _read_text_and_parse(path, file=rel, max_file_bytes=max_file_bytes)
    return _Source(rel, config, data)


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


def _load_defaults_source(layout: ConfigLayout, max_file_bytes: int) -> _Source | None:
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
        raise _with_location(err, source.data.decode("utf-8-sig"), ".json") from None
    return source.config


@dataclass(frozen=True)
class Shared:
    """``defaults.*`` and ``schema.json`` read, parsed and checked ONCE for a batch of tenant
    loads (issue 7: re-reading them per tenant was two thirds of a cold load). Immutable, so
    threads may share it; it is only as fresh as the moment it was read, which is why the
    watcher takes a new one for every batch (a change to either file starts a new batch).
    A broken file is kept as its error and reported by every tenant, as without it."""

    defaults: _Source | None = None
    schema: JSONObject | None = None
    defaults_error: InvalidDocument | None = None
    schema_error: InvalidDocument | None = None


def load_shared(layout: ConfigLayout, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Shared:
    """Read ``defaults.*`` and ``schema.json`` for ``load_tenant(..., shared=)``.

    Raises ``FileNotFoundError`` if one vanished while read (take another, or load without).
    """
    found: dict[str, Any] = {}
    for name, load in (("defaults", _load_defaults_source), ("schema", _load_schema)):
        try:
            found[name] = load(layout, max_file_bytes)
        except InvalidDocument as err:
            found[f"{name}_error"] = err
    return Shared(**found)


def _blame(err: InvalidDocument, tenant: _Source, defaults: _Source | None) -> InvalidDocument:
    """Point a schema error at the file the failing value came from, with its line."""
    parts = pointer_parts(err.pointer or "")
    source = tenant
    if defaults is not None and parts and not _has_path(tenant.config, parts):
        source = defaults if _has_path(defaults.config, parts) else tenant
    moved = InvalidDocument(err.message, file=source.file, pointer=err.pointer)
    suffix = PurePath(source.file).suffix.lower()
    return _with_location(moved, source.data.decode("utf-8-sig", "replace"), suffix)


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
    for _ in range(_LOAD_ATTEMPTS):  # a file deleted mid-load: look again
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
    files = layout.tenant_files(tenant_id)
    if not files:
        return LoadResult(tenant_id, exists=False)
    try:
        path = _one_of(layout, files, f"two files for tenant {tenant_id!r}")
        assert path is not None
        tenant = _read_contained(layout, path, max_file_bytes)
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
                raise _blame(err, tenant, defaults) from None
    except InvalidDocument as err:
        return LoadResult(tenant_id, exists=True, error=err)
    return LoadResult(tenant_id, exists=True, config=merged)
