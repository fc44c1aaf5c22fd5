"""The Jupyter handler base: Jupyter's own authentication and authorization (docs/server.md).

As jupyter_server's kernel socket: ``@ws_authenticated`` plus an explicit
``is_authorized(self, user, "read", "hotconf")`` in ``pre_get``, Jupyter's ``check_origin``
left in force; REST with ``@web.authenticated`` + ``@authorized`` (``auth_resource``).

On these handlers only, the per-server secret ``JUPYTER_HOTCONF_TOKEN`` is also accepted,
as an identity of its own that may read and write hotconf (docs/server.md), so kernels can
connect and roll back under a password or JupyterHub login. Every other Jupyter API still
refuses it: nothing outside this module knows it.
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
from .history_handlers import DiffLogic, RevisionLogic, RollbackLogic, TenantHistoryLogic
from .write_handlers import TenantWriteLogic

log = logging.getLogger(__name__)

AUTH_RESOURCE = "hotconf"
SECRET_SETTING = "hotconf_secret"
SECRET_USER = User(
    username="jupyter-hotconf-kernel",
    name="jupyter-hotconf kernel token",
    display_name="jupyter-hotconf (kernel)",
)


class SecretAuthorizer:
    """The secret identity may ``read`` and ``write`` the ``hotconf`` resource, and nothing
    else (``read_only`` still refuses its writes)."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return user is SECRET_USER and action in ("read", "write") and resource == AUTH_RESOURCE


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

    def actor(self) -> str | None:
        """Who writes (``actor`` of history entries and changes): the Jupyter user name."""
        user = getattr(self, "current_user", None)
        return getattr(user, "username", None) or None


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


class JupyterTenant(HotconfJupyterMixin, TenantWriteLogic, TenantLogic, APIHandler):
    """GET needs ``read`` on ``hotconf``; PATCH, PUT and DELETE need ``write`` (``@authorized``
    maps the method to the action)."""

    @web.authenticated
    @authorized
    async def get(self, tenant_id: str) -> None:
        await self.serve_view(tenant_id)

    @web.authenticated
    @authorized
    async def patch(self, tenant_id: str) -> None:
        await self.patch_tenant(tenant_id)

    @web.authenticated
    @authorized
    async def put(self, tenant_id: str) -> None:
        await self.put_tenant(tenant_id)

    @web.authenticated
    @authorized
    async def delete(self, tenant_id: str) -> None:
        await self.delete_tenant(tenant_id)


class JupyterInfo(HotconfJupyterMixin, InfoLogic, APIHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        self.serve()


class JupyterHistory(HotconfJupyterMixin, TenantHistoryLogic, APIHandler):
    @web.authenticated
    @authorized
    async def get(self, tenant_id: str) -> None:
        await self.serve(tenant_id)


class JupyterRevision(HotconfJupyterMixin, RevisionLogic, APIHandler):
    @web.authenticated
    @authorized
    async def get(self, tenant_id: str, revision: str) -> None:
        await self.serve(tenant_id, revision)


class JupyterDiff(HotconfJupyterMixin, DiffLogic, APIHandler):
    @web.authenticated
    @authorized
    async def get(self, tenant_id: str) -> None:
        await self.serve(tenant_id)


class JupyterRollback(HotconfJupyterMixin, RollbackLogic, APIHandler):
    """POST needs ``write`` on ``hotconf`` (``@authorized`` maps POST to write)."""

    @web.authenticated
    @authorized
    async def post(self, tenant_id: str) -> None:
        await self.serve(tenant_id)


CLASSES: dict[str, type] = {
    "socket": JupyterSocket,
    "tenants": JupyterTenants,
    "tenant": JupyterTenant,
    "info": JupyterInfo,
    "history": JupyterHistory,
    "revision": JupyterRevision,
    "diff": JupyterDiff,
    "rollback": JupyterRollback,
}
