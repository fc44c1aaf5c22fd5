"""What one WebSocket follows, parsed from the raw query of its handshake (docs/protocol.md).

The raw ``request.query_arguments`` bytes are validated, never ``get_query_argument``'s
cleaned strings: Tornado strips whitespace and maps control characters to spaces, so
``acme\\x00`` would pass as ``acme``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..core.errors import HotconfError, InvalidTenant, ProtocolError
from ..core.protocol import parse_include, parse_protocol
from ..core.tenants import tenant_allowed, validate_tenant_id

WILDCARD = "*"


class BadQuery(HotconfError, ValueError):
    """A handshake query that cannot be served; ``reason`` is sent to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Subscription:
    """Tenants one socket follows; ``wildcard`` = every allowed tenant, also later ones.
    ``readable`` narrows a wildcard to the tenants its credential may read (globs; None =
    no narrowing)."""

    tenants: frozenset[str]
    wildcard: bool = False
    v2: bool = False
    include: tuple[str, ...] = ()
    readable: tuple[str, ...] | None = None

    def may_follow(self, tenant_id: str) -> bool:
        """Whether the wildcard reaches ``tenant_id`` (its credential may read it)."""
        return self.readable is None or tenant_allowed(tenant_id, self.readable)

    def describe(self) -> str:
        names = sorted(self.tenants) + ([WILDCARD] if self.wildcard else [])
        return ",".join(names)


def _text(raw: bytes, name: str) -> str:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise BadQuery(f"query parameter {name!r} must be ASCII, got {raw!r}") from None


def parse_subscription(query: Mapping[str, list[bytes]]) -> Subscription:
    """Parse ``tenant_id`` (repeatable, ``*``), ``protocol`` and ``include`` from raw query
    bytes. Raises ``InvalidTenant`` for a malformed id and ``BadQuery`` for the rest."""
    protocols = {_text(v, "protocol") for v in query.get("protocol", [])}
    if len(protocols) > 1:
        raise BadQuery(f"protocol given more than once with different values: {sorted(protocols)}")
    try:
        v2 = parse_protocol(protocols.pop() if protocols else None) == 2
        include = parse_include(",".join(_text(v, "include") for v in query.get("include", [])))
    except ProtocolError as err:
        raise BadQuery(str(err)) from None
    raws = query.get("tenant_id", [])
    if not raws:
        raise BadQuery("missing query parameter tenant_id (e.g. ?tenant_id=acme)")
    if not v2 and len(raws) > 1:
        raise BadQuery("several tenant_id values need protocol=2")
    tenants: set[str] = set()
    wildcard = False
    for raw in raws:
        if raw == WILDCARD.encode():
            wildcard = True
        else:
            tenants.add(validate_tenant_id(raw))
    if include and not v2:
        raise BadQuery("include needs protocol=2")
    return Subscription(frozenset(tenants), wildcard, v2, tuple(sorted(include)))


__all__ = ["WILDCARD", "BadQuery", "InvalidTenant", "Subscription", "parse_subscription"]
