"""The kernel's ConfigSocket against a real ``jupyter-hotconf serve`` with JWTs and TLS
(docs/operations.md): a JWT in ``HOTCONF_TOKEN`` is its bearer token; an expired one closes
the link with ``error`` and the reason, for good (no retry storm); ``https://`` URLs with the
CA bundle from ``HOTCONF_CA_BUNDLE``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from server.keys import (  # tests/server/keys.py (pytest puts tests/ on the path)
    SECRET,
    mint,
    self_signed,
)

from jupyter_hotconf.kernel.backoff import Backoff
from jupyter_hotconf.kernel.client import ConfigSocket
from jupyter_hotconf.kernel.discovery import discover
from jupyter_hotconf.pytest_plugin import Recorder, ServeProcess, wait_until, write_json


def open_socket(url: str, token: str | None) -> tuple[ConfigSocket, Recorder, Recorder]:
    messages, statuses = Recorder(), Recorder()
    source = discover(env={"HOTCONF_URL": url, **({"HOTCONF_TOKEN": token} if token else {})})
    sock = ConfigSocket(source, "acme", on_message=lambda m: messages((m.kind.value, m.body)),
                        on_status=lambda s, e, a: statuses((str(s), e)),
                        backoff=Backoff(base=0.05, cap=0.2))
    return sock.start(), messages, statuses


def test_expired_jwt_is_a_final_error_with_the_reason(serve) -> None:
    proc = serve(f"--jwt-secret={SECRET}", "--heartbeat-interval=0.2")
    sock, messages, statuses = open_socket(proc.base, mint(exp_in=2))
    try:
        messages.wait_for(lambda items: any(k == "Snapshot" for k, _ in items), what="snapshot")
        statuses.wait_for(lambda items: items[-1][0] == "error", what="the error status")
        wait_until(lambda: not sock.alive, what="the link to stop: no retry")
        _status, error = statuses.items[-1]
        assert "token expired" in error and "4401" in error
        assert [s for s, _ in statuses.items].count("connected") == 1
    finally:
        sock.close()


@pytest.fixture
def tls_serve(hotconf_dir: Path, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ServeProcess, Path]]:
    certfile, keyfile = self_signed(tmp_path)
    proc = ServeProcess(hotconf_dir, f"--certfile={certfile}", f"--keyfile={keyfile}")
    proc.ready_url = proc.ready_url.replace("http://", "https://")
    with monkeypatch.context() as m:  # only so that the readiness probe trusts it
        m.setenv("SSL_CERT_FILE", str(certfile))
        proc.start()
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("HOTCONF_CA_BUNDLE", raising=False)
    yield proc, certfile
    proc.stop()


def test_https_url_with_the_ca_bundle(tls_serve, hotconf_dir: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    proc, certfile = tls_serve
    url = f"https://127.0.0.1:{proc.port}/hotconf/"
    untrusting, _, statuses = open_socket(url, None)
    try:  # the control: without the bundle the certificate is refused
        statuses.wait_for(lambda items: any(e and "CERTIFICATE_VERIFY_FAILED" in e
                                            for _, e in items), what="a certificate error")
    finally:
        untrusting.close()

    monkeypatch.setenv("HOTCONF_CA_BUNDLE", str(certfile))
    sock, messages, statuses = open_socket(url, None)
    try:
        messages.wait_for(lambda items: any(k == "Snapshot" for k, _ in items), what="snapshot")
        write_json(hotconf_dir / "private" / "acme.json", {"name": "Over TLS"})
        messages.wait_for(lambda items: any(k == "ConfigChanged" for k, _ in items),
                          what="the change over wss")
        assert ("connected", None) in statuses.items
    finally:
        sock.close()
