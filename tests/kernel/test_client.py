"""ConfigSocket and the provider's resync rules against a scripted protocol=2 server (wsfake)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from jupyter_hotconf.kernel.backoff import Backoff
from jupyter_hotconf.kernel.client import ConfigSocket, parse_retry_after
from jupyter_hotconf.kernel.discovery import server_source
from jupyter_hotconf.kernel.provider import ConfigProvider
from jupyter_hotconf.pytest_plugin import Recorder, wait_until

from .wsfake import FakeHotconf


class RecordingBackoff(Backoff):
    """Real policy; remembers each delay it handed out."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.delays: list[float] = []

    def next_delay(self, retry_after: float | None = None) -> float:
        d = super().next_delay(retry_after)
        self.delays.append(d)
        return d


@pytest.fixture
def fake() -> Iterator[FakeHotconf]:
    server = FakeHotconf(token="s3cret").start()
    yield server
    server.stop()


def hotconf_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hotconf-")]


def make_socket(
    fake: FakeHotconf, rec: Recorder, status: Recorder, token: str = "s3cret", **kw: object
) -> ConfigSocket:
    src = server_source(fake.base_url, token, "test")
    return ConfigSocket(src, "acme", on_message=lambda m: rec((m.kind.value, m.body)),
                        on_status=lambda s, e, a: status((s, e, a)), **kw).start()  # type: ignore[arg-type]


def test_connects_with_auth_header_and_answers_ping(fake: FakeHotconf) -> None:
    rec, status = Recorder(), Recorder()
    sock = make_socket(fake, rec, status)
    try:
        rec.wait_for(lambda items: any(k == "Snapshot" for k, _ in items), what="snapshot")
        assert fake.headers[0]["Authorization"] == "token s3cret"
        wait_until(lambda: '"Pong"' in fake.received, what="Pong for Ping")
        assert ("connected", None, 0) in status.items
    finally:
        sock.close()
    assert not sock.alive and not hotconf_threads()


def test_401_is_final_error_at_once(fake: FakeHotconf) -> None:
    rec, status = Recorder(), Recorder()
    sock = make_socket(fake, rec, status, token="wrong")
    status.wait_for(lambda items: items and items[-1][0] == "error", what="error")
    wait_until(lambda: not sock.alive, what="socket thread ends: no retry")
    assert "401" in status.items[-1][1]
    assert fake.connects == 0 and len(fake.headers) == 1


def test_close_4403_is_final(fake: FakeHotconf) -> None:
    fake.close_on_open = (4403, "tenant not allowed")
    rec, status = Recorder(), Recorder()
    sock = make_socket(fake, rec, status)
    status.wait_for(lambda items: items and items[-1][0] == "error", what="error")
    wait_until(lambda: not sock.alive, what="no retry")
    assert "forbidden" in status.items[-1][1] and "tenant not allowed" in status.items[-1][1]
    assert fake.connects == 1


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_is_honoured(fake: FakeHotconf, code: int) -> None:
    fake.refuse = (code, {"Retry-After": "1"})
    backoff = RecordingBackoff(uniform=lambda lo, hi: 0.0)  # jitter alone would retry at once
    rec, status = Recorder(), Recorder()
    sock = make_socket(fake, rec, status, backoff=backoff)
    try:
        wait_until(lambda: len(backoff.delays) >= 2, what="two refused attempts")
        assert backoff.delays[:2] == [1.0, 1.0]
        fake.refuse = None
        rec.wait_for(lambda items: bool(items), what="snapshot after the refusals")
    finally:
        sock.close()


def test_retry_after_parsing() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_silent_server_is_a_dead_link_and_reconnects(fake: FakeHotconf) -> None:
    fake.silent = True
    rec, status = Recorder(), Recorder()
    sock = make_socket(fake, rec, status, heartbeat_timeout=0.5,
                       backoff=Backoff(uniform=lambda lo, hi: 0.0))
    try:
        wait_until(lambda: fake.connects >= 2, what="reconnect after the dead link")
        assert any(e and "dead link" in e for _, e, _ in status.items)
    finally:
        sock.close()


