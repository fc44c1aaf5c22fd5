"""One link per tenant per kernel: the feed and the follower state every handle shares.

``%hotconf acme``, ``ConfigProvider("acme")`` and ``%%hotconf live acme`` (with the same
source and connection options) are handles onto ONE ``Link``: one socket or one local
watcher, one ``core.follow`` state. Each message is folded once, on the kernel's main thread
(``Dispatcher``), and in that one step the traits of EVERY handle are set before any trait
observer, ``on_change`` callback or live cell of any handle runs — so a live cell re-run for
revision N reads revision N through every handle (two providers each with its own socket
let a cell re-run before the other provider had the change).

Messages wait in the link's inbox until a dispatch step folds them, so a write of this
kernel (``writeback.py``), which runs ON the main thread and cannot wait for a main-loop
step, can wait on the inbox instead and fold its own change at once (``catch_up``); its
callbacks are still deferred to the main loop (``docs/kernel.md``, read-your-writes).

The registry is per process (a kernel is one process). ``release`` of the last handle stops
the feed and forgets the link; the next handle opens a fresh one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..core.follow import FollowerState, apply, rest_snapshot
from ..core.messages import ConfigChanged, Message, Snapshot
from .backoff import Backoff
from .change import Change
from .client import ConfigSocket, LinkStatus
from .discovery import Source
from .dispatch import Dispatcher
from .local import DirFeed, FileFeed

if TYPE_CHECKING:
    from .provider import ConfigProvider

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkOptions:
    """What makes two links different beyond tenant and source (part of the registry key)."""

    enable_websocket: bool = True  # False: load once, follow nothing
    auto_reconnect: bool = True
    max_reconnect_attempts: int = 5
    reconnect_delay: float = 1.0
    max_reconnect_delay: float = 30.0
    retry_forever: bool = True
    retry_interval: float = 30.0
    heartbeat_timeout: float = 10.0
    connect_timeout: float = 10.0
    debounce_ms: int = 100


class Link:
    """A tenant followed once for every handle of the kernel (see the module docstring)."""

    def __init__(
        self, tenant_id: str, source: Source, options: LinkOptions,
        config_path: Path | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.source = source
        self.options = options
        self.config_path = config_path
        self.key: Hashable = link_key(tenant_id, source, options, config_path)
        self.dispatcher = Dispatcher()
        self.state = FollowerState(tenant_id)
        self.status = LinkStatus.CONNECTING
        self.error: str | None = None
        self.attempts = 0
        self.handles: list[ConfigProvider] = []  # guarded by the registry lock
        self.closed = False
        self.socket: ConfigSocket | None = None
        self.feed: DirFeed | FileFeed | None = None
        self._first = threading.Event()
        self._first_snapshot: Snapshot | None = None
        self._inbox: deque[Message] = deque()  # received, not folded yet
        self._arrived = threading.Condition()
        self._deferred: list[tuple[list[ConfigProvider], Change]] = []

    # -- lifecycle (registry) ----------------------------------------------------------------
    def start(self) -> Link:
        opts = self.options
        if self.config_path is not None:
            self.feed = FileFeed(self.config_path, self.tenant_id, on_message=self._on_message,
                                 debounce_ms=opts.debounce_ms)
        elif self.source.kind == "local":
            assert self.source.config_dir is not None  # discovery sets it for local mode
            self.feed = DirFeed(self.source.config_dir, self.tenant_id,
                                on_message=self._on_message, debounce_ms=opts.debounce_ms)
        if self.feed is not None:
            first = self.feed.start()
            follow = opts.enable_websocket
            self.dispatcher.run(self._apply_all, first,
                                LinkStatus.LOCAL if follow else LinkStatus.DISABLED, None, 0)
            if not follow:  # prod: load once, do not follow
                self.feed.stop()
        elif opts.enable_websocket:
            backoff = Backoff(base=opts.reconnect_delay, cap=opts.max_reconnect_delay,
                              max_attempts=opts.max_reconnect_attempts,
                              retry_forever=opts.retry_forever, retry_every=opts.retry_interval)
            self.socket = sock = ConfigSocket(
                self.source, self.tenant_id, on_message=self._on_message,
                on_status=self._on_status, on_rest=self._on_message,
                heartbeat_timeout=opts.heartbeat_timeout, backoff=backoff,
                auto_reconnect=opts.auto_reconnect, connect_timeout=opts.connect_timeout,
            ).start()
            # Block (bounded) for the first Snapshot so the next line of the cell sees the
            # config; applied here, since the main loop that would apply it is the one this
            # constructor blocks. Its copy in the dispatch queue is a duplicate by then.
            if sock.status is not LinkStatus.ERROR:
                self._first.wait(opts.connect_timeout)
            self.dispatcher.run(self._apply_all, self._first_snapshot, sock.status, sock.error,
                                sock.backoff.attempts)
        else:
            self.dispatcher.run(self._apply_all, self.fetch(), LinkStatus.DISABLED, None, 0)
        log.info("hotconf %r: config from %s", self.tenant_id, self.source.describe())
        return self

    def stop(self) -> None:
        """Stop the feed: no thread or socket of this link remains afterwards."""
        self.closed = True
        if self.socket is not None:
            self.socket.close()
        if self.feed is not None:
            self.feed.stop()

    # -- control, from user code ---------------------------------------------------------------
    def fetch(self) -> Snapshot | None:
        """``GET api/tenants/<t>`` now, as an epoch-less Snapshot (None without a server)."""
        if self.source.kind != "server":
            return None
        url = self.source.rest_url("tenants", quote(self.tenant_id))
        request = urllib.request.Request(url, headers=self.source.headers())
        with urllib.request.urlopen(request, timeout=10) as response:
            return rest_snapshot(self.tenant_id, json.loads(response.read()))

    def reload(self) -> None:
        if self.feed is not None:
            self.feed.reload()
            return
        snap = self.fetch()
        if snap is not None:
            self.dispatcher.submit(self.fold, snap)

    def reconnect(self) -> None:
        if self.socket is not None:
            self.socket.reconnect()

    # -- feed threads → main thread ---------------------------------------------------------------
    def _on_message(self, message: Message) -> None:
        if isinstance(message, Snapshot) and not self._first.is_set():
            self._first_snapshot = message
            self._first.set()
        with self._arrived:
            self._inbox.append(message)
            self._arrived.notify_all()
        self.dispatcher.submit(self._drain)

    def _on_status(self, status: LinkStatus, error: str | None, attempts: int) -> None:
        self.dispatcher.submit(self._apply_all, None, status, error, attempts)

    # -- read-your-writes, from a write on the main thread ------------------------------------
    def catch_up(self, checksum: str | None, revision: int | None, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until the feed has delivered the content with
        ``checksum`` (or a revision at least ``revision``), then fold everything delivered so
        far, here and now. The callbacks of what is folded run later, on the main loop, as
        always. False: it did not arrive in time (nothing folded)."""
        def reached(item: Message | FollowerState) -> bool:
            if not isinstance(item, (Snapshot, ConfigChanged, FollowerState)):
                return False
            return (checksum is not None and item.checksum == checksum) or (
                revision is not None and item.revision >= revision
                and item.epoch is not None and item.epoch == self.state.epoch)

        deadline = time.monotonic() + timeout
        with self._arrived:
            while not (reached(self.state) or any(map(reached, self._inbox))):
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return False
                self._arrived.wait(left)
        self.dispatcher.run(self._drain, True)
        return True

    def fold_now(self, message: Message) -> None:
        """Fold ``message`` here and now (callbacks deferred), after what the feed delivered."""
        self.dispatcher.run(self._drain, True, message)

    # -- on the main thread --------------------------------------------------------------------
    def fold(self, message: Message) -> None:
        """One dispatch step: fold ``message`` into the state, show it to every handle."""
        self._apply_all(message, self.status, self.error, self.attempts)

    def _drain(self, defer: bool = False, extra: Message | None = None) -> None:
        """Fold the inbox (then ``extra``). ``defer``: a write folding its own change; the
        changes' callbacks go to the main loop instead of running inside the write."""
        if not defer:
            self._flush_deferred()
        while True:
            with self._arrived:
                if self._inbox:
                    message: Message | None = self._inbox.popleft()
                else:
                    message, extra = extra, None
            if message is None:
                break
            self._apply_all(message, self.status, self.error, self.attempts, defer)
            with self._arrived:
                self._arrived.notify_all()
        if defer and self._deferred:
            self.dispatcher.submit(self._flush_deferred)

    def _flush_deferred(self) -> None:
        deferred, self._deferred = self._deferred, []
        for handles, change in deferred:
            for handle in handles:
                handle._fire(change)

    def _apply_all(
        self, message: Message | None, status: LinkStatus, error: str | None, attempts: int,
        defer: bool = False,
    ) -> None:
        if self.closed:
            return
        before = (self.state, self.status, self.error, self.attempts)
        change = None
        if message is not None:
            self.state, follow_change = apply(self.state, message)
            change = Change.of(follow_change, message) if follow_change is not None else None
        self.status, self.error, self.attempts = status, error, attempts
        if (self.state, self.status, self.error, self.attempts) == before and change is None:
            return
        handles = list(self.handles)
        try:
            with contextlib.ExitStack() as held:  # observers fire once all handles are set
                for handle in handles:
                    held.enter_context(handle.hold_trait_notifications())
                for handle in handles:
                    handle._show(self)
        finally:
            if change is not None and defer:
                self._deferred.append((handles, change))
            elif change is not None:
                self._flush_deferred()  # an earlier write's callbacks first: arrival order
                for handle in handles:
                    handle._fire(change)

    def show_to(self, handle: ConfigProvider) -> None:
        """A new handle takes the current state (serialised with dispatch steps)."""
        with handle.hold_trait_notifications():
            handle._show(self)


