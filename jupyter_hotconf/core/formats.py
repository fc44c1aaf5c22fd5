"""Strict JSON and TOML parsers with positions for every refusal (docs/config-files.md).

Each parser takes decoded text and returns plain JSON data (dict/list/str/int/float/
bool/None) or raises ``InvalidDocument`` naming the file, the 1-based line and column
where the format gives one (YAML lives in ``yamlstrict``). ``documents.parse_document``
picks the parser by suffix and applies the rules common to all formats.
"""

from __future__ import annotations

import json
import json.scanner
import re
import sys
from collections.abc import Iterator
from typing import Any

from .errors import InvalidDocument

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_NON_FINITE = ("NaN", "Infinity", "-Infinity")
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# --------------------------------------------------------------------------- JSON


def _json_events(text: str) -> Iterator[tuple[str, tuple[str, ...], int, str]]:
    """Walk JSON text lexically: ``("value", path, offset, token)`` for every value (offset of
    its key inside an object) and ``("dup", path, offset, key)`` for a repeated key.

    Used only to find *where* something is after ``json`` said *what*, so it trusts the
    text to be JSON up to the point of interest.
    """
    frames: list[list[Any]] = []  # [is_object, key_or_index, key_offset, seen_keys]
    expect_key = False
    for match in _JSON_TOKEN.finditer(text):
        tok, pos = match.group(), match.start()
        top = frames[-1] if frames else None
        if top is not None and top[0] and expect_key and tok.startswith('"'):
            key = json.loads(tok)
            if key in top[3]:
                yield "dup", (*(str(f[1]) for f in frames[:-1]), key), pos, key
            top[3].add(key)
            top[1], top[2], expect_key = key, pos, False
        elif tok == ",":
            if top is not None and top[0]:
                expect_key = True
            elif top is not None:
                top[1] += 1
        elif tok in "}]":
            frames.pop()
        elif tok != ":":
            path = tuple(str(f[1]) for f in frames)
            yield "value", path, (top[2] if top is not None and top[0] else pos), tok
            if tok in "{[":
                frames.append([tok == "{", 0, pos, set()])
                expect_key = tok == "{"


def locate_json(text: str, pointer_parts: tuple[str, ...]) -> tuple[int, int] | None:
    """Line/column of the value (or its key) at a JSON pointer, or None."""
    for kind, path, pos, _ in _json_events(text):
        if kind == "value" and path == pointer_parts:
            return line_col(text, pos)
    return None


def _json_problem(text: str, file: str, max_depth: int) -> InvalidDocument | None:
    """Find the first NaN/Infinity, duplicate key or too-deep value, with its position."""
    for kind, path, pos, tok in _json_events(text):
        line, col = line_col(text, pos)
        if kind == "dup":
            message = f"duplicate key {quoted(tok)}"
            return InvalidDocument(message, file=file, line=line, column=col)
        if tok in _NON_FINITE:
            return InvalidDocument(
                f"{tok} is not allowed in JSON (use a number or null)",
                file=file, line=line, column=col,
            )
        if tok in "{[" and len(path) >= max_depth:
            return depth_error(file, max_depth, line, col, path)
    return None


def depth_error(
    file: str, max_depth: int, line: int | None, col: int | None, path: tuple[str, ...] = ()
) -> InvalidDocument:
    pointer = pointer_of(path) if path else None
    return InvalidDocument(
        f"nesting deeper than {max_depth} levels", file=file, line=line, column=col,
        pointer=pointer,
    )


def quoted(key: str) -> str:
    """A key as JSON writes it, for messages: ``"discount"``."""
    return json.dumps(key, ensure_ascii=False)


def pointer_of(path: tuple[object, ...] | list[object]) -> str:
    """RFC 6901 pointer of a path of keys/indexes (``""`` is the whole document)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


class _Refused(Exception):
    """Raised inside ``json`` hooks; the position is found afterwards by ``_json_problem``."""


def _refuse_constant(token: str) -> Any:
    raise _Refused(token)


def _pairs_no_dup(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Refused("duplicate key")
    return obj


def parse_json(text: str, *, file: str, max_depth: int) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_pairs_no_dup, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InvalidDocument(exc.msg, file=file, line=exc.lineno, column=exc.colno) from None
    except (_Refused, RecursionError):
        problem = _json_problem(text, file, max_depth)
        if problem is None:  # pragma: no cover - the lexical walk always finds it
            problem = InvalidDocument("invalid JSON", file=file)
        raise problem from None


# --------------------------------------------------------------------------- TOML

_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_toml(text: str, *, file: str, max_depth: int) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc.args[0] if exc.args else exc)
        found = _TOML_POS.search(message)
        line = col = None
        if found:
            line, col = int(found.group(1)), int(found.group(2))
            message = message[: found.start()]
        message = message.replace(" (at end of document)", " at end of document")
        if message.startswith("Cannot overwrite a value"):
            message = "duplicate key (cannot overwrite a value)"
        raise InvalidDocument(message, file=file, line=line, column=col) from None
    except RecursionError:
        raise depth_error(file, max_depth, None, None) from None
