"""The follower's reducer (``core.follow``) and typed decoding (``protocol.decode_message``):
every message kind, stale and duplicate revisions, epoch changes, invalid → valid — no loop,
no socket, no file."""

from __future__ import annotations

import re
from typing import Any

import pytest

from jupyter_hotconf.core.errors import InvalidDocument, ProtocolError
from jupyter_hotconf.core.follow import FollowerState, apply, is_stale, rest_snapshot
from jupyter_hotconf.core.loading import LoadResult
from jupyter_hotconf.core.messages import (
    ChangeKind,
    ConfigChanged,
    ConfigInvalid,
    ConfigValid,
    Ping,
    Pong,
    Snapshot,
)
from jupyter_hotconf.core.protocol import (
    config_invalid,
    decode_message,
    encode,
    frames_for,
    message_from_frame,
    snapshot,
)
from jupyter_hotconf.core.store import ConfigStore

UTC_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def synced(revision: int = 3, config: dict[str, Any] | None = None, epoch: str = "e1"
           ) -> FollowerState:
    state, _ = apply(FollowerState("acme"), Snapshot(
        "acme", revision, epoch, f"c{revision}", config=config or {"a": 1, "b": {"c": 2}}))
    return state


def changed(revision: int, config: dict[str, Any] | None, epoch: str = "e1",
            **kw: Any) -> ConfigChanged:
    kind = kw.pop("change_type", ChangeKind.MODIFIED)
    return ConfigChanged("acme", kind, revision, epoch, f"c{revision}", config=config, **kw)


# -- Snapshot ----------------------------------------------------------------------------------
def test_first_snapshot_is_adopted_and_reported_from_nothing() -> None:
    state, change = apply(FollowerState("acme"), Snapshot(
        "acme", 2, "e1", "c2", config={"a": 1}, mode="demo"))
    assert (state.revision, state.epoch, state.checksum, state.mode) == (2, "e1", "c2", "demo")
    assert state.synced and state.exists and state.config == {"a": 1}
    assert change is not None and change.old is None and change.changed_paths == ["/a"]
    assert UTC_Z.fullmatch(change.timestamp) and state.last_change == change.timestamp


def test_snapshot_of_an_unknown_tenant_is_no_change() -> None:
    state, change = apply(FollowerState("acme"), Snapshot("acme", 0, "e1", exists=False))
    assert change is None and state.synced and state.config is None and not state.exists


def test_config_is_frozen() -> None:
    state = synced()
    assert state.config is not None
    with pytest.raises(TypeError):
        state.config["a"] = 5
    with pytest.raises(TypeError):
        state.config["b"]["c"] = 5


def test_duplicate_snapshot_keeps_the_config_but_takes_its_validity() -> None:
    state = synced()
    again, change = apply(state, Snapshot(
        "acme", 3, "e1", "c3", valid=False, error={"message": "bad"}, config={"a": 1}))
    assert change is None and again.config is state.config
    assert not again.valid and again.error == {"message": "bad"}


def test_stale_snapshot_changes_nothing_not_even_validity() -> None:
    state = synced(revision=5)
    after, change = apply(state, Snapshot("acme", 4, "e1", "c4", valid=False, config={"x": 0}))
    assert change is None and after is state


def test_resync_with_a_newer_revision_reports_one_computed_change() -> None:
    state = synced(config={"a": 1, "b": {"c": 2}})
    after, change = apply(state, Snapshot("acme", 7, "e1", "c7", config={"a": 1, "b": {"c": 3}}))
    assert after.revision == 7 and change is not None
    assert change.change_type is ChangeKind.MODIFIED and change.changed_paths == ["/b/c"]
    assert change.patch == [{"op": "replace", "path": "/b/c", "value": 3}]
    assert change.old == {"a": 1, "b": {"c": 2}} and change.new == {"a": 1, "b": {"c": 3}}


