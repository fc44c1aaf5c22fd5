"""The store taking its numbering from outside (a history database): ``resume`` and a
``RevisionSource``; ``source``/``actor`` on the wire (docs/history.md)."""

from __future__ import annotations

import json

from jupyter_hotconf.core.documents import checksum
from jupyter_hotconf.core.loading import LoadResult
from jupyter_hotconf.core.protocol import config_changed, decode_message, encode
from jupyter_hotconf.core.store import (
    Assigned,
    Change,
    ChangeType,
    ConfigStore,
    TenantState,
)


def test_revision_source_numbers_changes_and_says_what_caused_them() -> None:
    seen: list[tuple[ChangeType, int, str | None]] = []

    def source(change: Change, result: LoadResult) -> Assigned:
        seen.append((change.change_type, change.revision, result.file))
        return Assigned(41 + len(seen), "watcher", None)

    store = ConfigStore(epoch="e", revisions=source)
    first = store.apply(LoadResult("acme", True, {"a": 1}, file="private/acme.json"))
    assert (first.revision, first.source, first.actor) == (42, "watcher", None)
    assert store.get("acme").revision == 42  # type: ignore[union-attr]
    assert store.apply(LoadResult("acme", True, {"a": 1})).change_type is ChangeType.UNCHANGED
    assert len(seen) == 1  # an unchanged reload never asks
    second = store.apply(LoadResult("acme", True, {"a": 2}))
    assert second.revision == 43 and second.patch[0]["path"] == "/a"
    assert seen == [(ChangeType.CREATED, 1, "private/acme.json"), (ChangeType.MODIFIED, 43, None)]


def test_none_from_the_source_keeps_the_store_numbering() -> None:
    store = ConfigStore(revisions=lambda change, result: None)
    change = store.apply(LoadResult("acme", True, {"a": 1}))
    assert (change.revision, change.source) == (1, None)


def test_resume_continues_epoch_and_revisions() -> None:
    config = {"a": 1}
    state = TenantState("acme", 7, checksum(config), config, exists=True, valid=True,
                        error=None, last_change="2026-11-29T10:00:00.000Z")
    store = ConfigStore()
    store.resume("kept", [state], lambda change, result: Assigned(change.revision, "startup"))
    assert store.epoch == "kept"
    same = store.apply(LoadResult("acme", True, {"a": 1}))
    assert same.change_type is ChangeType.UNCHANGED and same.revision == 7
    moved = store.apply(LoadResult("acme", True, {"a": 2}))
    assert (moved.change_type, moved.revision, moved.epoch, moved.source) == (
        ChangeType.MODIFIED, 8, "kept", "startup")
    gone = store.apply(LoadResult("acme", False))
    assert (gone.change_type, gone.revision) == (ChangeType.DELETED, 9)


def test_config_changed_carries_source_and_actor_after_the_seed_fields() -> None:
    store = ConfigStore(epoch="e", revisions=lambda c, r: Assigned(3, "rollback", "ada"))
    frame = encode(config_changed(store.apply(LoadResult("acme", True, {"a": 1}))))
    body = json.loads(frame)["ConfigChanged"]
    assert list(body)[:2] == ["tenant_id", "change_type"]
    assert (body["source"], body["actor"]) == ("rollback", "ada")
    message = decode_message(frame)
    assert message is not None and (message.source, message.actor) == (  # type: ignore[union-attr]
        "rollback", "ada")
    plain = json.loads(encode(config_changed(ConfigStore().apply(LoadResult("x", True, {})))))
    assert "source" not in plain["ConfigChanged"] and "actor" not in plain["ConfigChanged"]
