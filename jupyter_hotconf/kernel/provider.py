"""ConfigProvider: a tenant's live config as traitlets (``docs/kernel.md``).

    cfg = ConfigProvider("acme")        # finds the server, or watches ./configs locally
    cfg["pricing"]["discount"]          # read-only views
    @cfg.on_change(path="/pricing")     # runs on the kernel's main thread, between cells
    def show(change): print(change.changed_paths)
    cfg.set("pricing.discount", 0.2)    # write-back (writeback.py): the new revision, and
                                        # cfg.config already holds it

A provider is a handle onto the kernel's one ``Link`` for its tenant and source (``link.py``):
the link owns the feed and the follower state and, in one dispatch step on the main thread,
sets every handle's traits before any handle's callbacks run. A handle keeps its traits, its
subscriptions and waiters; ``close()`` releases it, and the link closes with the last one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from traitlets import Any as AnyTrait
from traitlets import Bool, Dict, Enum, HasTraits, Instance, Int, Unicode

from ..core.tenants import validate_tenant_id
from .change import Change, Subscription, call_flexibly
from .client import LinkStatus
from .discovery import Source, discover
from .history import RollbackResult, open_backend
from .history_view import ConfigDiff, HistoryEntries, RevisionConfig
from .link import Link, LinkOptions, acquire, release
from .view import ConfigView, lookup, split_path

if TYPE_CHECKING:
    from .binding import WidgetBinding
    from .writeback import Edit

log = logging.getLogger(__name__)

#: The values of ``status`` (kept for code that imported the tuple).
STATUSES = tuple(LinkStatus)
_providers: weakref.WeakSet[ConfigProvider] = weakref.WeakSet()


def providers() -> list[ConfigProvider]:
    """Every provider not yet closed (for ``%hotconf --status`` and ``%unload_ext``)."""
    return sorted(_providers, key=lambda p: (p.tenant_id, id(p)))


def close_all() -> None:
    for p in providers():
        p.close()


class Snapshot(NamedTuple):
    """One consistent state: the config and the revision it belongs to."""

    tenant_id: str
    revision: int
    config: ConfigView
    valid: bool


class ConfigProvider(HasTraits):
    """A tenant's configuration, kept current from a hotconf server or a local config dir.

    Every provider of one tenant in a kernel with the same source and connection options
    shares one link (one socket or watcher, one state), so they all show the same revision.
    """

    tenant_id = Unicode(read_only=True)
    config = Instance(ConfigView, args=())
    revision = Int(0)
    status = Enum(STATUSES, default_value=LinkStatus.CONNECTING)
    valid = Bool(True)
    config_error = Dict(allow_none=True, default_value=None)
    error = Unicode(None, allow_none=True)
    reconnect_attempts = Int(0)
    last_change = Unicode(None, allow_none=True)
    mode = Unicode("dev")
    source = AnyTrait(None, allow_none=True)
    #: why the last write of a ``cfg.link``-ed widget was refused (None after a good write)
    write_error = Unicode(None, allow_none=True)

    def __init__(
        self,
        tenant_id: str,
        *,
        url: str | None = None,
        token: str | None = None,
        config_dir: str | Path | None = None,
        config_path: str | Path | None = None,
        config: dict[str, Any] | None = None,
        initial_config: dict[str, Any] | None = None,
        enable_websocket: bool | None = None,
        auto_reconnect: bool = True,
        max_reconnect_attempts: int = 5,
        reconnect_delay: float = 1.0,
        max_reconnect_delay: float = 30.0,
        retry_forever: bool = True,
        retry_interval: float = 30.0,
        heartbeat_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        debounce_ms: int = 100,
    ) -> None:
        super().__init__()
        self.set_trait("tenant_id", validate_tenant_id(tenant_id))
        self.mode = os.environ.get("HOTCONF_MODE", "dev")
        if enable_websocket is None:
            enable_websocket = self.mode != "prod"
        self.enable_websocket = enable_websocket
        self._subs: list[Subscription] = []
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[Change]]] = []
        self._initial = ConfigView(initial_config) if initial_config is not None else None
        self._shown: object = None  # the link config object last shown (identity)
        self._shown_link: tuple[Any, ...] | None = None  # (status, error, attempts) shown
        self._link: Link | None = None
        self._closed = False
        if self._initial is not None:
            self.config = self._initial
        if config is not None:  # the seed's controlled `config`: fixed, nothing is watched
            self.config = ConfigView(config)
            self.status = LinkStatus.DISABLED
            _providers.add(self)
            return
        path = Path(config_path).absolute() if config_path is not None else None
        if path is not None:
            self.source = Source("local", "config_path=", config_dir=path.parent)
        else:
            self.source = discover(url, token, config_dir=config_dir)
        options = LinkOptions(
            enable_websocket, auto_reconnect, max_reconnect_attempts, reconnect_delay,
            max_reconnect_delay, retry_forever, retry_interval, heartbeat_timeout,
            connect_timeout, debounce_ms,
        )
        self._link = acquire(self, Link(self.tenant_id, self.source, options, path))
        _providers.add(self)

    # -- reading ---------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self.config[key]

    def __contains__(self, key: object) -> bool:
        return key in self.config

    def get(self, path: str | Sequence[str | int], default: Any = None) -> Any:
        """``cfg.get("pricing.discount")``, ``cfg.get("/pricing/discount")``, or a tuple."""
        return lookup(self.config, path, default)

    def snapshot(self) -> Snapshot:
        return Snapshot(self.tenant_id, self.revision, self.config, self.valid)

    def _ipython_key_completions_(self) -> list[str]:
        return list(self.config)

    @property
    def is_reconnecting(self) -> bool:
        return (
            self.status in (LinkStatus.CONNECTING, LinkStatus.DISCONNECTED)
            and self.reconnect_attempts > 0
        )

    @property
    def shared_link(self) -> Link | None:
        """The link this handle shares (None for a fixed ``config=`` or once closed)."""
        return self._link

    # -- subscribing -----------------------------------------------------------------------------
    def on_change(self, fn: Callable[[Change], Any] | None = None, path: str | None = None) -> Any:
        """Call ``fn(change)`` after each change (under JSON pointer ``path`` if given).

        Works as ``cfg.on_change(fn)``, ``@cfg.on_change`` or ``@cfg.on_change(path="/a")``;
        returns a ``Subscription`` (``.remove()`` to stop)."""
        if path is not None and not path.startswith("/"):
            path = "/" + "/".join(str(p) for p in split_path(path))
        if fn is None:
            return lambda f: self.on_change(f, path)
        sub = Subscription(fn, path, self._subs.remove)
        self._subs.append(sub)
        return sub

    def live(self, fn: Callable[..., Any]) -> Subscription:
        """Run ``fn(cfg)`` (or ``fn()``) now and again after every change."""
        self._call_user(call_flexibly, fn, self)
        sub: Subscription = self.on_change(lambda _change: call_flexibly(fn, self))
        return sub

    async def wait_for_change(self, timeout: float | None = None) -> Change:
        """Wait for the next change; ``TimeoutError`` after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Change] = loop.create_future()
        self._waiters.append((loop, fut))
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no change of {self.tenant_id!r} within {timeout} s") from None
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not fut]

    # -- history (history.py; docs/history.md) -----------------------------------------------
    def history(self, limit: int = 50, before: int | None = None) -> HistoryEntries:
        """The tenant's last ``limit`` history entries, newest first (``before=n``: older than
        revision n); a list that shows as a table, ``.to_dataframe()`` with pandas."""
        with open_backend(self.tenant_id, self.source, self._link) as backend:
            return backend.entries(limit, before)

    def at(self, revision: int) -> RevisionConfig:
        """The read-only config of ``revision``; ``UnknownRevision`` (a ``LookupError``) if it
        was never recorded or was pruned."""
        with open_backend(self.tenant_id, self.source, self._link) as backend:
            return backend.revision(revision)

    def diff(self, a: int, b: int | None = None) -> ConfigDiff:
        """What changed from revision ``a`` to ``b`` (default: the current one): ``patch``,
        ``changed_paths`` and an old → new table."""
        with open_backend(self.tenant_id, self.source, self._link) as backend:
            return backend.diff(a, b)

    def rollback(self, revision: int) -> RollbackResult:
        """Write revision ``revision``'s own document back to the tenant's file (validated,
        in the file's format) as a new revision with ``source == "rollback"``; it then
        arrives as a normal change."""
        with open_backend(self.tenant_id, self.source, self._link) as backend:
            return backend.rollback(revision)

    # -- write-back (writeback.py, imported on first use: it needs the format libraries) ------
    def set(self, path: str | Sequence[str | int], value: Any) -> int:
        """Write ``value`` at ``path`` (``"a.b"``, ``"/a/b"`` or a tuple) of the tenant's own
        file, if the config is still the one this provider holds; returns the new revision,
        with ``cfg.config`` already holding it. ``ConfigConflict`` (it changed meanwhile),
        ``ConfigRejected`` (invalid result: ``.pointer``, ``.message``), ``ConfigReadOnly``."""
        from .writeback import set_edit

        return self._write(set_edit(self.tenant_id, path, value))

    def update(self, patch: dict[str, Any]) -> int:
        """Apply a JSON Merge Patch (RFC 7396: ``None`` removes a key) to the tenant's own
        file; otherwise as ``set``."""
        from .writeback import update_edit

        return self._write(update_edit(patch))

    def delete(self, path: str | Sequence[str | int]) -> int:
        """Remove ``path`` from the tenant's own file; otherwise as ``set``."""
        from .writeback import delete_edit

        return self._write(delete_edit(self.tenant_id, path))

    def link(self, path: str | Sequence[str | int], widget: Any, *,
             debounce_ms: int = 300) -> WidgetBinding:
        """Link ``widget.value`` and ``path`` both ways: the widget's changes are written
        (after ``debounce_ms`` of quiet), the config's move the widget, a refused write puts
        the widget back and sets ``write_error`` (the indicator shows it). ``.unlink()``."""
        from .binding import WidgetBinding

        return WidgetBinding(self, path, widget, debounce_ms=debounce_ms)

    def _write(self, edit: Edit) -> int:
        from .writeback import perform

        revision = perform(self._link, self.tenant_id, edit, self.mode)
        self.write_error = None
        return revision

    # -- control ---------------------------------------------------------------------------------
    def reload(self) -> None:
        """Fetch the config now (REST, or a rescan in local mode) for every handle."""
        if self._link is not None:
            self._link.reload()

    def reconnect(self) -> None:
        if self._link is not None:
            self._link.reconnect()

    def close(self) -> None:
        """Release this handle; the last handle of a link stops it (no thread or socket of
        it remains). Other handles of the tenant keep following."""
        if self._closed:
            return
        self._closed = True
        link, self._link = self._link, None
        if link is not None:
            release(self, link)
        _providers.discard(self)
        if self.status not in (LinkStatus.ERROR, LinkStatus.DISABLED):
            self.status = LinkStatus.DISCONNECTED

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> ConfigProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- called by the link, on the main thread --------------------------------------------------
    def _show(self, link: Link) -> None:
        """Take the link's state into the traits (the link holds notifications meanwhile)."""
        if self._closed:
            return
        state = link.state
        if state.synced and state.config is not self._shown:
            self._shown = state.config
            self.config = ConfigView(state.config)
        self.revision = state.revision
        self.valid = state.valid
        self.config_error = state.error  # type: ignore[assignment]  # Dict(allow_none=True)
        self.last_change = state.last_change
        if state.mode:
            self.mode = state.mode
        seen = (link.status, link.error, link.attempts)
        if seen != self._shown_link:  # so a callback's error stays until the link's moves
            self._shown_link = seen
            self.status, self.error, self.reconnect_attempts = seen

    def _fire(self, change: Change) -> None:
        if self._closed:
            return
        for sub in list(self._subs):
            if sub.active and change.touches(sub.path):
                self._call_user(sub.fn, change)
        for loop, fut in list(self._waiters):
            loop.call_soon_threadsafe(_resolve_once, fut, change)

    def _call_user(self, fn: Callable[..., Any], *args: Any) -> None:
        """A raising callback is reported (``cfg.error``, the log) and never stops others."""
        try:
            fn(*args)
        except Exception as e:
            name = getattr(fn, "__name__", repr(fn))
            self.error = f"callback {name} raised {type(e).__name__}: {e}"
            log.exception("hotconf %r: callback %s raised", self.tenant_id, name)

    # -- display (widgets.py draws; imported lazily so scripts never load ipywidgets) -------------
    def __repr__(self) -> str:
        return (f"<ConfigProvider {self.tenant_id!r} status={self.status} rev={self.revision}"
                f"{'' if self.valid else ' INVALID'}>")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from .widgets import provider_mimebundle

        return provider_mimebundle(self)


def _resolve_once(fut: Any, change: Change) -> None:
    """Wake a ``wait_for_change`` waiter (on its own loop) unless it already timed out."""
    if not fut.done():
        fut.set_result(change)