def test_new_epoch_is_taken_even_with_a_lower_revision() -> None:
    state = synced(revision=9)
    same, change = apply(state, Snapshot("acme", 1, "e2", "c9", config={"a": 1, "b": {"c": 2}}))
    assert change is None and (same.epoch, same.revision) == ("e2", 1)  # same content
    moved, change = apply(state, Snapshot("acme", 1, "e3", "cX", config={"z": 1}))
    assert change is not None and moved.revision == 1 and moved.config == {"z": 1}


def test_snapshot_of_a_deleted_file_is_a_deletion() -> None:
    after, change = apply(synced(), Snapshot("acme", 4, "e1", None, exists=False))
    assert change is not None and change.change_type is ChangeKind.DELETED
    assert after.config is None and not after.exists


# -- ConfigChanged -----------------------------------------------------------------------------
def test_config_changed_uses_the_message_paths_patch_and_timestamp() -> None:
    msg = changed(4, {"a": 2, "b": {"c": 2}}, changed_paths=("/a",), timestamp="T",
                  patch=({"op": "replace", "path": "/a", "value": 2},))
    after, change = apply(synced(), msg)
    assert change is not None and after.revision == 4 and after.config == {"a": 2, "b": {"c": 2}}
    assert (change.changed_paths, change.timestamp, after.last_change) == (["/a"], "T", "T")
    assert change.patch == [{"op": "replace", "path": "/a", "value": 2}]


def test_config_changed_without_paths_works_them_out() -> None:
    _, change = apply(synced(), changed(4, {"a": 1}))
    assert change is not None and change.changed_paths == ["/b"]
    assert change.patch == [{"op": "remove", "path": "/b"}]


@pytest.mark.parametrize("revision", [3, 2, 1])
def test_stale_or_duplicate_config_changed_never_rolls_back(revision: int) -> None:
    state = synced(revision=3)
    after, change = apply(state, changed(revision, {"old": True}))
    assert change is None and after is state


def test_config_changed_of_a_new_epoch_is_taken() -> None:
    after, change = apply(synced(revision=3), changed(1, {"new": True}, epoch="e2"))
    assert change is not None and (after.epoch, after.revision) == ("e2", 1)


def test_config_changed_with_a_patch_only() -> None:
    msg = changed(4, None, patch=({"op": "add", "path": "/d", "value": 4},))
    after, change = apply(synced(), msg)
    assert after.config == {"a": 1, "b": {"c": 2}, "d": 4} and change is not None


def test_deleted_and_created() -> None:
    gone, change = apply(synced(), changed(4, None, change_type=ChangeKind.DELETED))
    assert gone.config is None and not gone.exists and change is not None
    assert change.change_type == "deleted" and change.new is None
    back, change = apply(gone, changed(5, {"a": 9}, change_type=ChangeKind.CREATED))
    assert back.exists and back.config == {"a": 9} and change is not None
    assert change.change_type is ChangeKind.CREATED and change.old is None


# -- validity ----------------------------------------------------------------------------------
def test_invalid_keeps_the_config_and_valid_clears_the_error() -> None:
    state = synced()
    bad, change = apply(state, ConfigInvalid("acme", "boom", "private/acme.json", 3, 5, None))
    assert change is None and not bad.valid and bad.config is state.config
    assert bad.error == {"file": "private/acme.json", "line": 3, "column": 5, "pointer": None,
                         "message": "boom"}
    good, change = apply(bad, ConfigValid("acme", 3, "c3"))
    assert change is None and good.valid and good.error is None and good.revision == 3


def test_a_valid_change_after_an_invalid_one_clears_the_error() -> None:
    bad, _ = apply(synced(), ConfigInvalid("acme", "boom"))
    after, change = apply(bad, changed(4, {"a": 2}))
    assert change is not None and after.valid and after.error is None


# -- REST poll, other tenants, unit messages ---------------------------------------------------
def test_rest_poll_is_applied_by_checksum() -> None:
    state = synced(revision=3)
    body = {"tenant_id": "acme", "revision": 3, "checksum": "c3", "valid": True, "error": None,
            "config": {"a": 1, "b": {"c": 2}}}
    same, change = apply(state, rest_snapshot("acme", body))
    assert change is None and same.epoch == "e1" and same.config is state.config
    body.update(revision=2, checksum="c9", config={"polled": True})  # no order: content wins
    after, change = apply(state, rest_snapshot("acme", body))
    assert change is not None and after.config == {"polled": True} and after.epoch == "e1"
    empty = {"tenant_id": "acme", "revision": 0, "checksum": None, "config": None}
    kept, change = apply(state, rest_snapshot("acme", empty))
    assert change is None and kept.config is state.config


