"""ConfigStore classification (docs/change-detection.md), immutability and thread safety."""

from __future__ import annotations

import copy
import pickle
import re
import threading
from typing import Any

import jsonpatch
import pytest

from jupyter_hotconf.core.errors import InvalidDocument
from jupyter_hotconf.core.loading import LoadResult
from jupyter_hotconf.core.store import ChangeType, ConfigStore, FrozenDict, FrozenList, diff

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def ok(config: dict[str, Any], tenant: str = "acme") -> LoadResult:
    return LoadResult(tenant, True, config=config)


def bad(message: str = "expected ',' or '}'", line: int = 3, tenant: str = "acme") -> LoadResult:
    err = InvalidDocument(message, file=f"private/{tenant}.json", line=line, column=5)
    return LoadResult(tenant, True, error=err)


def gone(tenant: str = "acme") -> LoadResult:
    return LoadResult(tenant, False)


def kinds(store: ConfigStore, *results: LoadResult) -> list[str]:
    return [store.apply(r).change_type.value for r in results]


@pytest.fixture
def store() -> ConfigStore:
    return ConfigStore(epoch="test-epoch")


def test_created_then_modified_carries_patch_and_paths(store: ConfigStore) -> None:
    first = store.apply(ok({"pricing": {"discount": 0.1, "currency": "USD"}}))
    assert first.change_type is ChangeType.CREATED
    assert (first.revision, first.epoch, first.old) == (1, "test-epoch", None)
    assert first.checksum is not None and first.checksum.startswith("sha256:")
    assert first.patch == [
        {"op": "add", "path": "/pricing", "value": {"discount": 0.1, "currency": "USD"}}
    ]
    assert first.changed_paths == ["/pricing"]
    assert TS.match(first.timestamp), first.timestamp

    second = store.apply(ok({"pricing": {"discount": 0.2, "currency": "USD"}, "beta": True}))
    assert second.change_type is ChangeType.MODIFIED
    assert second.revision == 2
    assert second.old == {"pricing": {"discount": 0.1, "currency": "USD"}}
    assert second.changed_paths == ["/beta", "/pricing/discount"]
    assert jsonpatch.apply_patch(second.old, second.patch) == second.new
    assert second.checksum != first.checksum

    state = store.get("acme")
    assert state is not None
    assert (state.revision, state.exists, state.valid, state.error) == (2, True, True, None)
    assert state.config == second.new and state.checksum == second.checksum
    assert state.last_change == second.timestamp


def test_same_content_is_unchanged_and_keeps_revision(store: ConfigStore) -> None:
    store.apply(ok({"a": 1, "b": [1, 2]}))
    again = store.apply(ok({"b": [1, 2], "a": 1}))  # key order does not matter
    assert again.change_type is ChangeType.UNCHANGED
    assert (again.revision, again.patch, again.changed_paths) == (1, [], [])
    assert not again.is_wire_change


def test_created_deleted_created(store: ConfigStore) -> None:
    created = store.apply(ok({"a": 1}))
    deleted = store.apply(gone())
    assert deleted.change_type is ChangeType.DELETED
    assert (deleted.revision, deleted.checksum, deleted.new) == (2, None, None)
    assert deleted.old == {"a": 1}
    assert deleted.patch == [{"op": "remove", "path": "/a"}]
    assert deleted.changed_paths == ["/a"]
    state = store.get("acme")
    assert state is not None
    assert (state.config, state.exists, state.valid, state.revision) == (None, False, True, 2)
    recreated = store.apply(ok({"a": 1}))
    assert recreated.change_type is ChangeType.CREATED  # no last good before: created again
    assert recreated.revision == 3 and recreated.checksum == created.checksum
    assert store.states()[0].tenant_id == "acme"  # a deleted tenant stays listed


def test_deleting_twice_and_unknown_tenant_without_file_emit_nothing(store: ConfigStore) -> None:
    assert kinds(store, ok({"a": 1}), gone(), gone()) == ["created", "deleted", "unchanged"]
    assert store.apply(gone("ghost")).change_type is ChangeType.UNCHANGED
    assert store.get("ghost") is None and store.tenant_ids() == ["acme"]


def test_invalid_before_any_valid(store: ConfigStore) -> None:
    change = store.apply(bad())
    assert change.change_type is ChangeType.INVALID
    assert (change.revision, change.checksum, change.new) == (0, None, None)
    assert change.error is not None and change.error.line == 3
    state = store.get("acme")
    assert state is not None
    assert (state.revision, state.exists, state.valid, state.config) == (0, True, False, None)
    assert state.error == change.error and state.last_change is None
    fixed = store.apply(ok({"a": 1}))
    assert fixed.change_type is ChangeType.CREATED and fixed.revision == 1


def test_invalid_keeps_last_good_and_reverting_recovers(store: ConfigStore) -> None:
    good = store.apply(ok({"a": 1}))
    invalid = store.apply(bad())
    assert invalid.change_type is ChangeType.INVALID
    assert (invalid.revision, invalid.checksum) == (1, good.checksum)
    assert invalid.old == invalid.new == {"a": 1} and invalid.patch == []
    state = store.get("acme")
    assert state is not None
    assert (state.config, state.valid, state.revision) == ({"a": 1}, False, 1)

    recovered = store.apply(ok({"a": 1}))
    assert recovered.change_type is ChangeType.RECOVERED
    assert (recovered.revision, recovered.checksum, recovered.error) == (1, good.checksum, None)
    state = store.get("acme")
    assert state is not None
    assert (state.valid, state.error, state.revision) == (True, None, 1)


