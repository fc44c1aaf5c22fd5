"""Who may open a socket: the tenant allow-list, the connection limits and the
per-address connect rate (docs/server.md, "Refusals and close codes").

A refusal carries both answers, because the client decides which one it can read: an HTTP
status at the handshake, or under protocol=2 a close code (browsers cannot read a refused
handshake's status). The hub asks twice: at the handshake (spending a connect token) and
again when the socket opens, since a concurrent handshake may have taken the last slot.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..core.protocol import CloseCode
from ..core.tenants import tenant_allowed
from .limits import HubLimits
from .subscription import Subscription

#: A connect bucket idle this long is full again, so it is forgotten.
BUCKET_IDLE_S = 10.0


@dataclass(frozen=True)
class Refusal:
    """Why a socket is refused: HTTP ``status`` at the handshake, or ``code`` under
    protocol=2 (browsers cannot read a refused handshake's status)."""

    status: int
    code: CloseCode
    reason: str
    retry_after: int | None = None
    kind: str = "refused"  # the hotconf_refusals_total reason: tenant, limit, rate, …


class Admission:
    """The allow-list and limits; ``followers(tenant)`` is how many sockets follow it now."""

    def __init__(
        self,
        limits: HubLimits,
        followers: Callable[[str], int],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self._followers = followers
        self._buckets: dict[str, tuple[float, float]] = {}  # peer -> (tokens, at)

    def check(
        self, peer: str, sub: Subscription, open_now: int, *, rate: bool = True
    ) -> Refusal | None:
        """None if ``sub`` may open beside ``open_now`` sockets; ``rate`` spends a token of
        ``peer``'s connect bucket (only at the handshake)."""
        lim = self.limits
        for tenant in sorted(sub.tenants):
            if not tenant_allowed(tenant, lim.allowed_tenants):
                return Refusal(403, CloseCode.FORBIDDEN, f"tenant {tenant!r} is not allowed",
                               kind="tenant")
        if lim.max_connections and open_now >= lim.max_connections:
            return self._busy(f"server is at max_connections ({lim.max_connections})")
        per_tenant = lim.max_connections_per_tenant
        for tenant in sorted(sub.tenants):
            if per_tenant and self._followers(tenant) >= per_tenant:
                return self._busy(
                    f"tenant {tenant!r} is at max_connections_per_tenant ({per_tenant})"
                )
        if rate and lim.max_connects_per_second and not self._take_token(peer):
            rate_s = lim.max_connects_per_second
            return Refusal(
                429,
                CloseCode.TOO_MANY,
                f"more than {rate_s:g} connects per second from {peer}",
                max(1, math.ceil(1 / rate_s)),
                kind="rate",
            )
        return None

    def forget_idle(self) -> None:
        """Drop the buckets of addresses that have not connected lately (a full bucket)."""
        stale = self.clock() - BUCKET_IDLE_S
        self._buckets = {p: b for p, b in self._buckets.items() if b[1] > stale}

    def _busy(self, reason: str) -> Refusal:
        return Refusal(429, CloseCode.TOO_MANY, reason, self.limits.retry_after_s, kind="limit")

    def _take_token(self, peer: str) -> bool:
        rate = self.limits.max_connects_per_second
        now = self.clock()
        tokens, at = self._buckets.get(peer, (rate, now))
        tokens = min(rate, tokens + (now - at) * rate)
        if tokens < 1:
            self._buckets[peer] = (tokens, now)
            return False
        self._buckets[peer] = (tokens - 1, now)
        return True
