"""Read-only views of a config, and key paths (``"a.b"``, ``"/a/b"``, ``("a", "b")``).

A provider's config is replaced whole on each change and never mutated in place; handing
out read-only views keeps user code from editing a shared dict that the next change would
silently overwrite (``docs/kernel.md``, read-only views).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

_MISSING = object()


def _view(value: Any) -> Any:
    """How a value reads through a view: dicts → ``ConfigView``, lists → tuples of views,
    scalars as they are. Wraps without copying (the follower's configs are already frozen
    by ``core.store.freeze``; a fixed ``config=`` is only ever read through views)."""
    if isinstance(value, ConfigView):
        return value
    if isinstance(value, dict):
        return ConfigView(value)
    if isinstance(value, (list, tuple)):
        return tuple(_view(v) for v in value)
    return value


class ConfigView(Mapping[str, Any]):
    """An immutable mapping over a JSON object; nested objects are views too.

    ``view.to_dict()`` gives a deep, mutable copy; ``view == {...}`` compares the data.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return _view(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ConfigView):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:  # mappings are unhashable, like dict
        raise TypeError("unhashable type: 'ConfigView'")

    def __repr__(self) -> str:
        return f"ConfigView({self._data!r})"

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._data)

    def _ipython_key_completions_(self) -> list[str]:
        return list(self._data)


def split_path(path: str | Sequence[str | int]) -> list[str | int]:
    """``"a.b"`` → ``["a", "b"]``; ``"/a/b~1c"`` (JSON pointer) → ``["a", "b/c"]``; a
    tuple or list is taken as the keys themselves (for keys that contain dots)."""
    if isinstance(path, str):
        if path.startswith("/"):
            return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
        return [p for p in path.split(".")] if path else []
    return list(path)


def lookup(data: Any, path: str | Sequence[str | int], default: Any = _MISSING) -> Any:
    """Walk ``data`` along ``path``; missing → ``default`` (or ``KeyError`` naming the path)."""
    if isinstance(path, str) and isinstance(data, Mapping) and path in data:
        return data[path]  # a top-level key that itself contains dots
    node = data
    for part in split_path(path):
        if isinstance(node, Mapping) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, Sequence) and not isinstance(node, str) and _is_index(part, node):
            node = node[int(part)]
        else:
            if default is _MISSING:
                raise KeyError(f"{path!r}: no {part!r} in the config")
            return default
    return node


def _is_index(part: str | int, seq: Sequence[Any]) -> bool:
    text = str(part)
    return text.isdigit() and int(text) < len(seq)


def pointer_matches(prefix: str, changed: str) -> bool:
    """Whether a change at ``changed`` concerns a subscriber of ``prefix`` (either contains
    the other: a replaced parent changes every child)."""
    prefix = prefix.rstrip("/")
    changed = changed.rstrip("/")
    if not prefix or not changed:
        return True
    return (
        changed == prefix or changed.startswith(prefix + "/") or prefix.startswith(changed + "/")
    )
