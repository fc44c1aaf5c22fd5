"""The Jupyter handler base: Jupyter's own authentication and authorization (docs/server.md).

As jupyter_server's kernel socket: ``@ws_authenticated`` plus an explicit
``is_authorized(self, user, "read", "hotconf")`` in ``pre_get``, Jupyter's ``check_origin``
left in force; REST with ``@web.authenticated`` + ``@authorized`` (``auth_resource``).

On these handlers only, the per-server secret ``JUPYTER_HOTCONF_TOKEN`` is also accepted,
as a read-only identity of its own, so kernels can connect under a password or JupyterHub
login. Every other Jupyter API still refuses it: nothing outside this module knows it.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.auth.identity import User
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketHandler

from .credentials import presented_token
from .handlers import InfoLogic, SocketLogic, TenantLogic, TenantsLogic

log = logging.getLogger(__name__)

AUTH_RESOURCE = "hotconf"
SECRET_SETTING = "hotconf_secret"
SECRET_USER = User(
    username="jupyter-hotconf-reader",
    name="jupyter-hotconf kernel token",
    display_name="jupyter-hotconf (read-only)",
)


class SecretAuthorizer:
    """The secret identity may ``read`` the ``hotconf`` resource, and nothing else."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return user is SECRET_USER and action == "read" and resource == AUTH_RESOURCE


class HotconfJupyterMixin:
    """Accept the hotconf secret before Jupyter's identity provider is asked."""

    auth_resource = AUTH_RESOURCE
    _hotconf_secret_auth = False

    def _has_secret(self) -> bool:
        handler: Any = self
        secret = handler.settings.get(SECRET_SETTING) or ""
        token = presented_token(handler)
        return bool(secret and token) and hmac.compare_digest(token, secret)

    async def prepare(self, *args: Any, **kwargs: Any) -> None:
        handler: Any = self
        if not self._has_secret():
            await super().prepare(*args, **kwargs)  # type: ignore[misc]
            return
        if not handler.check_host():
            raise web.HTTPError(403)
        self._hotconf_secret_auth = True
        handler.current_user = handler._jupyter_current_user = SECRET_USER
        handler._token_authenticated = True  # a script with a token: no origin check

    @property
    def authorizer(self) -> Any:
        if self._hotconf_secret_auth:
            return SecretAuthorizer()
        return super().authorizer  # type: ignore[misc]


class JupyterSocket(
    HotconfJupyterMixin, SocketLogic, WebSocketMixin, WebSocketHandler, JupyterHandler
):
    """``{base_url}hotconf/ws``."""

    async def pre_get(self) -> None:
        user = self.current_user
        allowed = await ensure_async(self.authorizer.is_authorized(self, user, "read", "hotconf"))
        if not allowed:
            raise web.HTTPError(403)

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        await self.pre_get()
        if self.handshake():
            await super().get(*args, **kwargs)


class JupyterTenants(HotconfJupyterMixin, TenantsLogic, APIHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        self.serve()


class JupyterTenant(HotconfJupyterMixin, TenantLogic, APIHandler):
    @web.authenticated
    @authorized
    def get(self, tenant_id: str) -> None:
        self.serve(tenant_id)


class JupyterInfo(HotconfJupyterMixin, InfoLogic, APIHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        self.serve()


CLASSES: dict[str, type] = {
    "socket": JupyterSocket,
    "tenants": JupyterTenants,
    "tenant": JupyterTenant,
    "info": JupyterInfo,
}