def test_invalid_then_new_content_is_modified(store: ConfigStore) -> None:
    assert kinds(store, ok({"a": 1}), bad(), ok({"a": 2})) == ["created", "invalid", "modified"]
    state = store.get("acme")
    assert state is not None
    assert (state.revision, state.valid, state.error, state.config) == (2, True, None, {"a": 2})


def test_same_error_twice_is_reported_once_a_new_error_again(store: ConfigStore) -> None:
    results = [ok({"a": 1}), bad(), bad(), bad(line=4), bad(line=4), bad()]
    assert kinds(store, *results) == [
        "created", "invalid", "unchanged", "invalid", "unchanged", "invalid"
    ]
    assert store.get("acme").revision == 1  # type: ignore[union-attr]


def test_invalid_file_deleted(store: ConfigStore) -> None:
    # With a last good config: the file is gone, so the tenant is deleted.
    assert kinds(store, ok({"a": 1}), bad(), gone()) == ["created", "invalid", "deleted"]
    state = store.get("acme")
    assert state is not None and (state.valid, state.error, state.revision) == (True, None, 2)
    # Never valid: the error clears, nothing in force changed, the revision stays.
    change = store.apply(bad(tenant="globex"))
    assert change.change_type is ChangeType.INVALID
    cleared = store.apply(gone("globex"))
    assert (cleared.change_type, cleared.revision) == (ChangeType.RECOVERED, 0)
    state = store.get("globex")
    assert state is not None and (state.exists, state.valid, state.error) == (False, True, None)
    # The same error after a deletion is a new problem, reported again.
    assert store.apply(bad(tenant="globex")).change_type is ChangeType.INVALID


def test_error_wins_over_a_config_and_empty_result_is_refused(store: ConfigStore) -> None:
    with pytest.raises(ValueError, match="acme"):
        store.apply(LoadResult("acme", True))
    assert store.get("acme") is None  # nothing recorded from a malformed result
    store.apply(ok({"a": 1}))
    both = LoadResult("acme", True, config={"a": 2}, error=bad().error)
    assert store.apply(both).change_type is ChangeType.INVALID  # never replace on doubt
    assert store.get("acme").config == {"a": 1}  # type: ignore[union-attr]


def test_tenants_are_independent(store: ConfigStore) -> None:
    store.apply(ok({"a": 1}, "acme"))
    store.apply(ok({"a": 1}, "globex"))
    store.apply(ok({"a": 2}, "acme"))
    assert [(s.tenant_id, s.revision) for s in store.states()] == [("acme", 2), ("globex", 1)]
    assert store.tenant_ids() == ["acme", "globex"]


def test_epoch_is_random_per_store() -> None:
    first, second = ConfigStore(), ConfigStore()
    assert first.epoch != second.epoch and len(first.epoch) >= 16
    assert ConfigStore(epoch="fixed").epoch == "fixed"


def test_configs_are_frozen_copies(store: ConfigStore) -> None:
    source = {"pricing": {"tiers": [1, 2]}}
    change = store.apply(ok(source))
    source["pricing"]["tiers"].append(3)  # the caller's own dict stays the caller's
    state = store.get("acme")
    assert state is not None and state.config == {"pricing": {"tiers": [1, 2]}}
    config: Any = state.config
    for mutate in (
        lambda: config.__setitem__("x", 1),
        lambda: config["pricing"].pop("tiers"),
        lambda: config["pricing"]["tiers"].append(3),
        lambda: config.update(x=1),
        lambda: change.patch.append({}),
    ):
        with pytest.raises(TypeError, match="read-only"):
            mutate()
    thawed = copy.deepcopy(config)
    thawed["pricing"]["tiers"].append(3)
    assert type(thawed) is dict and type(thawed["pricing"]["tiers"]) is list
    assert state.config == {"pricing": {"tiers": [1, 2]}}
    restored = pickle.loads(pickle.dumps(config))
    assert restored == config and isinstance(restored["pricing"], FrozenDict)
    assert isinstance(restored["pricing"]["tiers"], FrozenList)


def test_diff_move_touches_both_ends() -> None:
    patch, paths = diff({"a": {"deep": [1, 2, 3]}}, {"b": {"deep": [1, 2, 3]}})
    assert jsonpatch.apply_patch({"a": {"deep": [1, 2, 3]}}, patch) == {"b": {"deep": [1, 2, 3]}}
    assert paths == sorted(set(paths)) and {"/a", "/b"} <= set(paths)


def test_many_threads_applying(store: ConfigStore) -> None:
    """Every apply of new content bumps the revision exactly once: none lost, none doubled."""
    threads, per_thread = 8, 150
    results: list[tuple[str, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        start.wait()
        for i in range(per_thread):
            change = store.apply(ok({"writer": n, "i": i}, "shared"))
            store.apply(ok({"i": i}, f"own-{n}"))
            with lock:
                results.append((change.change_type.value, change.revision))

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in pool)
    total = threads * per_thread
    assert sorted(rev for _, rev in results) == list(range(1, total + 1))
    assert sum(kind == "created" for kind, _ in results) == 1
    assert store.get("shared").revision == total  # type: ignore[union-attr]
    assert [s.revision for s in store.states() if s.tenant_id.startswith("own-")] == [
        per_thread
    ] * threads
