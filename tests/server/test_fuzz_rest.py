"""Fuzz the REST side of a running standalone server with hypothesis: tenant ids, revision
numbers and query strings of every read route, rollback bodies and preconditions, odd
methods. Every answer is a 2xx with JSON or a clean 4xx (a JSON reason from our handlers),
never a 5xx or an error in the server's log; after every example the server still answers
and a bystander connected from the start still receives changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .fuzzing import ThreadedServer, example_config_dir, http_get

FUZZ = settings(max_examples=150, deadline=None)
API = "/hotconf/api/"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    srv = ThreadedServer(example_config_dir(tmp_path_factory.mktemp("fuzz-rest") / "configs"))
    yield srv
    srv.close()


segments = st.one_of(
    st.sampled_from(["acme", "globex", "nosuch", "*", "..", "%2e%2e", "acme%00", "a" * 65,
                     "acme%20", "%ff", "-acme", "_", "0", "-1", "99999999999999999999", "1e3",
                     "NaN", "%", "acme.json", ""]),
    st.text(max_size=40).map(lambda s: quote(s, safe="")),
    st.integers().map(str),
)
numbers = st.one_of(st.integers(-(2**70), 2**70).map(str), st.sampled_from(
    ["", "x", "1.5", "1e9", "NaN", "-0", "0x10", " 1", "%00", "∞"]).map(
    lambda s: quote(s, safe="")), st.text(max_size=10).map(lambda s: quote(s, safe="")))
params = st.lists(st.tuples(st.sampled_from(["limit", "before", "from", "to", "view", "x",
                                             "token"]), numbers), max_size=4)
queries = params.map(lambda ps: "&".join(f"{k}={v}" for k, v in ps))
read_targets = st.one_of(
    st.tuples(st.just("tenants"), queries).map(lambda t: f"{t[0]}?{t[1]}"),
    st.tuples(segments, queries).map(lambda t: f"tenants/{t[0]}?{t[1]}"),
    st.tuples(segments, queries).map(lambda t: f"tenants/{t[0]}/history?{t[1]}"),
    st.tuples(segments, numbers).map(lambda t: f"tenants/{t[0]}/revisions/{t[1]}"),
    st.tuples(segments, queries).map(lambda t: f"tenants/{t[0]}/diff?{t[1]}"),
    st.tuples(st.sampled_from(["info", "health"]), queries).map(lambda t: f"{t[0]}?{t[1]}"),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=8,
)
bodies = st.one_of(
    st.builds(lambda v: json.dumps({"revision": v}).encode(), json_values),
    st.builds(lambda n: json.dumps({"revision": n}).encode(), st.integers(-3, 5)),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.binary(max_size=200),
    st.just(b""),
)
etags = st.one_of(st.none(), st.sampled_from(['"x"', "*", '"sha256:0"', "", 'W/"x"']),
                  st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30))


def check(status: int, body: bytes) -> None:
    assert status < 500, (status, body[:300])
    if status < 300:
        json.loads(body)  # every success is JSON
    elif body.startswith(b"{"):
        answer = json.loads(body)
        assert answer.get("reason") or answer.get("message"), answer  # says what was wrong


@FUZZ
@given(target=read_targets, method=st.sampled_from(["GET", "GET", "GET", "HEAD", "OPTIONS",
                                                     "TRACE"]))
def test_read_routes(server: ThreadedServer, target: str, method: str) -> None:
    status, body = http_get(server.port, API + target, method=method)
    check(status, body)
    server.still_serving()


@FUZZ
@given(tenant=st.sampled_from(["acme", "globex", "nosuch"]) | segments, body=bodies, etag=etags,
       content_type=st.sampled_from(["application/json", "text/plain", "", "application/x"]))
def test_rollback_bodies(server: ThreadedServer, tenant: str, body: bytes, etag: str | None,
                         content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    if etag is not None:
        headers["If-Match"] = etag
    status, answer = http_get(server.port, f"{API}tenants/{tenant}/rollback", method="POST",
                              body=body, headers=headers)
    check(status, answer)
    server.still_serving()
