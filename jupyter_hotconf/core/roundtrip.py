"""Render a tenant's new document in its file's format, keeping what the edit did not touch.

JSON is written afresh (2-space indent, the new document's key order). YAML goes through
``ruamel.yaml``'s round-trip loader and TOML through ``tomlkit``: the file's loaded document is
updated in place — only keys whose values changed are assigned — so comments, key order,
quoting and layout of untouched entries survive (docs/history.md). The caller checks that the
text parses back to the document (``writer``), since a format may not hold every value.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import re
from collections.abc import Mapping, MutableMapping, MutableSequence
from typing import Any

import tomlkit
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .documents import JSONObject
from .errors import InvalidDocument
from .formats import pointer_of

__all__ = ["render"]

_KEY_OPENS_BLOCK = re.compile(r"^( *)[^\s#-][^#]*:\s*(#.*)?$")  # ``key:`` with nothing after
_CONTENT = re.compile(r"^( *)(- |[^\s#])")


def _iso(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):  # YAML/TOML dates are ISO strings in a config
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _same(old: Any, new: Any) -> bool:
    """Equal as JSON (``1`` is not ``1.0``, ``true`` is not ``1``; a date is its ISO string)."""
    try:
        return json.dumps(old, sort_keys=True, default=_iso) == json.dumps(new, sort_keys=True)
    except (TypeError, ValueError):
        return False


def _update_value(parent: Any, key: Any, old: Any, new: Any) -> None:
    if isinstance(old, MutableMapping) and isinstance(new, Mapping):
        update_mapping(old, new)
    elif (
        isinstance(old, MutableSequence) and isinstance(new, list) and len(old) == len(new)
        and not isinstance(old, str)
    ):
        for index, (old_item, new_item) in enumerate(zip(old, new, strict=True)):
            _update_value(old, index, old_item, new_item)
    elif not _same(old, new):
        parent[key] = new


def update_mapping(target: MutableMapping[str, Any], new: Mapping[str, Any]) -> None:
    """Make ``target`` equal to ``new`` touching only what differs (new keys go last)."""
    for key in [key for key in target if key not in new]:
        del target[key]
    for key, value in new.items():
        if key in target:
            _update_value(target, key, target[key], value)
        else:
            target[key] = value


# --------------------------------------------------------------------------- YAML


def _yaml(text: str | None) -> YAML:
    """A round-trip dumper set up with the indentation and ``---`` the file already uses
    (ruamel keeps comments but not indentation, which it would otherwise re-flow)."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line the user wrote
    yaml.representer.add_representer(
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    mapping, offset = 2, 0
    lines = [line for line in (text or "").splitlines() if _CONTENT.match(line)]
    for line, following in itertools.pairwise(lines):
        opener = _KEY_OPENS_BLOCK.match(line)
        child = _CONTENT.match(following)
        if opener is None or child is None:
            continue
        step = len(child.group(1)) - len(opener.group(1))
        if step > 0 and child.group(2) == "- ":
            offset = step
        elif step > 0:
            mapping = step
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    yaml.explicit_start = bool(lines) and lines[0].startswith("---")
    return yaml


def _render_yaml(old_text: str | None, document: JSONObject) -> str:
    yaml = _yaml(old_text)
    data: Any = None
    if old_text is not None:
        try:
            data = yaml.load(old_text)
        except YAMLError:
            data = None  # an unparsable file is replaced whole: nothing of it can be kept
    if isinstance(data, MutableMapping):
        update_mapping(data, document)
    else:
        data = document
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


# --------------------------------------------------------------------------- TOML


def _refuse_null(value: Any, path: tuple[str, ...], file: str) -> None:
    if value is None:
        raise InvalidDocument(
            "TOML has no null: remove the key or give it a value", file=file,
            pointer=pointer_of(path),
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_null(item, (*path, key), file)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_null(item, (*path, str(index)), file)


def _render_toml(old_text: str | None, document: JSONObject, file: str) -> str:
    _refuse_null(document, (), file)
    data: Any = None
    if old_text is not None:
        try:
            data = tomlkit.parse(old_text)
        except tomlkit.exceptions.ParseError:
            data = None  # an unparsable file is replaced whole
    if data is None:
        data = tomlkit.document()
    update_mapping(data, document)
    return tomlkit.dumps(data)


# --------------------------------------------------------------------------- all


def render(suffix: str, old_text: str | None, document: JSONObject, *, file: str) -> str:
    """The text of ``document`` in the format of ``suffix`` (``.json``, ``.yaml``, ``.yml``,
    ``.toml``), keeping what ``old_text`` (the file now, None for a new file) has untouched.
    Raises ``InvalidDocument`` (``file`` names it) for a value the format cannot hold."""
    suffix = suffix.lower()
    if suffix == ".json":
        # NaN is written as is, so that parsing it back refuses it with its line, as a file
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if suffix in (".yaml", ".yml"):
        return _render_yaml(old_text, document)
    if suffix == ".toml":
        return _render_toml(old_text, document, file)
    raise InvalidDocument(f"unsupported file type {suffix!r}", file=file)
