"""The request logic both apps share, and their one route table (docs/server.md).

Each resource has one logic mixin here (``SocketLogic``, ``TenantsLogic`` …). The Jupyter
extension (``jupyter_handlers``) and the standalone server (``standalone_handlers``) put it
behind their own thin base, which only authenticates: each concrete ``get`` is a decorated
one-liner calling ``serve``. ``scripts/check_auth.py`` fails CI if one is not decorated.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from http.client import responses
from typing import Any

from tornado import httputil
from tornado.web import HTTPError

from ..core.errors import InvalidTenant
from ..core.protocol import CloseCode, close_reason
from ..core.store import TenantState
from ..core.tenants import tenant_allowed, validate_tenant_id
from . import metrics
from .admission import Refusal
from .engine import HotConfEngine
from .hub import Connection
from .subscription import BadQuery, Subscription, parse_subscription

log = logging.getLogger(__name__)

#: route (below the hotconf prefix) → resource name; each app maps names to its classes.
ROUTES: tuple[tuple[str, str], ...] = (
    ("ws", "socket"),
    ("api/tenants", "tenants"),
    ("api/tenants/([^/]+)", "tenant"),
    ("api/info", "info"),
    ("api/tenants/([^/]+)/history", "history"),
    ("api/tenants/([^/]+)/revisions/([^/]+)", "revision"),
    ("api/tenants/([^/]+)/diff", "diff"),
    ("api/tenants/([^/]+)/rollback", "rollback"),
)


def route_table(
    prefix: str, classes: Mapping[str, type], engine: HotConfEngine
) -> list[tuple[str, type, dict[str, Any]]]:
    """``[(pattern, handler class, kwargs)]`` for every route under ``prefix`` (``"hotconf/"``
    or ``"/hotconf/"``); ``classes`` maps resource names to an app's handler classes."""
    kwargs = {"engine": engine}
    return [(prefix + path, classes[name], kwargs) for path, name in ROUTES]


def state_json(state: TenantState, *, config: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tenant_id": state.tenant_id,
        "revision": state.revision,
        "checksum": state.checksum,
        "valid": state.valid,
        "error": state.error.to_dict() if state.error is not None else None,
    }
    if config:
        body["config"] = state.config
    return body


class HotconfLogic:
    """What every hotconf handler holds: the engine, and JSON errors with a reason."""

    engine: HotConfEngine
    request: httputil.HTTPServerRequest

    def initialize(self, engine: HotConfEngine) -> None:
        self.engine = engine

    def read_scope(self) -> tuple[str, ...] | None:
        """Globs of the tenants this request's credential may read; None = every allowed
        one. The standalone base narrows it by a JWT's scopes."""
        return None

    def may_read(self, tenant_id: str) -> bool:
        scope = self.read_scope()
        return scope is None or tenant_allowed(tenant_id, scope)

    def on_finish(self) -> None:
        """Count every write (rollback, PATCH/PUT/DELETE) by how it ended, in both apps."""
        method = self.request.method or ""
        if method in _WRITE_METHODS:
            handler: Any = self
            metrics.count_write(write_result(handler.get_status()))
        super().on_finish()  # type: ignore[misc]

    def send_json(self, body: Any, status: int = 200) -> None:
        handler: Any = self
        handler.set_status(status)
        handler.set_header("Content-Type", "application/json")
        handler.finish(json.dumps(body))

    def tenant_id(self, raw: str) -> str:
        """The tenant of a REST path: 400 with the reason if malformed, 403 if not allowed."""
        try:
            tenant_id = validate_tenant_id(raw)
        except InvalidTenant as err:
            raise HTTPError(400, str(err), reason="Malformed tenant id") from None
        if not self.engine.allowed(tenant_id):
            raise HTTPError(403, f"tenant {tenant_id!r} is not allowed")
        return tenant_id

    def refuse(self, refusal: Refusal) -> None:
        """Answer a plain HTTP request (or a handshake without protocol=2) with the
        refusal's status and a JSON body giving the reason."""
        if refusal.retry_after is not None:
            self.set_header("Retry-After", str(refusal.retry_after))  # type: ignore[attr-defined]
        self.send_json({"message": refusal.reason, "reason": refusal.reason}, refusal.status)


