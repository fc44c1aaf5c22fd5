"""What a provider tells its subscribers: ``Update`` (from a feed), ``Change`` (to user code),
``Subscription`` (the handle ``on_change``/``live`` return)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonpatch

from .view import ConfigView, pointer_matches


@dataclass(frozen=True)
class Update:
    """A config state reported by a feed (Snapshot, ConfigChanged, REST poll, local watcher).

    ``epoch=None`` (a REST poll) carries no revision order: it is applied when its checksum
    differs from the provider's.
    """

    revision: int
    epoch: str | None
    checksum: str | None
    config: dict[str, Any] | None
    exists: bool = True
    change_type: str = "modified"
    patch: list[dict[str, Any]] | None = None
    changed_paths: list[str] | None = None
    timestamp: str | None = None
    valid: bool | None = None  # a Snapshot/REST state also says whether the file is valid
    error: dict[str, Any] | None = None


@dataclass(frozen=True)
class Change:
    """One change of a tenant's config, as handed to ``on_change`` callbacks."""

    tenant_id: str
    change_type: str  # created | modified | deleted
    revision: int
    old: ConfigView
    new: ConfigView
    patch: list[dict[str, Any]] = field(default_factory=list)
    changed_paths: list[str] = field(default_factory=list)
    timestamp: str | None = None

    def touches(self, path: str | None) -> bool:
        """Whether this change concerns JSON pointer ``path`` (None → always)."""
        if path is None:
            return True
        return any(pointer_matches(path, p) for p in self.changed_paths)


def diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """RFC 6902 patch old → new and the JSON pointers it touches (for resyncs)."""
    patch = list(jsonpatch.make_patch(old, new).patch)
    paths = sorted({op["path"] for op in patch} | {op["from"] for op in patch if "from" in op})
    return patch, paths


class Subscription:
    """Handle returned by ``on_change``/``live``: callable like the function, ``.remove()``."""

    def __init__(
        self, fn: Callable[..., Any], path: str | None, remove: Callable[[Subscription], None]
    ) -> None:
        self.fn = fn
        self.path = path
        self._remove = remove
        self.active = True
        self.__name__ = getattr(fn, "__name__", repr(fn))
        self.__doc__ = getattr(fn, "__doc__", None)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def remove(self) -> None:
        if self.active:
            self.active = False
            self._remove(self)

    def __repr__(self) -> str:
        where = f" path={self.path!r}" if self.path else ""
        return f"<hotconf subscription {self.__name__}{where}{'' if self.active else ' removed'}>"


def call_flexibly(fn: Callable[..., Any], arg: Any) -> Any:
    """Call ``fn(arg)``, or ``fn()`` when it takes no positional argument (``live`` funcs)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return fn(arg)
    takes_arg = any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params
    )
    return fn(arg) if takes_arg else fn()
