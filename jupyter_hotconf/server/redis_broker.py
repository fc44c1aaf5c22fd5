"""RedisBroker: many servers, one change stream (docs/scale-out.md).

Every server of a group (same ``broker_url`` and ``broker_namespace``) watches the shared
config dir into a store of its own (``files``), but only the **leader** publishes: a lease
``<ns>:leader`` (``SET NX PX``) renewed every third of ``leader_lease_ms``, whose random
value is the fencing token every publish carries (``redis_scripts.PUBLISH`` refuses a stale
one). A leader that cannot renew, or whose connection fails even once, drops its token at
once — its connections never reconnect silently (``_connect_once``), so nothing is ever
published under an old token from a new connection. A new leader publishes every tenant's
file state; the script keeps only what differs from the shared state, so no change made
during a handover is lost.

Every server, the leader included, delivers what it reads from ``<ns>:changes`` (``XREAD
BLOCK``) to its own hub, after putting it in its ``store`` (the one Snapshots and REST
serve): every server's clients see the same revisions and epoch. Before Redis was ever
reached the server is its own leader and delivers its files' changes directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, RedisError, ResponseError
from redis.retry import Retry

from ..core.fanout import Listeners
from ..core.store import Change, ConfigStore, TenantState
from ..core.writelock import LOCK_POLL_S, LockFailed
from . import redis_scripts as scripts
from .redis_history import DocumentMemo
from .settings import HotConfSettings

log = logging.getLogger(__name__)

#: How long one ``XREAD`` blocks (ms); the read timeout of that connection is above it.
READ_BLOCK_MS = 1000
#: Reconnect backoff bounds (s): the first retry comes fast, later ones at most this far apart.
BACKOFF_S = (0.1, 2.0)
#: Close code sent to clients when the shared state was reloaded (epoch changed, or the
#: stream no longer holds where this server was): they reconnect and get fresh Snapshots.
RESYNC_CLOSE = 1012
STOP_TIMEOUT_S = 2.0  # the lease hand-back and closing the connections, at most
_ALL = "*"  # publisher queue item: every tenant (a new leader's rescan)


class _Resync(Exception):
    """The stream says the shared state was reset (a new epoch): join again at once."""


async def _connect_once(connection: Any) -> None:
    """A connection may connect once: a reconnect after a failure must come from a new
    session (which has dropped the lease), never silently under the old one."""
    if getattr(connection, "_hotconf_connected", False):
        raise aioredis.ConnectionError("hotconf: connection lost; a new session reconnects")
    connection._hotconf_connected = True
    await connection.on_connect()


class RedisBroker:
    """The ``Broker`` of a server in a Redis group (see the module docstring)."""

    kind = "redis"

    def __init__(self, settings: HotConfSettings, store: ConfigStore, files: ConfigStore) -> None:
        self.settings = settings
        self.store = store  # the shared state this server serves
        self.files = files  # what this server's watcher reads from the files
        self.documents = DocumentMemo()  # each tenant's document, for the history
        files.resume(files.epoch, [], self.documents)
        self.keys = scripts.Keys(settings.broker_namespace)
        self.lease_ms = settings.leader_lease_ms
        self.id = secrets.token_hex(6)
        self.token: str | None = None  # our fencing token while we lead
        self.connected = False
        self.joined = False  # reached Redis at least once
        self.error: str | None = None
        self.lag_ms = 0
        self._lease_until = 0.0
        self._last_id: str | None = None
        self._listeners = Listeners[Change]("hotconf listener", "broker")
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._ctl: aioredis.Redis | None = None
        self.on_resync: Callable[[], None] | None = None  # the engine closes client sockets

    # -- the Broker protocol -------------------------------------------------------------
    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    def publish(self, change: Change) -> None:
        """Deliver ``change`` to this server's listeners (the hub, events, writes)."""
        self._listeners.publish(change)

    @property
    def leader(self) -> bool:
        """Publishing for the group (or, before Redis was ever reached, for itself)."""
        return self.token is not None or not self.joined

    @property
    def role(self) -> str:
        return "leader" if self.leader else "follower"

    def info(self) -> dict[str, Any]:
        return {"kind": self.kind, "role": self.role, "connected": self.connected,
                "lag_ms": self.lag_ms, "id": self.id, "token": self.token,
                "error": self.error}

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Serve the files as they are (leader of itself) and join Redis in the background."""
        self.store.resume(self.files.epoch, self.files.states(), None)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Hand the lease back (a follower takes over at once) and close the connections."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # bounded stop
                await asyncio.wait_for(self._task, STOP_TIMEOUT_S)
            self._task = None

    def offer(self, changes: list[Change]) -> None:
        """The watcher's changes (loop thread): published if we lead; delivered directly
        before Redis was ever reached; else dropped (the next leader rescans the files)."""
        if not self.joined:
            for change in changes:
                state = self.files.get(change.tenant_id)
                if state is not None:
                    self.store.resume(self.files.epoch, [state], None)
                self.publish(change)
            return
        if self.token is not None:
            for change in changes:
                self._queue.put_nowait(change.tenant_id)

    # -- the session ---------------------------------------------------------------------
    def _client(self, read_timeout: float | None) -> aioredis.Redis:
        return aioredis.Redis.from_url(
            self.settings.broker_url, decode_responses=True, single_connection_client=True,
            retry=Retry(NoBackoff(), 0), socket_connect_timeout=max(self.lease_ms / 1000, 1),
            socket_timeout=read_timeout, client_name=f"hotconf:{self.id}",
            redis_connect_func=_connect_once,
        )

    async def _run(self) -> None:
        delay = BACKOFF_S[0]
        while True:
            try:
                await self._session()
            except _Resync:
                delay = 0.0
            except (RedisError, OSError) as exc:
                self._lost(exc)
            finally:
                self._step_down()
                self.connected = False
            await asyncio.sleep(delay)  # reconnect backoff (pacing, not synchronisation)
            delay = min(max(delay * 2, BACKOFF_S[0]), BACKOFF_S[1])

    def _lost(self, exc: Exception) -> None:
        if isinstance(exc, AuthenticationError):
            why = f"Redis refused our credentials ({exc}): check the password in broker_url"
        elif isinstance(exc, ResponseError):
            why = f"Redis answered with an error ({exc})"
        else:
            why = f"Redis unreachable or not Redis ({type(exc).__name__}: {exc})"
        if why != self.error:
            log.error("hotconf: broker %s: %s; serving the last known state, retrying",
                      self._where(), why)
        self.error = why

    def _where(self) -> str:
        url = self.settings.broker_url
        return url.rsplit("@", 1)[-1] if "@" in url else url  # never log a password

    async def _session(self) -> None:
        lease_s = self.lease_ms / 1000
        ctl = self._client(read_timeout=max(lease_s / 3, 0.5))
        reader = self._client(read_timeout=READ_BLOCK_MS / 1000 + max(lease_s, 5))
        self._ctl = ctl
        try:
            await ctl.ping()
            await self._join(ctl)
            self.connected, self.error = True, None
            log.info("hotconf: broker joined %s (namespace %s, epoch %s) as %s",
                     self._where(), self.keys.namespace, self.store.epoch, self.id)
            tasks = [asyncio.create_task(coro) for coro in
                     (self._read(reader), self._lead(ctl), self._publisher(ctl))]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                task.result()
        finally:
            self._ctl = None
            await self._release(ctl)
            for client in (ctl, reader):
                with contextlib.suppress(Exception):
                    await client.aclose()

    async def _release(self, ctl: aioredis.Redis) -> None:
        """On a clean stop hand the lease back so a follower takes over at once."""
        token, self.token = self.token, None
        if token is not None:
            with contextlib.suppress(Exception):
                await ctl.eval(scripts.RELEASE, 1, self.keys.leader, token)

    def _step_down(self, why: str | None = None) -> None:
        if self.token is not None:
            log.warning("hotconf: broker %s stops leading: %s", self.id,
                        why or "connection lost")
        self.token = None
        self._lease_until = 0.0
        self._queue = asyncio.Queue()

    # -- following -----------------------------------------------------------------------
    async def _join(self, ctl: aioredis.Redis) -> None:
        """Read the shared state in one script; resume from our last id if the stream still
        holds it, else reload the store (and have clients resync from fresh Snapshots)."""
        keys = self.keys
        await ctl.set(keys.epoch, secrets.token_hex(8), nx=True)
        raw = await ctl.eval(scripts.READ_STATE, 3, keys.epoch, keys.changes, keys.tenants,
                             keys.tenant_prefix)
        epoch, last, first = raw[0], raw[1], raw[2]
        held = (self._last_id is not None and self.joined and epoch == self.store.epoch
                and (not first or _id(first) <= _id(self._last_id) or
                     _id(last) == _id(self._last_id)))
        self.joined = True
        if held:
            return  # XREAD from _last_id delivers what we missed
        states = [scripts.state_from_hash(t, _pairs(fields))
                  for t, fields in zip(raw[3::2], raw[4::2], strict=True)]
        before = {s.tenant_id: (s.revision, s.checksum, s.valid) for s in self.store.states()}
        changed = epoch != self.store.epoch or any(
            before.get(s.tenant_id) != (s.revision, s.checksum, s.valid) for s in states)
        # A tenant the shared state lacks (Redis came up after us, or came back empty) is
        # unknown until the leader publishes it: keeping our own numbering would make us
        # skip its revisions up to the one we had.
        shared = {s.tenant_id for s in states}
        states += [TenantState(t, 0, None, None, exists=False, valid=True, error=None,
                               last_change=None) for t in before if t not in shared]
        self.store.resume(epoch, states, None)
        self._last_id = last
        if changed and self.on_resync is not None:
            self.on_resync()

    async def _read(self, reader: aioredis.Redis) -> None:
        while True:
            answer: Any = await reader.xread({self.keys.changes: self._last_id or "0-0"},
                                             count=500, block=READ_BLOCK_MS)
            for _stream, entries in answer or ():
                for entry_id, fields in entries:
                    self._entry(entry_id, fields)

    def _entry(self, entry_id: str, fields: dict[str, str]) -> None:
        if fields.get("epoch") != self.store.epoch:
            raise _Resync
        self._last_id = entry_id
        self.lag_ms = max(0, int(time.time() * 1000) - scripts.stream_ms(entry_id))
        before = self.store.get(fields["tenant"])
        change, state = scripts.change_from_entry(fields, before)
        if change.is_wire_change and before is not None and before.revision >= change.revision:
            return  # already in the state we loaded
        self.store.resume(change.epoch, [state], None)
        self.publish(change)

    # -- leading -------------------------------------------------------------------------
    async def _lead(self, ctl: aioredis.Redis) -> None:
        """Every third of the lease: renew it, or try to take it."""
        while True:
            sent = time.monotonic()
            if self.token is not None:
                if await ctl.eval(scripts.RENEW, 1, self.keys.leader, self.token,
                                  self.lease_ms):
                    self._lease_until = sent + self.lease_ms / 1000
                else:
                    self._step_down("the lease is no longer ours")
            else:
                token = f"{self.id}:{secrets.token_hex(4)}"
                if await ctl.set(self.keys.leader, token, nx=True, px=self.lease_ms):
                    self.token, self._lease_until = token, sent + self.lease_ms / 1000
                    log.info("hotconf: broker %s leads (token %s): publishing every "
                             "tenant that differs from the shared state", self.id, token)
                    self._queue.put_nowait(_ALL)
            await asyncio.sleep(self.lease_ms / 3000)  # the renewal period (pacing)

    async def _publisher(self, ctl: aioredis.Redis) -> None:
        while True:
            queue = self._queue
            item = await queue.get()
            if queue is not self._queue or self.token is None:
                continue  # stepped down meanwhile: the next leader rescans
            tenants = self._every_tenant() if item == _ALL else [item]
            for tenant_id in tenants:
                await self._publish_state(ctl, tenant_id)

    def _every_tenant(self) -> list[str]:
        return sorted(set(self.files.tenant_ids()) | set(self.store.tenant_ids()))

    async def _publish_state(self, ctl: aioredis.Redis, tenant_id: str) -> None:
        token = self.token
        if token is None or time.monotonic() >= self._lease_until:
            self._step_down("the lease ran out before it was renewed")
            return
        state = self.files.get(tenant_id) or TenantState(
            tenant_id, 0, None, None, exists=False, valid=True, error=None, last_change=None)
        keys = self.keys
        answer = await ctl.eval(
            scripts.PUBLISH, 8, keys.leader, keys.tenant(tenant_id), keys.changes,
            keys.tenants, keys.epoch, keys.history(tenant_id),
            keys.expect(tenant_id, state.checksum), keys.revisions(tenant_id),
            *scripts.publish_args(state, token, "watcher",
                                  self.documents.history_args(state, self.settings)),
        )
        if answer[0] == "stale":
            self._step_down("a publish was refused: the lease token is stale")
        elif answer[0] == "noepoch":
            self._step_down("the shared state is gone (Redis flushed)")
            raise _Resync
        elif answer[0] != "same":
            log.info("hotconf: broker published %s of tenant %s as revision %s",
                     answer[0], tenant_id, answer[1])

    # -- writes (docs/write-back.md) ----------------------------------------------------
    def write_lock(self, tenant_id: str) -> RedisTenantLock:
        """The group-wide write lock of ``tenant_id`` (call on the loop thread)."""
        hold_ms = int(self.settings.write_timeout_s * 2000)
        return RedisTenantLock(self, asyncio.get_running_loop(), tenant_id, hold_ms)

    async def expect(self, tenant_id: str, checksum: str | None, source: str,
                     actor: str | None) -> None:
        """The next publish of ``checksum`` for the tenant was written by ``actor`` through
        the API: the leader's publish script takes this (for a write's lifetime) instead of
        ``watcher``. Best effort: without Redis the change is simply a watcher's."""
        value = f"{source}\n{actor or ''}"
        hold_ms = int(self.settings.write_timeout_s * 1000)
        with contextlib.suppress(RedisError, OSError):
            await self.run(lambda ctl: ctl.set(self.keys.expect(tenant_id, checksum), value,
                                               px=hold_ms))

    async def run(self, coro: Any) -> Any:
        """Run ``coro(ctl)`` on the control connection (a write's lock and expectation)."""
        ctl = self._ctl
        if ctl is None or not self.connected:
            raise aioredis.ConnectionError(f"Redis is not connected ({self.error})")
        return await coro(ctl)


