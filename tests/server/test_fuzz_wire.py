"""Fuzz the WebSocket side of a running standalone server with hypothesis: handshake query
strings, handshake headers, and frames on an open socket (text, binary, fragmented,
oversized, invalid UTF-8, control frames with payloads, reserved bits, unmasked).

Every answer must be a clean refusal — an HTTP 4xx, one of our close codes, or the
WebSocket layer's own (1002/1007/1008/1009; Tornado ends some protocol violations by
dropping the connection without a close frame, which counts as a refusal too) — never a
5xx, a hang or an error in the server's log; and after every example the server still
answers and a bystander connected from the start still receives changes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tornado.httputil import parse_qs_bytes

from .fuzzing import ThreadedServer, Wire, client_frame, example_config_dir, handshake

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
#: Close codes a refused or misbehaving client may get (docs/protocol.md, "Refusals").
REFUSAL_CODES = {4400, 4403, 4429}
PROTOCOL_CODES = {1002, 1007, 1008, 1009}
MAX_MESSAGE = 4096  # the server's max_message_size (its default)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    srv = ThreadedServer(example_config_dir(tmp_path_factory.mktemp("fuzz") / "configs"),
                         max_message_size=MAX_MESSAGE)
    yield srv
    srv.close()


def close_code(payload: bytes) -> int | None:
    return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None


def check_upgrade(wire: Wire, query: str) -> None:
    """After a 101: under protocol=2 the first frame is a Snapshot or a refusal's close."""
    args = parse_qs_bytes(query, keep_blank_values=True)
    if args.get("protocol", [b""])[0] != b"2":
        return  # seed protocol: nothing is sent until a change or a Ping
    frame = wire.frame()
    assert frame is not None, "closed without a close frame after the upgrade"
    opcode, payload = frame
    if opcode == 0x8:
        assert close_code(payload) in REFUSAL_CODES, payload
    else:
        assert opcode == 0x1 and payload.startswith(b'{"Snapshot":'), payload[:80]


# -- handshake query strings ----------------------------------------------------------------

SAFE_RAW = "abc%&=;+*?/,.-_~!$'()[]:@0123456789"
keys = st.one_of(st.sampled_from(["tenant_id", "protocol", "include", "token", "x"]),
                 st.text(max_size=12).map(lambda s: quote(s, safe="")))
values = st.one_of(
    st.sampled_from(["acme", "globex", "*", "2", "1", "3", "02", "2 ", "config", "patch",
                     "config,patch", "config,,x", "", "nosuch", "acme%00", "acme%0A", "..%2Facme",
                     "a" * 65, "%ff", "%", "%zz", "acme%20", "%E2%80%AE"]),
    st.text(max_size=80).map(lambda s: quote(s, safe="")),
    st.binary(max_size=40).map(lambda b: quote(b, safe="")),
    st.text(alphabet=SAFE_RAW, max_size=12),
)
pairs = st.lists(st.tuples(keys, values), max_size=6)
queries = st.one_of(
    pairs.map(lambda ps: "&".join(f"{k}={v}" for k, v in ps)),
    st.tuples(pairs, st.text(alphabet=SAFE_RAW, max_size=20)).map(
        lambda t: "&".join(f"{k}={v}" for k, v in t[0]) + t[1]),
    st.integers(4000, 20000).map(lambda n: "tenant_id=" + "a" * n + "&protocol=2"),
)


@FUZZ
@given(query=queries, path=st.sampled_from(["/ws", "/hotconf/ws"]))
def test_handshake_query_strings(server: ThreadedServer, query: str, path: str) -> None:
    wire = Wire(server.port)
    try:
        wire.send(handshake(f"{path}?{query}"))
        answer = wire.head()
        assert answer is not None, "closed without an answer"
        status, head = answer
        assert status == 101 or 400 <= status < 500, head
        if status == 101:
            check_upgrade(wire, query)
    finally:
        wire.close()
    server.still_serving()


# -- handshake headers ------------------------------------------------------------------------

