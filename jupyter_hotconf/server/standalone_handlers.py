"""The standalone handler base: an optional shared token and an origin rule (docs/server.md).

With a token set, every route (``health`` included) wants it as ``Authorization: Bearer``
(or ``token``) or ``?token=``; with ``--jwt-secret``/``--jwt-public-key`` a scoped JSON Web
Token is taken there too (``tokens.py``, docs/operations.md). Browser origins: loopback ones
and ``allow_origins`` only, on every bind and with or without a token (``origins.py`` says
why).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from tornado import web
from tornado.websocket import WebSocketHandler

from ..core.errors import InvalidTenant
from ..core.protocol import CloseCode
from ..core.tenants import validate_tenant_id
from . import metrics
from .admission import Refusal
from .credentials import presented_token
from .handlers import InfoLogic, SocketLogic, TenantLogic, TenantsLogic, write_json_error
from .history_handlers import DiffLogic, RevisionLogic, RollbackLogic, TenantHistoryLogic
from .origins import OriginPolicy
from .tokens import ANONYMOUS, Credentials, Grant, TokenRefused
from .write_handlers import TenantWriteLogic

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


#: The application setting holding the server's ``Credentials``.
CREDENTIALS = "hotconf_credentials"
_WRITE_VERBS = frozenset({"post", "put", "patch", "delete"})


def token_authenticated(method: F) -> F:
    """Refuse the request with 401 unless it carries the server's token or a valid JWT
    (when either is set), and with 403 when a JWT's scopes do not cover the tenant in the
    path: ``read`` for GET, ``write`` for POST/PUT/PATCH/DELETE."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        credentials: Credentials = self.settings[CREDENTIALS]
        try:
            self.grant = credentials.check(presented_token(self))
        except TokenRefused as err:
            metrics.refused("token")
            log.warning("hotconf: refused %s %s: %s", self.request.remote_ip,
                        self.request.path, err.reason)
            raise web.HTTPError(401, f"{err.reason} (Authorization: Bearer <token>)") from None
        tenant_id = _path_tenant(args)
        if tenant_id is not None:
            write = method.__name__ in _WRITE_VERBS
            if not (self.grant.may_write if write else self.grant.may_read)(tenant_id):
                metrics.refused("scope")
                raise web.HTTPError(403, f"the token may not {'write' if write else 'read'} "
                                         f"tenant {tenant_id!r}")
        return method(self, *args, **kwargs)

    wrapper.__hotconf_auth__ = "token"  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _path_tenant(args: tuple[Any, ...]) -> str | None:
    """The tenant id a route's path names (its first argument), if well formed; a
    malformed one is left to the handler's 400."""
    if not args or not isinstance(args[0], str):
        return None
    try:
        return validate_tenant_id(args[0])
    except InvalidTenant:
        return None


@functools.lru_cache(maxsize=8)
def _policy(allow_origins: tuple[str, ...]) -> OriginPolicy:
    return OriginPolicy(allow_origins)


class StandaloneMixin:
    """JSON errors (with the reason) for every standalone handler, and what its credential
    (``grant``, set by ``token_authenticated``) may do."""

    grant: Grant = ANONYMOUS

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        write_json_error(self, status_code, **kwargs)

    def actor(self) -> str | None:
        """A JWT's ``sub``; the static token is one shared identity, ``"token"``; no
        token, no actor."""
        return self.grant.subject

    def read_scope(self) -> tuple[str, ...] | None:
        return None if self.grant.everything else self.grant.read

    def token_expires(self) -> float | None:
        return self.grant.expires


class StandaloneSocket(StandaloneMixin, SocketLogic, WebSocketHandler):
    """``/ws`` (the seed's endpoint) and ``/hotconf/ws``."""

    def check_origin(self, origin: str) -> bool:
        """Tornado's origin hook always passes: ``origin_refusal`` has decided already, in
        the handshake, so that a protocol=2 client is told why (close
        ``CloseCode.FORBIDDEN``, not a bare 403)."""
        return True

    def origin_refusal(self) -> Refusal | None:
        settings: Any = self.engine.settings  # StandaloneSettings
        origin = self.request.headers.get("Origin")
        reason = _policy(tuple(settings.allow_origins)).refusal(origin)
        if reason is None:
            return None
        log.warning("hotconf: refused %s from origin %s (not loopback, not in --allow-origins)",
                    self.request.remote_ip, origin)
        return Refusal(403, CloseCode.FORBIDDEN, reason, kind="origin")

    @token_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        if self.handshake():
            await super().get(*args, **kwargs)


class StandaloneTenants(StandaloneMixin, TenantsLogic, web.RequestHandler):
    @token_authenticated
    def get(self) -> None:
        self.serve()


class StandaloneTenant(StandaloneMixin, TenantWriteLogic, TenantLogic, web.RequestHandler):
    """The token (when set) may read and write."""

    @token_authenticated
    async def get(self, tenant_id: str) -> None:
        await self.serve_view(tenant_id)

    @token_authenticated
    async def patch(self, tenant_id: str) -> None:
        await self.patch_tenant(tenant_id)

    @token_authenticated
    async def put(self, tenant_id: str) -> None:
        await self.put_tenant(tenant_id)

    @token_authenticated
    async def delete(self, tenant_id: str) -> None:
        await self.delete_tenant(tenant_id)


class StandaloneInfo(StandaloneMixin, InfoLogic, web.RequestHandler):
    """``/hotconf/api/info``, and ``/health`` / ``/hotconf/api/health`` (with a status)."""

    @token_authenticated
    def get(self) -> None:
        self.serve()


class StandaloneMetrics(StandaloneMixin, web.RequestHandler):
    """``GET /metrics``: every Prometheus metric (``metrics.py``), under the token rule."""

    def initialize(self, engine: Any) -> None:
        self.engine = engine

    @token_authenticated
    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(REGISTRY))


class StandaloneHistory(StandaloneMixin, TenantHistoryLogic, web.RequestHandler):
    @token_authenticated
    async def get(self, tenant_id: str) -> None:
        await self.serve(tenant_id)


class StandaloneRevision(StandaloneMixin, RevisionLogic, web.RequestHandler):
    @token_authenticated
    async def get(self, tenant_id: str, revision: str) -> None:
        await self.serve(tenant_id, revision)


class StandaloneDiff(StandaloneMixin, DiffLogic, web.RequestHandler):
    @token_authenticated
    async def get(self, tenant_id: str) -> None:
        await self.serve(tenant_id)


class StandaloneRollback(StandaloneMixin, RollbackLogic, web.RequestHandler):
    @token_authenticated
    async def post(self, tenant_id: str) -> None:
        await self.serve(tenant_id)


CLASSES: dict[str, type] = {
    "socket": StandaloneSocket,
    "tenants": StandaloneTenants,
    "tenant": StandaloneTenant,
    "info": StandaloneInfo,
    "history": StandaloneHistory,
    "revision": StandaloneRevision,
    "diff": StandaloneDiff,
    "rollback": StandaloneRollback,
}
