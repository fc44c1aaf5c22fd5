"""What a provider tells its subscribers: ``Change`` (to user code, built from the reducer's
``core.follow.FollowChange``) and ``Subscription`` (the handle ``on_change``/``live`` return)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.follow import FollowChange
from ..core.messages import ChangeKind, ConfigChanged
from .view import ConfigView, pointer_matches


@dataclass(frozen=True)
class Change:
    """One change of a tenant's config, as handed to ``on_change`` callbacks."""

    tenant_id: str
    change_type: ChangeKind  # equal to "created" | "modified" | "deleted"
    revision: int
    old: ConfigView
    new: ConfigView
    patch: list[dict[str, Any]] = field(default_factory=list)
    changed_paths: list[str] = field(default_factory=list)
    timestamp: str | None = None
    #: What caused it (``watcher|startup|api|rollback``) and who (``api``/``rollback``), as the
    #: server's ``ConfigChanged`` says; None when unknown (a resync, an older server).
    source: str | None = None
    actor: str | None = None

    @classmethod
    def of(cls, change: FollowChange, message: object = None) -> Change:
        """The user's view of a reducer change: read-only ``ConfigView``s for old and new;
        ``source``/``actor`` from the wire ``message`` that caused it, when it says them."""
        return cls(
            change.tenant_id, change.change_type, change.revision, ConfigView(change.old),
            ConfigView(change.new), list(change.patch), list(change.changed_paths),
            change.timestamp, _said(message, "source"), _said(message, "actor"),
        )

    def touches(self, path: str | None) -> bool:
        """Whether this change concerns JSON pointer ``path`` (None → always)."""
        if path is None:
            return True
        return any(pointer_matches(path, p) for p in self.changed_paths)


def _said(message: object, key: str) -> str | None:
    """A ``ConfigChanged`` field, typed if ``core.messages`` has it, else from the frame's body
    (clients ignore what they do not know, so the field may come before its type does)."""
    if not isinstance(message, ConfigChanged):
        return None
    value = getattr(message, key, None) or message.body.get(key)
    return value if isinstance(value, str) else None


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
