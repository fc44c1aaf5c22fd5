"""Patches of a tenant's own document: JSON Merge Patch (RFC 7396) and JSON Patch (RFC 6902).

Both take the document and return a new one; the input is never changed. A patch that is
not a patch at all raises ``BadPatch`` (the request is unprocessable, HTTP 422); a JSON
Patch that is well formed but cannot be applied to this document — a failed ``test``, a
path that does not exist — raises ``PatchConflict`` (HTTP 409), with jsonpatch's reason
(docs/write-back.md).

>>> merge_patch({"a": "b", "c": {"d": "e", "f": "g"}}, {"a": "z", "c": {"f": None}})
{'a': 'z', 'c': {'d': 'e'}}
>>> apply_json_patch({"a": 1}, [{"op": "replace", "path": "/a", "value": 2}])
{'a': 2}
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer

from .errors import HotconfError

__all__ = ["BadPatch", "PatchConflict", "apply_json_patch", "merge_patch"]


class BadPatch(HotconfError, ValueError):
    """A body that is not a patch of its kind (not an array of operations, unknown ``op``)."""


class PatchConflict(HotconfError):
    """A JSON Patch that cannot be applied to the current document; ``str()`` says why."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 ``MergePatch(target, patch)``: objects merge key by key, ``null`` removes a
    key, anything else (arrays included) replaces. Returns a new value."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def apply_json_patch(document: Any, operations: Any) -> Any:
    """RFC 6902 ``operations`` applied to a copy of ``document`` (all or nothing)."""
    if not isinstance(operations, list):
        raise BadPatch(
            f"a JSON Patch is an array of operations, got {type(operations).__name__}")
    for index, op in enumerate(operations):
        if not isinstance(op, dict) or not isinstance(op.get("op"), str):
            raise BadPatch(f"operation {index} is not an object with an \"op\"")
    result = document
    for index, op in enumerate(operations):  # one at a time, to say which one failed
        what = f"operation {index} ({op['op']} {op.get('path')!r})"
        try:
            result = jsonpatch.JsonPatch([op]).apply(result, in_place=False)
        except jsonpatch.InvalidJsonPatch as err:
            raise BadPatch(f"not a valid JSON Patch: {what}: {err}") from None
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, KeyError,
                IndexError, TypeError, ValueError) as err:
            raise PatchConflict(f"the JSON Patch cannot be applied: {what}: {err}") from None
    return result