def test_other_tenants_and_unit_messages_leave_the_state() -> None:
    state = synced()
    for msg in (Ping(), Pong(), ConfigInvalid("globex", "x"),
                ConfigChanged("globex", ChangeKind.MODIFIED, 99, "e1", config={})):
        assert apply(state, msg) == (state, None)


def test_is_stale() -> None:
    state = synced(revision=3)
    assert is_stale(state, 3, "e1") and is_stale(state, 2, "e1")
    assert not is_stale(state, 4, "e1") and not is_stale(state, 1, "e2")
    assert not is_stale(state, 1, None) and not is_stale(FollowerState("acme"), 0, "e1")


# -- decode_message ----------------------------------------------------------------------------
def test_decode_every_kind() -> None:
    snap = decode_message(encode(snapshot(None, "acme", epoch="e1", mode="dev")))
    assert snap == Snapshot("acme", 0, "e1", None, exists=False, valid=True, mode="dev")
    frame = ('{"ConfigChanged":{"tenant_id":"acme","change_type":"deleted","revision":4,'
             '"epoch":"e1","checksum":null,"changed_paths":["/a"],"timestamp":"T","source":"x"}}')
    msg = decode_message(frame)
    assert isinstance(msg, ConfigChanged) and msg.change_type is ChangeKind.DELETED
    assert msg.changed_paths == ("/a",) and msg.config is None and msg.body["source"] == "x"
    bad = decode_message(encode(config_invalid("acme", InvalidDocument("m", file="f", line=2))))
    assert bad == ConfigInvalid("acme", "m", "f", 2, None, None)
    assert decode_message('{"ConfigValid":{"tenant_id":"acme","revision":3}}') == ConfigValid(
        "acme", 3)
    assert decode_message('"Ping"') == Ping() and decode_message(b'"Pong"') == Pong()


def test_decode_ignores_unknown_kinds_and_refuses_wrong_types() -> None:
    assert decode_message('{"Future":{"x":1}}') is None and decode_message('"Hello"') is None
    with pytest.raises(ProtocolError, match="change_type"):
        decode_message('{"ConfigChanged":{"tenant_id":"acme","change_type":"renamed"}}')
    with pytest.raises(ProtocolError, match="epoch"):
        decode_message('{"Snapshot":{"tenant_id":"acme","revision":1,"epoch":5}}')
    with pytest.raises(ProtocolError, match="revision"):
        decode_message('{"ConfigValid":{"tenant_id":"acme","revision":true}}')
    with pytest.raises(ProtocolError):
        decode_message("not json")


def test_a_seed_frame_decodes_with_defaults() -> None:
    msg = decode_message('{"ConfigChanged":{"tenant_id":"acme","change_type":"modified"}}')
    assert msg == ConfigChanged("acme", ChangeKind.MODIFIED, 0)


def test_local_frames_fold_like_wire_frames() -> None:
    """What local mode does: a store change → its frame → the same typed message → the
    reducer, with the store's own patch and paths."""
    store = ConfigStore(epoch="e1")
    first = store.apply(LoadResult("acme", True, {"a": 1}))
    state = FollowerState("acme")
    state, _ = apply(state, message_from_frame(
        snapshot(store.get("acme"), "acme", epoch="e1", mode="dev")))
    second = store.apply(LoadResult("acme", True, {"a": 2}))
    frame = frames_for(second, include=("config", "patch"))
    msg = message_from_frame(frame)
    assert isinstance(msg, ConfigChanged)
    assert msg == decode_message(encode(frame))
    state, change = apply(state, msg)
    assert change is not None and (change.revision, state.config) == (2, {"a": 2})
    assert change.changed_paths == list(second.changed_paths) and first.revision == 1
