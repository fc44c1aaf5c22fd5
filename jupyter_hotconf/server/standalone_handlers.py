"""The standalone handler base: an optional shared token and an origin rule (DESIGN.md §6).

With a token set, every route (``health`` included) wants it as ``Authorization: Bearer``
(or ``token``) or ``?token=``. Origins: any on a loopback bind, else ``allow_origins``.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

from tornado import web
from tornado.websocket import WebSocketHandler

from .handlers import InfoLogic, SocketLogic, TenantLogic, TenantsLogic, write_json_error
from .jupyter_handlers import presented_token

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


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class StandaloneMixin:
    """JSON errors (with the reason) for every standalone handler."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        write_json_error(self, status_code, **kwargs)


class StandaloneSocket(StandaloneMixin, SocketLogic, WebSocketHandler):
    """``/ws`` (the seed's endpoint) and ``/hotconf/ws``."""

    def check_origin(self, origin: str) -> bool:
        settings: Any = self.engine.settings  # StandaloneSettings
        if is_loopback(settings.host) or urlparse(origin).netloc == self.request.host:
            return True
        allowed = settings.allow_origins
        ok = "*" in allowed or origin.rstrip("/") in {o.rstrip("/") for o in allowed}
        if not ok:
            log.warning("hotconf: refused origin %s (not in --allow-origins)", origin)
        return ok

    @token_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        if self.handshake():
            await super().get(*args, **kwargs)


class StandaloneTenants(StandaloneMixin, TenantsLogic, web.RequestHandler):
    @token_authenticated
    def get(self) -> None:
        self.serve()


class StandaloneTenant(StandaloneMixin, TenantLogic, web.RequestHandler):
    @token_authenticated
    def get(self, tenant_id: str) -> None:
        self.serve(tenant_id)


class StandaloneInfo(StandaloneMixin, InfoLogic, web.RequestHandler):
    """``/hotconf/api/info``, and ``/health`` / ``/hotconf/api/health`` (with a status)."""

    @token_authenticated
    def get(self) -> None:
        self.serve()


CLASSES: dict[str, type] = {
    "socket": StandaloneSocket,
    "tenants": StandaloneTenants,
    "tenant": StandaloneTenant,
    "info": StandaloneInfo,
}
