"""The hub's settings as one frozen value, shared by admission and the hub.

``settings.HotConfSettings.hub_limits()`` builds it from the traits, whose help gives each
unit and what 0 means (docs/server.md, "Settings").
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class HubLimits:
    """The hub's settings (see ``settings.HotConfSettings`` for units and meaning of 0)."""

    heartbeat_interval_s: float = 5.0
    heartbeat_timeout_s: float = 10.0
    allowed_tenants: tuple[str, ...] = ("*",)
    max_connections_per_tenant: int = 1000
    max_connections: int = 10000
    max_connects_per_second: float = 0.0
    max_messages_per_second: int = 50
    max_pending_bytes: int = 16 * 1024 * 1024
    mode: str = "dev"

    @property
    def retry_after_s(self) -> int:
        """What a refused client is told to wait: a slot may free within one sweep."""
        return max(1, math.ceil(self.heartbeat_interval_s))
