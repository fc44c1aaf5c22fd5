"""Every server setting (docs/server.md, "Settings") as a documented, validated trait.

The same traits configure the Jupyter extension (``c.HotConf.*``, through ``HotConf``'s
inheritance) and the standalone server (``jupyter-hotconf serve --kebab-case-flags``, which
are generated from these traits so the two can never drift apart).
"""

from __future__ import annotations

import os
from typing import Any

from traitlets import Bool, Enum, Float, Int, List, TraitError, Unicode, default, validate
from traitlets.config import Configurable

from ..core.documents import DEFAULT_MAX_FILE_BYTES
from ..core.protocol import CloseCode
from .limits import HubLimits

MODES = ("dev", "demo", "prod")
WATCHERS = ("auto", "native", "polling")

_NON_NEGATIVE = (
    "debounce_ms",
    "max_wait_ms",
    "reconcile_interval_s",
    "max_connections_per_tenant",
    "max_connections",
    "max_connects_per_second",
    "max_messages_per_second",
    "max_pending_bytes",
    "history_max_revisions",
    "history_max_age_days",
)
_POSITIVE = ("poll_interval_s", "heartbeat_interval_s", "heartbeat_timeout_s",
             "max_message_size", "max_file_bytes", "write_timeout_s", "leader_lease_ms")
#: ``history`` value that turns the history off.
HISTORY_OFF = "none"


