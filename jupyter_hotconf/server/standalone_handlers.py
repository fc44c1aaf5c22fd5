"""The standalone handler base: an optional shared token and an origin rule (docs/server.md).

With a token set, every route (``health`` included) wants it as ``Authorization: Bearer``
(or ``token``) or ``?token=``. Browser origins: loopback ones and ``allow_origins`` only, on
every bind and with or without a token (``origins.py`` says why).
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from tornado import web
from tornado.websocket import WebSocketHandler

from ..core.protocol import CloseCode
from .admission import Refusal
from .credentials import presented_token
from .handlers import InfoLogic, SocketLogic, TenantLogic, TenantsLogic, write_json_error
from .history_handlers import DiffLogic, RevisionLogic, RollbackLogic, TenantHistoryLogic
from .origins import OriginPolicy
from .write_handlers import TenantWriteLogic

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def token_authenticated(method: F) -> F:
    """Refuse the request with 401 unless it carries the server's token (if one is set)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        secret = self.engine.settings.token
        if secret and not hmac.compare_digest(presented_token(self), secret):
            log.warning("hotconf: refused %s %s: missing or wrong token",
                        self.request.remote_ip, self.request.path)
            raise web.HTTPError(401, "missing or wrong token (Authorization: Bearer <token>)")
        return method(self, *args, **kwargs)

    wrapper.__hotconf_auth__ = "token"  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


@functools.lru_cache(maxsize=8)
def _policy(allow_origins: tuple[str, ...]) -> OriginPolicy:
    return OriginPolicy(allow_origins)


class StandaloneMixin:
    """JSON errors (with the reason) for every standalone handler."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        write_json_error(self, status_code, **kwargs)

    def actor(self) -> str | None:
        """The static token is one shared identity: ``"token"``; no token, no actor."""
        engine: Any = getattr(self, "engine", None)
        return "token" if engine is not None and engine.settings.token else None


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
        return Refusal(403, CloseCode.FORBIDDEN, reason)

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
