"""``jupyter-hotconf serve``: the engine on a bare Tornado app, port 7945 (docs/server.md).

Routes: ``/ws`` (the seed's), ``/hotconf/ws``, ``/hotconf/api/{tenants,tenants/<t>,info,
health}``, ``/health`` and ``/metrics``; over TLS with ``--certfile`` (docs/operations.md).
Every setting of ``StandaloneSettings`` is a kebab-case flag, generated from the traits (the
``_s`` unit suffix dropped: ``--heartbeat-interval 5``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import ssl
import sys
from pathlib import Path
from typing import Any

from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from traitlets import Bool, Enum, Float, Int, List, TraitError

from .broker import BrokerUnavailable, check_broker_url
from .engine import HotConfEngine
from .handlers import route_table
from .origins import is_loopback
from .settings import StandaloneSettings
from .standalone_handlers import (
    CLASSES,
    CREDENTIALS,
    StandaloneInfo,
    StandaloneMetrics,
    StandaloneSocket,
)
from .tokens import Credentials

log = logging.getLogger(__name__)

PREFIX = "/hotconf/"


def flag_name(trait_name: str) -> str:
    """``heartbeat_interval_s`` → ``--heartbeat-interval``; ``debounce_ms`` keeps its unit."""
    name = trait_name[:-2] if trait_name.endswith("_s") else trait_name
    return "--" + name.replace("_", "-")


def _split_list(value: str) -> list[str]:
    return [item for item in value.split(",") if item]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting, with the trait's help (units, default, meaning of 0)."""
    traits = StandaloneSettings.class_traits(config=True)
    for name in sorted(traits):
        trait = traits[name]
        help_text = " ".join((trait.help or "").split()).replace("%", "%%")
        kw: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS, "help": help_text}
        if isinstance(trait, Bool) and trait.metadata.get("negatable"):  # default varies
            parser.add_argument(flag_name(name), action=argparse.BooleanOptionalAction, **kw)
        elif isinstance(trait, Bool):
            parser.add_argument(flag_name(name), action="store_true", **kw)
        elif isinstance(trait, List):
            parser.add_argument(flag_name(name), action="extend", type=_split_list,
                                metavar="A,B", **kw)
        elif isinstance(trait, Enum):
            parser.add_argument(flag_name(name), choices=list(trait.values or ()), **kw)
        elif isinstance(trait, Int):
            parser.add_argument(flag_name(name), type=int, metavar="N", **kw)
        elif isinstance(trait, Float):
            parser.add_argument(flag_name(name), type=float, metavar="X", **kw)
        else:
            parser.add_argument(flag_name(name), metavar="VALUE", **kw)


def settings_from_args(args: argparse.Namespace) -> StandaloneSettings:
    """Build the settings; an invalid value raises ``TraitError`` naming the flag."""
    values = {k: v for k, v in vars(args).items() if k in StandaloneSettings.class_trait_names()}
    settings = StandaloneSettings()
    for name, value in values.items():
        try:
            setattr(settings, name, value)
        except TraitError as err:
            raise TraitError(f"{flag_name(name)}: {err}") from None
    return settings


def check_bind(settings: StandaloneSettings) -> None:
    """A non-loopback bind without a token exposes every config: refuse it unless
    ``--no-auth`` says so on purpose."""
    if not is_loopback(settings.host) and not settings.token and not settings.no_auth:
        raise ValueError(
            f"refusing to listen on {settings.host} without a token: set --token (or "
            "HOTCONF_TOKEN), or pass --no-auth to serve every config to the network"
        )


def warn_cleartext(settings: StandaloneSettings) -> None:
    """A token or JWT sent in clear over a network can be read and replayed: say so."""
    secured = settings.token or settings.jwt_secret or settings.jwt_public_key
    if secured and not settings.certfile and not is_loopback(settings.host):
        log.warning("hotconf: tokens travel in clear text to %s: serve TLS with --certfile "
                    "and --keyfile (or put a TLS proxy in front)", settings.host)


def ssl_context(settings: StandaloneSettings) -> ssl.SSLContext | None:
    """The server's TLS context, or None without ``certfile``; a bad file raises
    ``ValueError`` naming it."""
    if not settings.certfile:
        if settings.keyfile:
            raise ValueError("--keyfile needs --certfile")
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.certfile, settings.keyfile or None)
    except (OSError, ssl.SSLError) as err:
        raise ValueError(f"--certfile {settings.certfile} / --keyfile {settings.keyfile}: "
                         f"{err}") from None
    return context


def make_app(engine: HotConfEngine, credentials: Credentials) -> web.Application:
    kwargs = {"engine": engine}
    handlers: list[Any] = [
        ("/ws", StandaloneSocket, kwargs),
        ("/health", StandaloneInfo, kwargs),
        ("/metrics", StandaloneMetrics, kwargs),
        (PREFIX + "api/health", StandaloneInfo, kwargs),
        *route_table(PREFIX, CLASSES, engine),
    ]
    settings: dict[str, Any] = {CREDENTIALS: credentials}
    return web.Application(handlers, **settings)


class StandaloneServer:
    """The engine, the app and its listening sockets; start/stop on the current loop."""

    def __init__(self, settings: StandaloneSettings) -> None:
        check_bind(settings)
        self.settings = settings
        self.credentials = Credentials(settings)
        self.ssl = ssl_context(settings)
        config_dir = Path(settings.config_dir or "configs")
        self.engine = HotConfEngine(settings, config_dir)
        self.app = make_app(self.engine, self.credentials)
        self.http: HTTPServer | None = None
        self.port = settings.port

    def start(self) -> None:
        sockets = bind_sockets(self.settings.port, self.settings.host)
        self.port = sockets[0].getsockname()[1]
        self.engine.start()
        self.http = HTTPServer(self.app, ssl_options=self.ssl)
        self.http.add_sockets(sockets)
        warn_cleartext(self.settings)
        log.info("hotconf: serving %s on %s://%s:%d/ (ws: /ws, /hotconf/ws)",
                 self.engine.config_dir, self.scheme, self.settings.host, self.port)

    @property
    def scheme(self) -> str:
        return "https" if self.ssl is not None else "http"

    @property
    def url(self) -> str:
        host = self.settings.host
        host = f"[{host}]" if ":" in host else host
        return f"{self.scheme}://{host}:{self.port}{PREFIX}"

    async def stop(self) -> None:
        """Stop listening, close every socket, stop the watcher (bounded: 3 s)."""
        if self.http is not None:
            self.http.stop()
        await self.engine.stop()
        if self.http is not None:
            await asyncio.wait_for(self.http.close_all_connections(), 3.0)
            self.http = None


async def _serve(settings: StandaloneSettings) -> None:
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before listening: a stop is never lost
        loop.add_signal_handler(sig, done.set)
    server = StandaloneServer(settings)
    server.start()
    print(f"jupyter-hotconf: serving {server.engine.config_dir} at {server.url} "
          f"(ws: {server.url.replace('http', 'ws', 1)}ws)", flush=True)
    try:
        await done.wait()
    finally:
        await server.stop()


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        settings = settings_from_args(args)
        check_bind(settings)
        Credentials(settings)  # a bad key or cert is an error before anything starts
        ssl_context(settings)
        check_broker_url(settings.broker_url)  # a missing Redis client, before anything
    except (TraitError, ValueError, BrokerUnavailable) as err:
        print(f"jupyter-hotconf serve: error: {err}", file=sys.stderr)
        return 2
    asyncio.run(_serve(settings))
    return 0