header_text = st.text(st.characters(max_codepoint=255, blacklist_characters="\r\n"), max_size=60)
overrides = st.fixed_dictionaries({}, optional={
    "Origin": st.one_of(st.sampled_from(["http://localhost:8888", "https://evil.example",
                                         "null", "http://127.0.0.1", "file://", ""]),
                        header_text),
    "Sec-WebSocket-Version": st.one_of(st.sampled_from(["13", "8", "", "13, 8"]), header_text),
    "Sec-WebSocket-Key": st.one_of(st.sampled_from(["", "short", "A" * 100]), header_text),
    "Upgrade": st.sampled_from(["websocket", "WebSocket", "h2c", "", "websocket, h2c"]),
    "Connection": st.sampled_from(["Upgrade", "upgrade, keep-alive", "keep-alive", "close", ""]),
    "Host": st.one_of(st.sampled_from(["", "evil.example", "127.0.0.1:1"]), header_text),
    "Authorization": st.one_of(st.sampled_from(["Bearer ", "Bearer x", "token x", "Basic !"]),
                               header_text),
    "Sec-WebSocket-Extensions": st.one_of(
        st.sampled_from(["permessage-deflate", "permessage-deflate; client_max_window_bits=99",
                         "x-unknown"]), header_text),
    "Sec-WebSocket-Protocol": header_text,
})
extra_headers = st.lists(
    st.tuples(st.text(alphabet="abcdefghijklmnopqrstuvwxyz-XY", min_size=1, max_size=20),
              header_text), max_size=3)


@FUZZ
@given(over=overrides, extra=extra_headers, drop=st.sets(st.sampled_from(
    ["Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Host"])),
    v2=st.booleans())
def test_handshake_headers(server: ThreadedServer, over: dict[str, str],
                           extra: list[tuple[str, str]], drop: set[str], v2: bool) -> None:
    query = "tenant_id=acme" + ("&protocol=2" if v2 else "")
    headers: dict[str, str | None] = {**over, **{name: None for name in drop}}
    raw_extra = b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in extra)
    wire = Wire(server.port)
    try:
        wire.send(handshake(f"/ws?{query}", headers, raw_extra))  # type: ignore[arg-type]
        answer = wire.head()
        assert answer is not None, "closed without an answer"
        status, head = answer
        assert status == 101 or 400 <= status < 500, head
        if status == 101:
            check_upgrade(wire, query)
    finally:
        wire.close()
    server.still_serving()


# -- frames on an open socket -----------------------------------------------------------------

payloads = st.one_of(
    st.sampled_from([b'"Ping"', b'"Pong"', b'{"Ping":null}', b"{}", b"[]", b"null", b'"x"',
                     b"\xff\xfe", b"\xed\xa0\x80", b"\xc0\xaf", b'{"Ping"', b""]),
    st.binary(max_size=200),
    st.text(max_size=100).map(str.encode),
    st.integers(MAX_MESSAGE - 10, MAX_MESSAGE + 2000).map(lambda n: b'"' + b"P" * n + b'"'),
)
frames = st.builds(
    lambda opcode, payload, fin, rsv, masked, claim: (opcode, payload, fin, rsv, masked, claim),
    opcode=st.sampled_from([0x0, 0x1, 0x1, 0x1, 0x2, 0x3, 0x7, 0x8, 0x9, 0x9, 0xA, 0xB, 0xF]),
    payload=payloads,
    fin=st.booleans() | st.just(True),
    rsv=st.sampled_from([0, 0, 0, 0, 1, 4, 7]),
    masked=st.sampled_from([True, True, True, True, False]),
    claim=st.one_of(st.none(), st.none(), st.none(), st.integers(MAX_MESSAGE + 1, 2**40)),
)


@FUZZ
@given(sequence=st.lists(frames, min_size=1, max_size=5))
def test_frames_on_an_open_socket(server: ThreadedServer,
                                  sequence: list[tuple[int, bytes, bool, int, bool, int | None]]
                                  ) -> None:
    wire = Wire(server.port)
    try:
        wire.send(handshake("/ws?tenant_id=acme&protocol=2"))
        answer = wire.head()
        assert answer is not None and answer[0] == 101
        snapshot = wire.frame()
        assert snapshot is not None and snapshot[1].startswith(b'{"Snapshot":')
        sent_close = False
        for opcode, payload, fin, rsv, masked, claim in sequence:
            if claim is not None:
                payload = payload[:64]  # claims more than the limit: refused at the header
            sent_close |= opcode == 0x8
            if not wire.send(client_frame(opcode, payload, fin=fin, rsv=rsv, masked=masked,
                                          length=claim)):
                break
        nonce = os.urandom(8)
        wire.send(client_frame(0x9, nonce))  # a sentinel: its pong means the socket is sane
        while True:
            frame = wire.frame()
            if frame is None:
                break  # dropped (Tornado's answer to some protocol violations)
            opcode, payload = frame
            if opcode == 0x8:
                code = close_code(payload)
                assert sent_close or code in PROTOCOL_CODES, (code, payload)
                break
            if opcode == 0xA and payload == nonce:
                break  # still open and answering: what it was sent was acceptable
    finally:
        wire.close()
    server.still_serving()
