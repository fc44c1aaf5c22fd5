"""RFC 7396 merge patch against the RFC's own examples (Appendix A), and JSON Patch
refusals told apart: not a patch (422) versus cannot apply (409)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from jupyter_hotconf.core.patching import BadPatch, PatchConflict, apply_json_patch, merge_patch

# RFC 7396, Appendix A: (original, patch, result)
RFC7396_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "result"), RFC7396_EXAMPLES)
def test_merge_patch_rfc7396_examples(original: Any, patch: Any, result: Any) -> None:
    kept = copy.deepcopy(original)
    assert merge_patch(original, patch) == result
    assert original == kept  # the input is never changed


def test_merge_patch_rfc7396_section3_example() -> None:
    target = {"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"},
              "tags": ["example", "sample"], "content": "This will be unchanged"}
    patch = {"title": "Hello!", "phoneNumber": "+01-123-456-7890",
             "author": {"familyName": None}, "tags": ["example"]}
    assert merge_patch(target, patch) == {
        "title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"],
        "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"}


def test_json_patch_applies_all_operations_on_a_copy() -> None:
    doc = {"a": {"b": 1}, "l": [1, 2]}
    ops = [{"op": "add", "path": "/a/c", "value": 2}, {"op": "remove", "path": "/l/0"},
           {"op": "move", "from": "/a/b", "path": "/x"}, {"op": "test", "path": "/x",
                                                         "value": 1}]
    assert apply_json_patch(doc, ops) == {"a": {"c": 2}, "l": [2], "x": 1}
    assert doc == {"a": {"b": 1}, "l": [1, 2]}


@pytest.mark.parametrize("ops", [
    [{"op": "test", "path": "/a", "value": 2}],
    [{"op": "remove", "path": "/missing"}],
    [{"op": "replace", "path": "/missing/deeper", "value": 1}],
    [{"op": "move", "from": "/missing", "path": "/b"}],
    [{"op": "add", "path": "/l/9", "value": 1}],
    [{"op": "add", "path": "no-slash", "value": 1}],
])
def test_json_patch_that_cannot_apply_is_a_conflict_naming_the_operation(
    ops: list[dict[str, Any]]
) -> None:
    with pytest.raises(PatchConflict, match="operation 0"):
        apply_json_patch({"a": 1, "l": [1]}, ops)


@pytest.mark.parametrize("ops", [
    {"op": "add"}, "text", [1], [{"path": "/a"}], [{"op": "frob", "path": "/a"}],
    [{"op": "add", "path": "/a"}],
])
def test_what_is_not_a_json_patch_is_refused_as_such(ops: Any) -> None:
    with pytest.raises(BadPatch):
        apply_json_patch({"a": 1}, ops)
