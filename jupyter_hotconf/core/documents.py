"""Parse JSON/YAML/TOML strictly, deep-merge, checksum (docs/config-files.md).

Pure functions of bytes: a file's bytes become a JSON object or an ``InvalidDocument`` that
says, with file/line/column, why they cannot be used. Which files make up a tenant's config
and how they are combined is ``loading``'s business.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from pathlib import Path, PurePath
from typing import Any

from .errors import InvalidDocument
from .formats import depth_error, locate_json, parse_json, parse_toml, pointer_of
from .reading import read_stable
from .schema import pointer_parts
from .tomlpos import locate_toml
from .yamlstrict import locate_yaml, parse_yaml

log = logging.getLogger(__name__)

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 100
_BOM = b"\xef\xbb\xbf"

JSONObject = dict[str, Any]

__all__ = [
    "DEFAULT_MAX_FILE_BYTES", "MAX_DEPTH", "JSONObject", "canonical_json", "checksum",
    "deep_merge", "parse_document", "read_document",
]

PARSERS = {".json": parse_json, ".yaml": parse_yaml, ".yml": parse_yaml, ".toml": parse_toml}
LOCATORS = {
    ".json": locate_json, ".yaml": locate_yaml, ".yml": locate_yaml, ".toml": locate_toml
}


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


def with_location(err: InvalidDocument, text: str, suffix: str) -> InvalidDocument:
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
    strict rule of docs/config-files.md: NaN/Infinity, duplicate keys, non-string YAML keys,
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
        located = with_location(err, text, suffix)
        if located.line is not None and (located.pointer or "").count("/") > 10:
            # a 100-level pointer helps no one once the line is known
            located = InvalidDocument(
                located.message, file=file, line=located.line, column=located.column
            )
        raise located from None


def read_text_and_parse(
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
    return read_text_and_parse(path, file=file, max_file_bytes=max_file_bytes)[0]


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