def link_key(
    tenant_id: str, source: Source, options: LinkOptions, config_path: Path | None
) -> Hashable:
    """Same tenant, same resolved source, same options → same link (``origin`` aside: two
    discovery rules that find one server are one server)."""
    config_dir = str(source.config_dir.resolve()) if source.config_dir is not None else None
    return (tenant_id, source.kind, source.base_url, source.ws_url, source.token, config_dir,
            str(config_path.resolve()) if config_path is not None else None, options)


_registry_lock = threading.Lock()
_links: dict[Hashable, Link] = {}


def acquire(handle: ConfigProvider, link: Link) -> Link:
    """The open link with ``link``'s key (``link`` itself, started, if there is none), with
    ``handle`` attached and shown the current state."""
    with _registry_lock:
        shared = _links.get(link.key)
        if shared is None:
            shared = _links[link.key] = link.start()
        shared.handles.append(handle)
    shared.dispatcher.run(shared.show_to, handle)
    return shared


def release(handle: ConfigProvider, link: Link) -> None:
    """Detach ``handle``; the last handle stops the link."""
    with _registry_lock:
        if handle in link.handles:
            link.handles.remove(handle)
        last = not link.handles and not link.closed
        if last:
            link.closed = True
            if _links.get(link.key) is link:
                del _links[link.key]
    if last:
        link.stop()


def links() -> list[Link]:
    """Every open link (``%hotconf --status``, tests)."""
    with _registry_lock:
        return sorted(_links.values(), key=lambda link: (link.tenant_id, id(link)))
