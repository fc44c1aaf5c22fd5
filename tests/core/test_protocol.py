"""Wire frames byte for byte against the seed's shape (docs/protocol.md), decode tolerance."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_hotconf.core import protocol
from jupyter_hotconf.core.errors import InvalidDocument, ProtocolError
from jupyter_hotconf.core.loading import LoadResult
from jupyter_hotconf.core.protocol import (
    PING,
    PONG,
    CloseCode,
    MessageKind,
    config_changed,
    config_invalid,
    config_valid,
    decode,
    encode,
    frames_for,
    parse_include,
    parse_protocol,
    seed_frame_for,
    snapshot,
)
from jupyter_hotconf.core.store import Change, ChangeType, ConfigStore

TS = "2026-11-26T10:00:00.123Z"
SUM = "sha256:" + "ab" * 32


def change(kind: ChangeType, **fields: Any) -> Change:
    base: dict[str, Any] = dict(
        tenant_id="acme", change_type=kind, revision=7, epoch="e1", checksum=SUM, timestamp=TS,
        old={"pricing": {"discount": 0.1}}, new={"pricing": {"discount": 0.2}},
        patch=[{"op": "replace", "path": "/pricing/discount", "value": 0.2}],
        changed_paths=["/pricing/discount"],
    )
    base.update(fields)
    return Change(**base)


ERROR = InvalidDocument("expected ',' or '}'", file="private/acme.json", line=3, column=5)


def test_config_changed_exact_bytes() -> None:
    frame = encode(config_changed(change(ChangeType.MODIFIED)))
    assert frame == (
        '{"ConfigChanged":{"tenant_id":"acme","change_type":"modified","revision":7,'
        f'"epoch":"e1","checksum":"{SUM}","changed_paths":["/pricing/discount"],'
        f'"timestamp":"{TS}"}}}}'
    )
    # The seed's own prefix, byte for byte: a seed client sees what it always saw.
    assert frame.startswith('{"ConfigChanged":{"tenant_id":"acme","change_type":"modified",')


def test_config_changed_include_config_and_patch_exact_bytes() -> None:
    frame = encode(frames_for(change(ChangeType.MODIFIED), include=parse_include("patch,config")))
    assert frame.endswith(
        f'"timestamp":"{TS}","config":{{"pricing":{{"discount":0.2}}}},'
        '"patch":[{"op":"replace","path":"/pricing/discount","value":0.2}]}}'
    )
    only_config = json.loads(encode(config_changed(change(ChangeType.CREATED), include=["config"])))
    assert "patch" not in only_config["ConfigChanged"]
    assert only_config["ConfigChanged"]["change_type"] == "created"


def test_deleted_frame_has_null_checksum_and_config() -> None:
    deleted = change(ChangeType.DELETED, checksum=None, new=None)
    frame = encode(config_changed(deleted, include={"config"}))
    assert '"change_type":"deleted"' in frame
    assert json.loads(frame)["ConfigChanged"]["checksum"] is None
    assert frame.endswith(',"config":null}}')


def test_ping_pong_and_unicode_is_not_escaped() -> None:
    assert (PING, PONG) == ('"Ping"', '"Pong"')
    assert encode(MessageKind.PING.value) == PING
    assert encode({"X": {"name": "Zürich ✓"}}) == '{"X":{"name":"Zürich ✓"}}'


def test_config_invalid_and_valid_exact_bytes() -> None:
    assert encode(config_invalid("acme", ERROR)) == (
        '{"ConfigInvalid":{"tenant_id":"acme","file":"private/acme.json","line":3,"column":5,'
        '"pointer":null,"message":"expected \',\' or \'}\'"}}'
    )
    schema_error = InvalidDocument("0.9 is greater than 0.5", file="schema.json",
                                   pointer="/pricing/discount")
    assert encode(config_invalid("acme", schema_error)) == (
        '{"ConfigInvalid":{"tenant_id":"acme","file":"schema.json","line":null,"column":null,'
        '"pointer":"/pricing/discount","message":"0.9 is greater than 0.5"}}'
    )
    assert encode(config_valid("acme", 7, SUM)) == (
        f'{{"ConfigValid":{{"tenant_id":"acme","revision":7,"checksum":"{SUM}"}}}}'
    )


def test_snapshot_exact_bytes_known_unknown_and_invalid_tenant() -> None:
    assert encode(snapshot(None, "ghost", epoch="e1", mode="dev")) == (
        '{"Snapshot":{"tenant_id":"ghost","revision":0,"checksum":null,"epoch":"e1",'
        '"exists":false,"valid":true,"error":null,"config":null,"mode":"dev"}}'
    )
    store = ConfigStore(epoch="e1")
    made = store.apply(LoadResult("acme", True, config={"a": [1, 2]}))
    store.apply(LoadResult("acme", True, error=ERROR))
    frame = encode(snapshot(store.get("acme"), "acme", epoch=store.epoch, mode="prod"))
    assert frame == (
        f'{{"Snapshot":{{"tenant_id":"acme","revision":1,"checksum":"{made.checksum}",'
        '"epoch":"e1","exists":true,"valid":false,"error":{"file":"private/acme.json",'
        '"line":3,"column":5,"pointer":null,"message":"expected \',\' or \'}\'"},'
        '"config":{"a":[1,2]},"mode":"prod"}}'
    )


def test_frames_for_maps_every_change_type() -> None:
    assert next(iter(frames_for(change(ChangeType.CREATED)) or {})) == "ConfigChanged"
    assert next(iter(frames_for(change(ChangeType.DELETED)) or {})) == "ConfigChanged"
    invalid = frames_for(change(ChangeType.INVALID, error=ERROR, patch=[], changed_paths=[]))
    assert invalid == config_invalid("acme", ERROR)
    assert frames_for(change(ChangeType.RECOVERED)) == config_valid("acme", 7, SUM)
    assert frames_for(change(ChangeType.UNCHANGED)) is None
    with pytest.raises(ProtocolError, match="no error"):
        frames_for(change(ChangeType.INVALID))
    # Seed clients only ever get ConfigChanged.
    assert seed_frame_for(change(ChangeType.INVALID, error=ERROR)) is None
    assert seed_frame_for(change(ChangeType.RECOVERED)) is None
    modified = change(ChangeType.MODIFIED)
    assert seed_frame_for(modified) == config_changed(modified)
    with pytest.raises(ProtocolError, match="'invalid' change is not a ConfigChanged"):
        config_changed(change(ChangeType.INVALID))


def test_frames_from_a_real_store_round_trip() -> None:
    store = ConfigStore()
    frames = [
        frames_for(store.apply(result), include={"config", "patch"})
        for result in (
            LoadResult("acme", True, config={"a": 1}),
            LoadResult("acme", True, config={"a": 1}),
            LoadResult("acme", True, error=ERROR),
            LoadResult("acme", True, config={"a": 1}),
            LoadResult("acme", True, config={"a": 2}),
            LoadResult("acme", False),
        )
    ]
    decoded = [decode(encode(f)) if f is not None else None for f in frames]
    assert [d[0].value if d and d[0] else None for d in decoded] == [
        "ConfigChanged", None, "ConfigInvalid", "ConfigValid", "ConfigChanged", "ConfigChanged"
    ]
    last = decoded[-1]
    assert last is not None and last[1] is not None
    assert (last[1]["change_type"], last[1]["revision"], last[1]["patch"]) == (
        "deleted", 3, [{"op": "remove", "path": "/a"}]
    )


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        ('"Ping"', MessageKind.PING),
        (b'"Pong"', MessageKind.PONG),
        ('{"Ping":null}', MessageKind.PING),
        ('{"ConfigChanged":{"tenant_id":"my-tenant","change_type":"modified"}}',
         MessageKind.CONFIG_CHANGED),
        ('{"ConfigValid":{"tenant_id":"a","revision":2,"checksum":null,"later":1}}',
         MessageKind.CONFIG_VALID),
    ],
)
def test_decode_known(frame: str | bytes, kind: MessageKind) -> None:
    got_kind, body = decode(frame)
    assert got_kind is kind and isinstance(body, dict)


def test_decode_keeps_unknown_fields_and_ignores_unknown_messages() -> None:
    kind, body = decode('{"ConfigChanged":{"tenant_id":"a","change_type":"modified","x":[1]}}')
    assert kind is MessageKind.CONFIG_CHANGED and body == {
        "tenant_id": "a", "change_type": "modified", "x": [1]
    }
    assert decode('"Hello"') == (None, None)
    assert decode('{"FutureThing":{"whatever":true}}') == (None, None)
    assert decode('{"FutureThing":42}') == (None, None)


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("Ping", "not JSON"),
        ("", "not JSON"),
        ('{"ConfigChanged":', "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ("42", "not a message"),
        ("[1,2]", "not a message"),
        ("null", "not a message"),
        ('{"A":{},"B":{}}', "not a message"),
        ('{"ConfigChanged":[]}', "body must be an object"),
        ('{"ConfigChanged":{"change_type":"modified"}}', "ConfigChanged.tenant_id"),
        ('{"ConfigChanged":{"tenant_id":5,"change_type":"modified"}}', "tenant_id"),
        ('{"Snapshot":{"tenant_id":"a","revision":true}}', "Snapshot.revision"),
        ('"Snapshot"', "needs a body"),
        ('{"Ping":{"x":1}}', "takes no body"),
    ],
)
def test_decode_refuses_bad_frames_with_a_reason(frame: str | bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        decode(frame)


def test_parse_include() -> None:
    assert parse_include("") == frozenset()
    assert parse_include("config") == {"config"}
    assert parse_include(" patch , config,") == {"config", "patch"}
    with pytest.raises(ProtocolError, match=r"unknown value\(s\) 'cfg' \(allowed: config, patch\)"):
        parse_include("cfg,patch")


def test_parse_protocol() -> None:
    assert parse_protocol(None) == 1 and parse_protocol("") == 1
    assert parse_protocol("2") == 2 and parse_protocol("1") == 1
    for raw in ("3", "two", "2.0"):
        with pytest.raises(ProtocolError, match="protocol: unsupported value"):
            parse_protocol(raw)


def test_close_codes_and_encode_errors() -> None:
    assert {c.name: int(c) for c in CloseCode} == {
        "POLICY": 1008, "TOO_BIG": 1009, "BAD_TENANT": 4400, "FORBIDDEN": 4403,
        "HEARTBEAT_TIMEOUT": 4408, "SLOW_CONSUMER": 4413, "TOO_MANY": 4429, "TOKEN_EXPIRED": 4401,
    }
    with pytest.raises(ProtocolError, match="cannot encode"):
        encode({"X": float("nan")})
    with pytest.raises(ProtocolError, match="cannot encode"):
        encode({"X": object()})
    assert frozenset({"config", "patch"}) == protocol.INCLUDE_VALUES


def test_docstring_examples_hold() -> None:
    import doctest

    from jupyter_hotconf.core import store

    for module in (protocol, store):
        failed, attempted = doctest.testmod(module)
        assert attempted > 0 and failed == 0, module.__name__