class HotConfSettings(Configurable):
    """Settings shared by the Jupyter extension and the standalone server."""

    config_dir = Unicode(
        "",
        help="""Directory holding defaults.*, schema.json and private/<tenant>.*.
        Default '' means `configs` under the Jupyter server root (ServerApp.root_dir),
        or under the working directory for `jupyter-hotconf serve`.""",
    ).tag(config=True)

    mode = Enum(
        list(MODES),
        "dev",
        help="dev | demo | prod. Sent to clients in Snapshot and GET info; in prod the "
        "JupyterLab status item and kernel indicators hide themselves. Default dev.",
    ).tag(config=True)

    debounce_ms = Int(
        100,
        help="Quiet window in milliseconds after the last file event before reloading. "
        "Default 100; 0 = reload as soon as a batch of events is read.",
    ).tag(config=True)

    max_wait_ms = Int(
        1000,
        help="Upper bound in milliseconds on the debounce, so a file written continuously "
        "still reloads. Default 1000; 0 = no cap.",
    ).tag(config=True)

    watcher = Enum(
        list(WATCHERS),
        "auto",
        help="auto | native | polling. auto uses inotify (or the platform's native API) and "
        "falls back to polling on network/FUSE filesystems or when inotify cannot start.",
    ).tag(config=True)

    poll_interval_s = Float(
        1.0, help="Seconds between scans of the polling observer. Default 1.0; must be > 0."
    ).tag(config=True)

    reconcile_interval_s = Float(
        30.0,
        help="Seconds between reconcile scans that repair a missed event. Default 30; 0 = off.",
    ).tag(config=True)

    heartbeat_interval_s = Float(
        5.0,
        help="Seconds between heartbeat sweeps: each sends \"Ping\" and a protocol ping to "
        "every client. Default 5; must be > 0.",
    ).tag(config=True)

    heartbeat_timeout_s = Float(
        10.0,
        help="Seconds of silence (no frame, not even a protocol pong) after which a client "
        f"is closed with {CloseCode.HEARTBEAT_TIMEOUT:d}. Default 10; must be > 0.",
    ).tag(config=True)

    allowed_tenants = List(
        Unicode(),
        ["*"],
        help="Glob patterns (fnmatch, case-sensitive) of the tenants clients may follow. "
        "Default ['*'] = every tenant; [] = none. Others are refused with 403 / "
        f"{CloseCode.FORBIDDEN:d}.",
    ).tag(config=True)

    max_connections_per_tenant = Int(
        1000,
        help="Open sockets following one tenant (a `*` socket counts for none). Over it: "
        f"429 / {CloseCode.TOO_MANY:d}. Default 1000; 0 = no limit.",
    ).tag(config=True)

    max_connections = Int(
        10000,
        help=f"Open sockets in total. Over it: 429 / {CloseCode.TOO_MANY:d}. Default 10000; "
        "0 = no limit.",
    ).tag(config=True)

    max_connects_per_second = Float(
        0.0,
        help="New sockets per second per client address (token bucket, burst = the rate). "
        "Default 0 = off, since every kernel of a server connects from the same loopback "
        "address.",
    ).tag(config=True)

    max_message_size = Int(
        4096,
        help="Largest inbound frame in bytes, set on the hotconf WebSocket handler only "
        f"(not app-wide). Larger frames close the socket with {CloseCode.TOO_BIG:d}. Default "
        "4096 (4 KiB).",
    ).tag(config=True)

    max_messages_per_second = Int(
        50,
        help="Inbound frames a client may send per second before it is closed with "
        f"{CloseCode.POLICY:d} (flood). Default 50; 0 = no limit.",
    ).tag(config=True)

    max_pending_bytes = Int(
        16 * 1024 * 1024,
        help="Bytes queued for a client that it has not read yet; over it the client is "
        f"closed with {CloseCode.SLOW_CONSUMER:d} (slow consumer). One frame is always let "
        "onto an empty queue. Default 16 MiB; 0 = no limit.",
    ).tag(config=True)

    max_file_bytes = Int(
        DEFAULT_MAX_FILE_BYTES,
        help="Config files larger than this many bytes are refused as invalid. Default 10 MiB.",
    ).tag(config=True)

    compression = Bool(
        False,
        help="Offer permessage-deflate on the hotconf WebSocket. Default off: frames are "
        "small and compression costs CPU and memory per connection.",
    ).tag(config=True)

    history = Unicode(
        "",
        help="Path of the history database (revisions, audit trail, rollback; "
        "docs/history.md). Default '' = <jupyter data dir>/hotconf/history-<12 hex of the "
        "config dir's real path>.sqlite, one file per config dir shared by every process on "
        "it; 'none' = no history (the epoch is then new at every start).",
    ).tag(config=True)

    history_max_revisions = Int(
        1000,
        help="Revisions kept per tenant in the history; the current one is always kept. "
        "Default 1000; 0 = no limit.",
    ).tag(config=True)

    history_max_age_days = Float(
        90.0,
        help="Days a revision is kept in the history (the current one is always kept). "
        "Default 90; 0 = forever.",
    ).tag(config=True)

    read_only = Bool(
        help="Refuse every write through the server (rollback, …) with 403 and this reason. "
        "Default: true in mode prod, false in dev and demo.",
    ).tag(config=True, negatable=True)  # serve --read-only / --no-read-only

    write_timeout_s = Float(
        10.0,
        help="Seconds a write (rollback, …) waits for the watcher to apply the written file "
        "before it answers 504 naming the written checksum (the file stays written). "
        "Default 10; must be > 0.",
    ).tag(config=True)

    metrics_per_tenant = Bool(
        False,
        help="Label hotconf_changes_total and hotconf_tenants with the tenant id (one series "
        "per tenant: mind the cardinality with many tenants). Default off.",
    ).tag(config=True)

    broker_url = Unicode(
        "",
        help="Where servers share one change stream (docs/scale-out.md). Default '' = "
        "in-process (this server alone); 'redis://[:password@]host:port/db' (or rediss://) "
        "= every server with the same URL and broker_namespace follows one leader that "
        "watches the files. Needs `pip install jupyter_hotconf[redis]`.",
    ).tag(config=True)

    broker_namespace = Unicode(
        "hotconf",
        help="Prefix of every Redis key of this group of servers (<ns>:leader, "
        "<ns>:changes, <ns>:tenant:<t> …). Default hotconf.",
    ).tag(config=True)

    leader_lease_ms = Int(
        5000,
        help="Milliseconds the Redis leader's lease lasts; renewed every third of it. A "
        "follower takes over within about this long after a leader dies. Default 5000; "
        "must be > 0.",
    ).tag(config=True)

    @validate("broker_url")
    def _check_broker_url(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"]).strip()
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise TraitError(f"broker_url must be '' or redis://…, rediss://…, got {value!r}")
        return value

    @default("read_only")
    def _read_only_default(self) -> bool:
        return bool(self.mode == "prod")

    @validate(*_NON_NEGATIVE)
    def _check_non_negative(self, proposal: dict[str, Any]) -> Any:
        value = proposal["value"]
        if value < 0:
            raise TraitError(f"{proposal['trait'].name} must be >= 0, got {value!r}")
        return value

    @validate(*_POSITIVE)
    def _check_positive(self, proposal: dict[str, Any]) -> Any:
        value = proposal["value"]
        if value <= 0:
            raise TraitError(f"{proposal['trait'].name} must be > 0, got {value!r}")
        return value

    def watcher_options(self) -> dict[str, Any]:
        """The watcher's view of these settings (``FileWatcher`` keyword arguments)."""
        return {
            "debounce_ms": self.debounce_ms,
            "max_wait_ms": self.max_wait_ms,
            "watcher": self.watcher,
            "poll_interval_s": self.poll_interval_s,
            "reconcile_interval_s": self.reconcile_interval_s,
            "max_file_bytes": self.max_file_bytes,
        }

    def history_options(self) -> dict[str, Any]:
        """The history's view of these settings (``HistoryStore`` keyword arguments)."""
        return {
            "max_revisions": self.history_max_revisions,
            "max_age_days": self.history_max_age_days,
        }

    def hub_limits(self) -> HubLimits:
        """The hub's view of these settings."""
        return HubLimits(
            heartbeat_interval_s=self.heartbeat_interval_s,
            heartbeat_timeout_s=self.heartbeat_timeout_s,
            allowed_tenants=tuple(self.allowed_tenants),
            max_connections_per_tenant=self.max_connections_per_tenant,
            max_connections=self.max_connections,
            max_connects_per_second=self.max_connects_per_second,
            max_messages_per_second=self.max_messages_per_second,
            max_pending_bytes=self.max_pending_bytes,
            mode=self.mode,
        )


class StandaloneSettings(HotConfSettings):
    """The standalone server's extra settings: where it listens and who may talk to it."""

    host = Unicode(
        "127.0.0.1",
        help="Address to bind. A non-loopback address needs --token (or --no-auth).",
    ).tag(config=True)

    port = Int(7945, help="TCP port to listen on. Default 7945; 0 = any free port.").tag(
        config=True
    )

    token = Unicode(
        help="Secret clients must present as `Authorization: Bearer <t>` (or `token <t>`) or "
        "`?token=<t>`. Default: $HOTCONF_TOKEN, else none.",
    ).tag(config=True)

    allow_origins = List(
        Unicode(),
        [],
        help="Browser origins (besides loopback ones) allowed to open a socket, on any bind "
        "and with or without a token: exact origins ('https://app.example.com') or globs "
        "('https://*.example.com'); '*' allows every origin. Requests without an Origin "
        "header (scripts, kernels) are always accepted. Default: loopback origins only.",
    ).tag(config=True)

    no_auth = Bool(
        False, help="Allow a non-loopback bind without a token (anyone on the network reads "
        "every allowed tenant's config)."
    ).tag(config=True)

    jwt_secret = Unicode(
        help="Accept JSON Web Tokens signed with this HS256 secret as bearer tokens, scoped by "
        "their `hotconf` claim (docs/operations.md). Default: $HOTCONF_JWT_SECRET, else none. "
        "Not together with --jwt-public-key.",
    ).tag(config=True)

    jwt_public_key = Unicode(
        "",
        help="Path of a PEM public key (RSA for RS256, EC for ES256): accept JSON Web Tokens "
        "signed with its private key. Default none. Not together with --jwt-secret.",
    ).tag(config=True)

    jwt_audience = Unicode(
        "", help="Required `aud` claim of JSON Web Tokens. Default '' = not checked."
    ).tag(config=True)

    jwt_issuer = Unicode(
        "", help="Required `iss` claim of JSON Web Tokens. Default '' = not checked."
    ).tag(config=True)

    certfile = Unicode(
        "",
        help="PEM certificate (chain) to serve https:// and wss:// with. Default '' = plain "
        "http:// and ws://.",
    ).tag(config=True)

    keyfile = Unicode(
        "", help="PEM private key of --certfile. Default '' = the key is in the certfile."
    ).tag(config=True)

    @default("jwt_secret")
    def _jwt_secret_default(self) -> str:
        return os.environ.get("HOTCONF_JWT_SECRET", "")

    @default("token")
    def _token_default(self) -> str:
        return os.environ.get("HOTCONF_TOKEN", "")

    @validate("port")
    def _check_port(self, proposal: dict[str, Any]) -> int:
        port = int(proposal["value"])
        if not 0 <= port <= 65535:
            raise TraitError(f"port must be in 0..65535, got {port}")
        return port