def _id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _pairs(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


class RedisTenantLock:
    """``<ns>:lock:<t>``: the write lock of a tenant across every server of the group, with
    ``TenantLock``'s interface (``acquire``/``release`` on a write's I/O thread; the Redis
    calls run on the loop). Held at most ``hold_ms`` (a writer that dies frees it)."""

    def __init__(self, broker: RedisBroker, loop: asyncio.AbstractEventLoop, tenant_id: str,
                 hold_ms: int) -> None:
        self.broker, self.loop, self.key = broker, loop, broker.keys.lock(tenant_id)
        self.hold_ms = hold_ms
        self._token: str | None = None

    def _call(self, fn: Callable[[aioredis.Redis], Any], timeout_s: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(self.broker.run(fn), self.loop)
        try:
            return future.result(timeout_s)
        except (RedisError, OSError, TimeoutError) as exc:
            future.cancel()
            raise LockFailed(f"the Redis write lock {self.key} is unavailable: {exc}") from None

    def acquire(self, timeout_s: float | None = None) -> None:
        token = secrets.token_hex(8)
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else 10.0)
        while not self._call(lambda ctl: ctl.set(self.key, token, nx=True, px=self.hold_ms),
                             max(deadline - time.monotonic(), 0.5)):
            if time.monotonic() > deadline:
                raise LockFailed(f"the Redis write lock {self.key} is held by another writer "
                                 f"for more than {timeout_s:g}s")
            time.sleep(max(LOCK_POLL_S, 0.01))  # paces a retry, bounded by the deadline
        self._token = token

    def release(self) -> None:
        token, self._token = self._token, None
        if token is not None:
            with contextlib.suppress(LockFailed):  # it expires on its own
                self._call(lambda ctl: ctl.eval(scripts.RELEASE, 1, self.key, token), 5.0)