class SocketLogic(HotconfLogic):
    """``hotconf/ws``: handshake checks, then everything is delegated to the hub."""

    conn: Connection | None = None
    _sub: Subscription | None = None
    _refusal: Refusal | None = None

    # Our keepalive is the hub's sweep: switch off Tornado's and WebSocketMixin's ping loops.
    @property
    def ping_interval(self) -> int:
        return 0

    @property
    def ping_timeout(self) -> int:
        return 0

    @property
    def max_message_size(self) -> int:
        """Inbound frame limit for this handler only (above it Tornado closes with
        ``CloseCode.TOO_BIG``)."""
        return int(self.engine.settings.max_message_size)

    def get_compression_options(self) -> dict[str, Any] | None:
        return {} if self.engine.settings.compression else None

    def set_default_headers(self) -> None:
        """No page headers (CSP …) on a socket, as jupyter_server's kernel socket does."""

    def origin_refusal(self) -> Refusal | None:
        """The app's browser-origin rule, checked before anything else of the handshake.
        None here: the Jupyter base leaves it to Jupyter's own ``check_origin``."""
        return None

    def handshake(self) -> bool:
        """Check the origin, parse and admit the subscription. False: refused with HTTP
        status (no protocol=2). Under protocol=2 a refusal is kept and sent as a close code
        by open()."""
        query = self.request.query_arguments
        v2 = query.get("protocol", [b""])[0] == b"2"
        refusal = self.origin_refusal() or self._admit(query)
        if refusal is None:
            return True
        metrics.refused(refusal.kind)
        log.info("hotconf: refused %s: %s", self.request.remote_ip, refusal.reason)
        if v2:
            self._refusal = refusal
            return True
        self.refuse(refusal)
        return False

    def _admit(self, query: dict[str, list[bytes]]) -> Refusal | None:
        try:
            self._sub = parse_subscription(query)
        except InvalidTenant as err:
            return Refusal(400, CloseCode.BAD_TENANT, str(err), kind="bad_request")
        except BadQuery as err:
            return Refusal(400, CloseCode.BAD_TENANT, err.reason, kind="bad_request")
        scope = self.read_scope()
        if scope is not None:
            for tenant in sorted(self._sub.tenants):
                if not tenant_allowed(tenant, scope):
                    return Refusal(403, CloseCode.FORBIDDEN,
                                   f"the token may not read tenant {tenant!r}", kind="scope")
            self._sub = dataclasses.replace(self._sub, readable=scope)
        return self.engine.hub.admit(self.request.remote_ip or "", self._sub)

    def token_expires(self) -> float | None:
        """When this socket's credential expires (seconds since the epoch), None = never;
        the hub's sweep then closes it ``TOKEN_EXPIRED``."""
        return None

    def open(self, *args: Any, **kwargs: Any) -> None:
        socket: Any = self
        if self._refusal is not None or self._sub is None:
            refusal = self._refusal or Refusal(400, CloseCode.BAD_TENANT, "no subscription")
            socket.close(int(refusal.code), close_reason(refusal.reason))
            return
        result = self.engine.hub.register(socket, self._sub, self.request.remote_ip or "",
                                          self.token_expires())
        if isinstance(result, Refusal):
            socket.close(int(result.code), close_reason(result.reason))
            return
        self.conn = result
        self._drop_request_state()

    def _drop_request_state(self) -> None:
        """Per-request state is not needed once the socket is open (≈2.5 KiB each)."""
        handler: Any = self
        request = self.request
        request.headers = httputil.HTTPHeaders()
        request.arguments, request.query_arguments, request.body_arguments = {}, {}, {}
        handler.path_args, handler.path_kwargs = [], {}
        handler.open_args, handler.open_kwargs = (), {}
        handler.ui = None

    def on_message(self, message: str | bytes) -> None:
        if self.conn is not None:
            self.engine.hub.received(self.conn, message)

    def on_pong(self, data: bytes) -> None:
        if self.conn is not None:
            self.engine.hub.received(self.conn, None)

    def on_ping(self, data: bytes) -> None:
        if self.conn is not None:
            self.engine.hub.received(self.conn, None)

    def on_close(self) -> None:
        if self.conn is not None:
            self.engine.hub.unregister(self.conn)
            self.conn = None


class TenantsLogic(HotconfLogic):
    """``GET api/tenants`` → ``[{tenant_id, revision, checksum, valid, error}]``."""

    def serve(self) -> None:
        self.send_json([state_json(s, config=False) for s in self.engine.tenants()
                        if self.may_read(s.tenant_id)])


class TenantLogic(HotconfLogic):
    """``GET api/tenants/{t}`` → the tenant with its merged last-known-good config;
    ``ETag`` is the checksum (``If-None-Match`` → 304)."""

    def serve(self, raw: str) -> None:
        tenant_id = self.tenant_id(raw)
        state = self.engine.tenant(tenant_id)
        if state is None or not state.exists:
            raise HTTPError(404, f"no config file for tenant {tenant_id!r}")
        handler: Any = self
        if state.checksum:
            handler.set_header("ETag", f'"{state.checksum}"')
            if handler.check_etag_header():
                handler.set_status(304)
                handler.finish()
                return
        self.send_json(state_json(state, config=True))


class InfoLogic(HotconfLogic):
    """``GET api/info`` → version, mode, watcher kind, config dir presence, counts."""

    def serve(self) -> None:
        self.send_json(self.engine.info())


_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_WRITE_RESULTS = {401: "forbidden", 403: "forbidden", 404: "not_found", 409: "conflict",
                  412: "conflict", 422: "invalid", 504: "timeout"}


def write_result(status: int) -> str:
    """The ``hotconf_writes_total`` result of a write answered with ``status``."""
    if status < 300:
        return "ok"
    return _WRITE_RESULTS.get(status, "error" if status >= 500 else "bad_request")


def write_json_error(handler: Any, status_code: int, **kwargs: Any) -> None:
    """JSON errors with the reason, for handlers outside Jupyter's ``APIHandler``."""
    message = responses.get(status_code, "Unknown HTTP Error")
    exc = kwargs.get("exc_info", (None, None, None))[1]
    reason = exc.log_message if isinstance(exc, HTTPError) and exc.log_message else message
    handler.set_header("Content-Type", "application/json")
    handler.finish(json.dumps({"message": reason, "reason": reason}))
