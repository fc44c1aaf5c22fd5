"""Property tests of the engine: patches replay, checksums are
independent of key order and file format, an unchanged reload emits nothing."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import jsonpatch
import tomli_w
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_hotconf.core import documents
from jupyter_hotconf.core.errors import InvalidDocument
from jupyter_hotconf.core.loading import LoadResult
from jupyter_hotconf.core.protocol import frames_for
from jupyter_hotconf.core.store import ChangeType, ConfigStore

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)


def json_objects(leaves: st.SearchStrategy[Any] = scalars) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects a few levels deep (the top level of a config is always an object)."""
    values = st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=12,
    )
    return st.dictionaries(keys, values, max_size=5)


def canonical(obj: Any) -> str:
    """Type-strict comparison: ``1 == 1.0 == True`` in Python but not on the wire."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def shuffled(obj: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in another order."""
    if isinstance(obj, dict):
        items = list(obj.items())
        rng.shuffle(items)
        return {key: shuffled(value, rng) for key, value in items}
    if isinstance(obj, list):
        return [shuffled(value, rng) for value in obj]
    return obj


@SETTINGS
@given(old=json_objects(), new=json_objects())
def test_emitted_patch_turns_old_into_new(old: dict[str, Any], new: dict[str, Any]) -> None:
    store = ConfigStore()
    store.apply(LoadResult("t", True, config=old))
    change = store.apply(LoadResult("t", True, config=new))
    if canonical(old) == canonical(new):
        assert change.change_type is ChangeType.UNCHANGED and change.patch == []
        return
    assert change.change_type is ChangeType.MODIFIED
    replayed = jsonpatch.apply_patch(copy.deepcopy(change.old), change.patch)
    assert canonical(replayed) == canonical(new)
    assert change.changed_paths == sorted(set(change.changed_paths))
    assert {op["path"] for op in change.patch} <= set(change.changed_paths)
    deleted = store.apply(LoadResult("t", False))
    assert jsonpatch.apply_patch(copy.deepcopy(deleted.old), deleted.patch) == {}


@SETTINGS
@given(config=json_objects(), seed=st.integers(0, 2**32 - 1))
def test_key_order_changes_nothing(config: dict[str, Any], seed: int) -> None:
    other = shuffled(config, random.Random(seed))
    assert documents.checksum(config) == documents.checksum(other)
    store = ConfigStore()
    first = store.apply(LoadResult("t", True, config=config))
    again = store.apply(LoadResult("t", True, config=other))
    assert again.change_type is ChangeType.UNCHANGED
    assert again.checksum == first.checksum == documents.checksum(config)


# TOML has no null and YAML/TOML dates are their own type: keep to what all three can say.
portable = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)


@SETTINGS
@given(config=json_objects(portable).filter(bool))
def test_checksum_is_independent_of_file_format(config: dict[str, Any]) -> None:
    serialised = {
        "private/t.json": json.dumps(config, indent=2).encode(),
        # Escaped, not allow_unicode: PyYAML's emitter writes U+0085 bare, which then reads
        # back as a line break (a writer bug, not ours).
        "private/t.yaml": yaml.safe_dump(config).encode(),
        "private/t.toml": tomli_w.dumps(config).encode(),
    }
    sums = {
        name: documents.checksum(documents.parse_document(data, file=name))
        for name, data in serialised.items()
    }
    assert len(set(sums.values())) == 1, sums
    assert set(sums.values()) == {documents.checksum(config)}


ERRORS = [
    InvalidDocument("bad", file="private/t.json", line=1, column=2),
    InvalidDocument("worse", file="schema.json", pointer="/a"),
]
results = st.one_of(
    json_objects().map(lambda c: LoadResult("t", True, config=c)),
    st.sampled_from(ERRORS).map(lambda e: LoadResult("t", True, error=e)),
    st.just(LoadResult("t", False)),
)


@SETTINGS
@given(history=st.lists(results, min_size=1, max_size=8))
def test_an_unchanged_reload_emits_nothing(history: list[LoadResult]) -> None:
    """Whatever happened before, loading the same thing again is UNCHANGED with no frame,
    and the revision moved exactly once per created/modified/deleted."""
    store = ConfigStore()
    bumps = 0
    for result in history:
        change = store.apply(result)
        bumps += change.is_wire_change
        assert change.revision == bumps
    repeat = store.apply(history[-1])
    assert repeat.change_type is ChangeType.UNCHANGED
    assert frames_for(repeat, include={"config", "patch"}) is None
    assert repeat.revision == bumps
