"""ConfigProvider: a tenant's live config as traitlets (DESIGN.md §7).

    cfg = ConfigProvider("acme")        # finds the server, or watches ./configs locally
    cfg["pricing"]["discount"]          # read-only views
    @cfg.on_change(path="/pricing")     # runs on the kernel's main thread, between cells
    def show(change): print(change.changed_paths)

Feeds (socket, local watcher) run on their own threads; every state change, trait change
and user callback goes through a ``Dispatcher`` onto the main thread, in arrival order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import urllib.request
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from traitlets import Any as AnyTrait
from traitlets import Bool, Dict, Enum, HasTraits, Instance, Int, Unicode

from ..core.protocol import MessageKind
from ..core.tenants import validate_tenant_id
from .backoff import Backoff
from .change import Change, Subscription, Update, call_flexibly, diff
from .client import ConfigSocket
from .discovery import Source, discover
from .dispatch import Dispatcher
from .local import DirFeed, FileFeed
from .view import ConfigView, lookup, split_path

log = logging.getLogger(__name__)

STATUSES = ("connecting", "connected", "disconnected", "error", "local", "disabled")
_providers: weakref.WeakSet[ConfigProvider] = weakref.WeakSet()
_MISSING = object()


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
    """A tenant's configuration, kept current from a hotconf server or a local config dir."""

    tenant_id = Unicode(read_only=True)
    config = Instance(ConfigView, args=())
    revision = Int(0)
    status = Enum(STATUSES, default_value="connecting")
    valid = Bool(True)
    config_error = Dict(allow_none=True, default_value=None)
    error = Unicode(None, allow_none=True)
    reconnect_attempts = Int(0)
    last_change = Unicode(None, allow_none=True)
    mode = Unicode("dev")
    source = AnyTrait(None, allow_none=True)

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
        self._dispatcher = Dispatcher()
        self._subs: list[Subscription] = []
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[Change]]] = []
        self._epoch: str | None = None
        self._checksum: str | None = None
        self._first = threading.Event()
        self._first_state: Update | None = None
        self._socket: ConfigSocket | None = None
        self._feed: DirFeed | FileFeed | None = None
        self._closed = False
        if initial_config is not None:
            self.config = ConfigView(initial_config)
        if config is not None:  # the seed's controlled `config`: fixed, nothing is watched
            self.config = ConfigView(config)
            self.status = "disabled"
            _providers.add(self)
            return
        if config_path is not None:
            self.source = Source("local", "config_path=", config_dir=Path(config_path).parent)
            self._feed = FileFeed(Path(config_path), **self._feed_callbacks())
        else:
            self.source = discover(url, token, config_dir=config_dir)
            if self.source.kind == "local":
                assert self.source.config_dir is not None  # discovery sets it for local mode
                self._feed = DirFeed(
                    self.source.config_dir, self.tenant_id, debounce_ms=debounce_ms,
                    **self._feed_callbacks(),
                )
        _providers.add(self)
        if self._feed is not None:
            self._start_feed()
        elif self.enable_websocket:
            backoff = Backoff(base=reconnect_delay, cap=max_reconnect_delay,
                              max_attempts=max_reconnect_attempts, retry_forever=retry_forever,
                              retry_every=retry_interval)
            self._socket = ConfigSocket(
                self.source, self.tenant_id, on_message=self._on_wire, on_status=self._on_status,
                on_rest=self._on_rest, heartbeat_timeout=heartbeat_timeout, backoff=backoff,
                auto_reconnect=auto_reconnect, connect_timeout=connect_timeout,
            ).start()
            self._wait_first(connect_timeout)
        else:
            self.reload()
            self.status = "disabled"
        log.info("hotconf %r: config from %s", self.tenant_id, self.source.describe())

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
        return self.status in ("connecting", "disconnected") and self.reconnect_attempts > 0

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

    # -- control ---------------------------------------------------------------------------------
    def reload(self) -> None:
        """Fetch the config now (REST, or a rescan in local mode)."""
        if self._feed is not None:
            self._feed.reload()
            return
        if self.source is None or self.source.kind != "server":
            return
        url = self.source.rest_url("tenants", quote(self.tenant_id))
        request = urllib.request.Request(url, headers=self.source.headers())
        with urllib.request.urlopen(request, timeout=10) as response:
            self._on_rest(json.loads(response.read()))

    def reconnect(self) -> None:
        if self._socket is not None:
            self._socket.reconnect()

    def close(self) -> None:
        """Stop following: no thread or socket of this provider remains afterwards."""
        if self._closed:
            return
        self._closed = True
        if self._socket is not None:
            self._socket.close()
        if self._feed is not None:
            self._feed.stop()
        _providers.discard(self)
        if self.status not in ("error", "disabled"):
            self.status = "disconnected"

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> ConfigProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- feeds → main thread -----------------------------------------------------------------------
    def _feed_callbacks(self) -> dict[str, Any]:
        return {
            "on_update": lambda u: self._dispatcher.submit(self._apply, u),
            "on_invalid": lambda e: self._dispatcher.submit(self._apply_invalid, e),
            "on_valid": lambda: self._dispatcher.submit(self._apply_valid),
        }

    def _start_feed(self) -> None:
        assert self._feed is not None
        state = self._feed.start()
        self.status = "local" if self.enable_websocket else "disabled"
        self._apply(state, initial=True)
        if not self.enable_websocket:  # prod: load once, do not follow
            self._feed.stop()

    def _wait_first(self, timeout: float) -> None:
        """Block (bounded) for the first Snapshot so the next line of the cell sees the config.

        The Snapshot is applied here, on the caller's thread, since the main loop that would
        apply it is the one this constructor is blocking."""
        assert self._socket is not None
        sock = self._socket
        self._first.wait(timeout) if sock.status != "error" else None
        if self._first_state is not None:
            self._apply(self._first_state, initial=True)
        self._apply_status(sock.status, sock.error, sock.backoff.attempts)

    def _on_wire(self, kind: MessageKind, body: dict[str, Any]) -> None:  # socket thread
        if kind is MessageKind.SNAPSHOT:
            update = Update(
                revision=int(body.get("revision") or 0), epoch=body.get("epoch"),
                checksum=body.get("checksum"), config=body.get("config"),
                exists=bool(body.get("exists", True)), valid=body.get("valid"),
                error=body.get("error"),
            )
            if body.get("mode"):
                self._dispatcher.submit(self.set_trait, "mode", str(body["mode"]))
            if not self._first.is_set():
                self._first_state = update
                self._first.set()
            self._dispatcher.submit(self._apply, update)
        elif kind is MessageKind.CONFIG_CHANGED:
            update = Update(
                revision=int(body.get("revision") or 0), epoch=body.get("epoch"),
                checksum=body.get("checksum"), config=body.get("config"),
                exists=body.get("change_type") != "deleted",
                change_type=str(body.get("change_type", "modified")), patch=body.get("patch"),
                changed_paths=body.get("changed_paths"), timestamp=body.get("timestamp"),
                valid=True,
            )
            self._dispatcher.submit(self._apply, update)
        elif kind is MessageKind.CONFIG_INVALID:
            self._dispatcher.submit(self._apply_invalid, dict(body))
        elif kind is MessageKind.CONFIG_VALID:
            self._dispatcher.submit(self._apply_valid)

    def _on_rest(self, body: dict[str, Any]) -> None:  # socket thread (or reload())
        self._dispatcher.submit(self._apply, Update(
            revision=int(body.get("revision") or 0), epoch=None, checksum=body.get("checksum"),
            config=body.get("config"), valid=body.get("valid"), error=body.get("error"),
        ))

    def _on_status(self, status: str, error: str | None, attempts: int) -> None:
        self._dispatcher.submit(self._apply_status, status, error, attempts)

    # -- on the main thread ----------------------------------------------------------------------
    def _apply_status(self, status: str, error: str | None, attempts: int) -> None:
        if self._closed:
            return
        with self.hold_trait_notifications():
            self.status = status
            self.error = error
            self.reconnect_attempts = attempts

    def _apply_invalid(self, error: dict[str, Any]) -> None:
        with self.hold_trait_notifications():
            self.valid = False
            self.config_error = error

    def _apply_valid(self) -> None:
        with self.hold_trait_notifications():
            self.valid = True
            self.config_error = None  # type: ignore[assignment]  # Dict(allow_none=True)

    def _apply(self, u: Update, initial: bool = False) -> None:
        """Adopt ``u`` unless it is stale; fire one change if the config moved."""
        if u.valid is not None:
            self._apply_valid() if u.valid else self._apply_invalid(u.error or {})
        same_epoch = u.epoch is None or self._epoch is None or u.epoch == self._epoch
        if u.epoch is None:  # REST poll: no order, content decides
            if u.checksum == self._checksum or (u.config is None and u.revision == 0):
                return
        elif same_epoch and self._epoch is not None and u.revision <= self.revision:
            return  # stale or duplicate: never roll back
        if u.epoch is not None:
            self._epoch = u.epoch
        moved = u.checksum != self._checksum or (u.config is not None and u.config != self.config)
        old, new = self.config, ConfigView(u.config or {})
        with self.hold_trait_notifications():
            self.config = new
            self.revision = u.revision
            self._checksum = u.checksum
            if not initial and moved:
                self.last_change = u.timestamp or _now()
        if initial or not moved:
            return
        if u.changed_paths is not None:  # a ConfigChanged / local change says what it was
            change_type, paths = u.change_type, u.changed_paths
            patch = u.patch if u.patch is not None else diff(old.to_dict(), new.to_dict())[0]
        else:  # a resync (Snapshot, REST poll): work the difference out ourselves
            change_type = "modified" if u.exists else "deleted"
            patch, paths = diff(old.to_dict(), new.to_dict())
        self._fire(Change(self.tenant_id, change_type, u.revision, old, new, list(patch or []),
                          list(paths or []), self.last_change))

    def _fire(self, change: Change) -> None:
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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _resolve_once(fut: Any, change: Change) -> None:
    """Wake a ``wait_for_change`` waiter (on its own loop) unless it already timed out."""
    if not fut.done():
        fut.set_result(change)