def test_provider_no_rollback_on_stale_or_duplicate_revisions(fake: FakeHotconf) -> None:
    changes = Recorder()
    cfg = ConfigProvider("acme", url=fake.base_url, token="s3cret")
    try:
        assert cfg.status == "connected" and cfg.revision == 1
        assert cfg.get("pricing.discount") == 0.1
        cfg.on_change(changes)
        fake.send_all(fake.changed(3, {"pricing": {"discount": 0.3}}))
        changes.wait_for(lambda items: len(items) == 1, what="rev 3")
        fake.send_all(fake.changed(2, {"pricing": {"discount": 0.2}}))  # stale
        fake.send_all(fake.changed(3, {"pricing": {"discount": 0.2}}))  # duplicate
        fake.send_all(fake.changed(1, {"pricing": {"discount": 0.5}}, epoch="e2"))  # restart
        changes.wait_for(lambda items: len(items) == 2, what="new epoch accepted")
        assert [c.revision for c in changes.items] == [3, 1]
        assert cfg["pricing"]["discount"] == 0.5
        assert changes.items[1].changed_paths == ["/pricing/discount"]
    finally:
        cfg.close()
    assert not hotconf_threads()


def test_resync_after_reconnect_fires_exactly_one_callback(fake: FakeHotconf) -> None:
    changes = Recorder()
    cfg = ConfigProvider("acme", url=fake.base_url, token="s3cret", reconnect_delay=0.05)
    try:
        cfg.on_change(changes)
        fake.revision, fake.config = 5, {"pricing": {"discount": 0.9}, "new": 1}
        fake.close_all(4408, "heartbeat timeout")
        changes.wait_for(lambda items: len(items) == 1, what="resync")
        wait_until(lambda: cfg.status == "connected", what="connected again")
        c = changes.items[0]
        assert (c.revision, c.change_type) == (5, "modified")
        assert c.changed_paths == ["/new", "/pricing/discount"]
        assert c.old["pricing"]["discount"] == 0.1 and c.new["new"] == 1
        fake.close_all(4408, "again")  # same revision on the next Snapshot: no callback
        wait_until(lambda: fake.connects >= 3 and cfg.status == "connected", what="third link")
        assert len(changes.items) == 1
    finally:
        cfg.close()


def test_error_after_max_attempts_then_rest_poll_and_recovery() -> None:
    fake = FakeHotconf()
    port = fake.port
    changes = Recorder()
    cfg = ConfigProvider("acme", url=f"http://127.0.0.1:{port}/hotconf/",
                         max_reconnect_attempts=2, reconnect_delay=0.01, connect_timeout=1,
                         retry_interval=0.3)
    try:
        wait_until(lambda: cfg.status == "error", what="error after max attempts")
        assert cfg.reconnect_attempts > 2
        cfg.on_change(changes)
        fake.revision, fake.config = 4, {"back": True}
        fake.start()
        changes.wait_for(lambda items: len(items) >= 1, what="resync after the server is back")
        wait_until(lambda: cfg.status == "connected", what="connected")
        assert cfg.config == {"back": True} and cfg.revision == 4
        assert len(changes.items) == 1
    finally:
        cfg.close()
        fake.stop()


def test_two_handles_share_one_socket_and_the_last_close_ends_it(fake: FakeHotconf) -> None:
    a = ConfigProvider("acme", url=fake.base_url, token="s3cret")
    b = ConfigProvider("acme", url=fake.base_url, token="s3cret")
    seen = Recorder()
    try:
        assert a.shared_link is b.shared_link and fake.connects == 1
        assert len([t for t in hotconf_threads() if t.name.startswith("hotconf-socket-")]) == 1
        a.on_change(lambda c: seen((c.revision, b.revision, b.get("pricing.discount"))))
        for rev in (2, 3, 4):
            fake.send_all(fake.changed(rev, {"pricing": {"discount": rev / 10}}))
        seen.wait_for(lambda items: len(items) == 3, what="three changes")
        assert seen.items == [(2, 2, 0.2), (3, 3, 0.3), (4, 4, 0.4)]
        b.close()
        assert not a.closed and len(fake.sockets) == 1
        fake.send_all(fake.changed(5, {"pricing": {"discount": 0.5}}))
        seen.wait_for(lambda items: len(items) == 4, what="the other handle still follows")
        assert a.revision == 5 and b.revision == 4
    finally:
        a.close()
        b.close()
    assert not hotconf_threads()
    wait_until(lambda: not fake.sockets, what="the server sees the socket closed")
    assert fake.connects == 1
