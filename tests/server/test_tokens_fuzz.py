"""Malformed bearer tokens against a real ``jupyter-hotconf serve`` with a JWT secret: every
one is a 401 with a reason, never a 500 (docs/operations.md, "Tokens")."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_hotconf.pytest_plugin import DEADLINE_S, EXAMPLE_DEFAULTS, ServeProcess, write_json

from .keys import SECRET, mint

#: A well-formed token to cut short (its expiry does not matter once it is truncated).
SAMPLE = mint(read=("*",))
#: What a header can carry: printable ASCII (urllib refuses control characters).
PRINTABLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
B64 = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/")

tokens = st.one_of(
    st.integers(1, len(SAMPLE) - 1).map(lambda n: SAMPLE[:n]),  # truncated
    st.lists(st.text(B64, max_size=80), min_size=1, max_size=5).map(".".join),  # base64-ish
    st.text(PRINTABLE, min_size=1, max_size=200),  # garbage
    st.integers(17 * 1024, 40 * 1024).map(lambda n: "e" * n),  # huge
    st.builds(lambda a, b: f"{a}.{b}.{b}", st.text(B64, max_size=40),
              st.text(B64, max_size=40)),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("fuzz") / "configs"
    write_json(root / "defaults.json", EXAMPLE_DEFAULTS)
    write_json(root / "private" / "acme.json", {"name": "Acme"})
    proc = ServeProcess(root, f"--jwt-secret={SECRET}").start()
    yield proc
    proc.stop()


def status_of(url: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=DEADLINE_S) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=tokens)
def test_malformed_tokens_are_401_never_500(server: ServeProcess, token: str) -> None:
    for path in ("/hotconf/api/tenants", "/hotconf/api/tenants/acme", "/metrics"):
        code, body = status_of(server.http + path, token)
        assert code == 401, (path, code, body[:200])
        assert json.loads(body)["reason"], body


def test_the_valid_token_passes(server: ServeProcess) -> None:
    """Minted now: one minted at import would expire while a long suite runs (5 min)."""
    assert status_of(server.http + "/hotconf/api/tenants/acme", mint(read=("*",)))[0] == 200
    assert "Traceback" not in server.tail(200_000)
