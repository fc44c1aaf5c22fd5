"""Strict JSON / YAML / TOML parsers with positions for every refusal (DESIGN.md §4).

Each parser takes decoded text and returns plain JSON data (dict/list/str/int/float/
bool/None) or raises ``InvalidDocument`` naming the file, the 1-based line and column
where the format gives one. ``documents.parse_document`` picks the parser by suffix and
applies the rules common to all formats.
"""

from __future__ import annotations

import json
import json.scanner
import re
import sys
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import InvalidDocument

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: Nodes that YAML aliases may add beyond the file's own nodes before it counts as a bomb.
MAX_ALIAS_EXPANSION = 100_000

_NON_FINITE = ("NaN", "Infinity", "-Infinity")
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# --------------------------------------------------------------------------- JSON


def _json_events(text: str) -> Iterator[tuple[str, tuple[str, ...], int, str]]:
    """Walk JSON text lexically: ``("value", path, offset, token)`` for every value (offset of
    its key inside an object) and ``("dup", path, offset, key)`` for a repeated key.

    Used only to find *where* something is after ``json`` said *what*, so it trusts the
    text to be JSON up to the point of interest.
    """
    frames: list[list[Any]] = []  # [is_object, key_or_index, key_offset, seen_keys]
    expect_key = False
    for match in _JSON_TOKEN.finditer(text):
        tok, pos = match.group(), match.start()
        top = frames[-1] if frames else None
        if top is not None and top[0] and expect_key and tok.startswith('"'):
            key = json.loads(tok)
            if key in top[3]:
                yield "dup", (*(str(f[1]) for f in frames[:-1]), key), pos, key
            top[3].add(key)
            top[1], top[2], expect_key = key, pos, False
        elif tok == ",":
            if top is not None and top[0]:
                expect_key = True
            elif top is not None:
                top[1] += 1
        elif tok in "}]":
            frames.pop()
        elif tok != ":":
            path = tuple(str(f[1]) for f in frames)
            yield "value", path, (top[2] if top is not None and top[0] else pos), tok
            if tok in "{[":
                frames.append([tok == "{", 0, pos, set()])
                expect_key = tok == "{"


def locate_json(text: str, pointer_parts: tuple[str, ...]) -> tuple[int, int] | None:
    """Line/column of the value (or its key) at a JSON pointer, or None."""
    for kind, path, pos, _ in _json_events(text):
        if kind == "value" and path == pointer_parts:
            return line_col(text, pos)
    return None


def _json_problem(text: str, file: str, max_depth: int) -> InvalidDocument | None:
    """Find the first NaN/Infinity, duplicate key or too-deep value, with its position."""
    for kind, path, pos, tok in _json_events(text):
        line, col = line_col(text, pos)
        if kind == "dup":
            message = f"duplicate key {_quoted(tok)}"
            return InvalidDocument(message, file=file, line=line, column=col)
        if tok in _NON_FINITE:
            return InvalidDocument(
                f"{tok} is not allowed in JSON (use a number or null)",
                file=file, line=line, column=col,
            )
        if tok in "{[" and len(path) >= max_depth:
            return depth_error(file, max_depth, line, col, path)
    return None


def depth_error(
    file: str, max_depth: int, line: int | None, col: int | None, path: tuple[str, ...] = ()
) -> InvalidDocument:
    pointer = pointer_of(path) if path else None
    return InvalidDocument(
        f"nesting deeper than {max_depth} levels", file=file, line=line, column=col,
        pointer=pointer,
    )


def pointer_of(path: tuple[object, ...] | list[object]) -> str:
    """RFC 6901 pointer of a path of keys/indexes (``""`` is the whole document)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


class _Refused(Exception):
    """Raised inside ``json`` hooks; the position is found afterwards by ``_json_problem``."""


def _refuse_constant(token: str) -> Any:
    raise _Refused(token)


def _pairs_no_dup(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Refused("duplicate key")
    return obj


def parse_json(text: str, *, file: str, max_depth: int) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_pairs_no_dup, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InvalidDocument(exc.msg, file=file, line=exc.lineno, column=exc.colno) from None
    except (_Refused, RecursionError):
        problem = _json_problem(text, file, max_depth)
        if problem is None:  # pragma: no cover - the lexical walk always finds it
            problem = InvalidDocument("invalid JSON", file=file)
        raise problem from None


# --------------------------------------------------------------------------- YAML


def _yaml_error(node: Node, file: str, message: str) -> InvalidDocument:
    mark = node.start_mark
    return InvalidDocument(message, file=file, line=mark.line + 1, column=mark.column + 1)


class StrictYamlLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate and non-string keys, binary/set/omap values,
    non-finite floats, nesting past ``max_depth`` and alias expansion past a budget."""

    def __init__(self, text: str, *, file: str, max_depth: int) -> None:
        super().__init__(text)
        self.file = file
        self.max_depth = max_depth
        self._compose_depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # Bounded here so a deep file fails with a position instead of a RecursionError.
        self._compose_depth += 1
        try:
            if self._compose_depth > self.max_depth + 1:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise depth_error(self.file, self.max_depth, mark.line + 1, mark.column + 1)
            return super().compose_node(parent, index)
        finally:
            self._compose_depth -= 1

    def construct_document(self, node: Node) -> Any:
        self._measure(node)
        return super().construct_document(node)

    def _measure(self, root: Node) -> None:
        """Expanded size and depth of the node graph, without expanding it (iterative)."""
        size: dict[int, int] = {}
        height: dict[int, int] = {}
        open_nodes: set[int] = set()
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            key = id(node)
            children = _children(node)
            if done:
                open_nodes.discard(key)
                size[key] = 1 + sum(size[id(c)] for c in children)
                if isinstance(node, (MappingNode, SequenceNode)):
                    height[key] = 1 + max((height[id(c)] for c in children), default=0)
                    if height[key] > self.max_depth:
                        raise depth_error(self.file, self.max_depth, *_mark(node))
                else:
                    height[key] = 0
                if size[key] > len(size) + MAX_ALIAS_EXPANSION:
                    raise _yaml_error(node, self.file, (
                        f"aliases expand to more than {MAX_ALIAS_EXPANSION} extra nodes "
                        "(an alias bomb?); refused"
                    ))
                continue
            if key in size:
                continue
            if key in open_nodes:
                raise _yaml_error(node, self.file, "recursive alias: the node contains itself")
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[str, Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                if not isinstance(key_node, ScalarNode) or key_node.tag != _STR_TAG:
                    shown = key_node.value if isinstance(key_node, ScalarNode) else "a collection"
                    raise _yaml_error(key_node, self.file, (
                        f"keys must be strings, got {shown!r} ({key_node.tag.rsplit(':', 1)[-1]}); "
                        "quote it"
                    ))
                if key_node.value in seen:
                    first = seen[key_node.value].start_mark.line + 1
                    raise _yaml_error(key_node, self.file, (
                        f"duplicate key {_quoted(key_node.value)} (first at line {first})"
                    ))
                seen[key_node.value] = key_node
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        for k in mapping:
            if not isinstance(k, str):  # only reachable through an inline ``<<`` merge
                raise _yaml_error(node, self.file, f"keys must be strings, got {k!r}")
        return mapping

    def construct_iso_timestamp(self, node: ScalarNode) -> str:
        value = self.construct_yaml_timestamp(node)
        return str(value.isoformat())

    def construct_finite_float(self, node: ScalarNode) -> float:
        value = float(self.construct_yaml_float(node))
        if value != value or value in (float("inf"), float("-inf")):
            message = f"{node.value} is not allowed (JSON cannot carry it)"
            raise _yaml_error(node, self.file, message)
        return value

    def construct_refused(self, node: Node) -> Any:
        message = f"tag {_short_tag(node.tag)} is not allowed (JSON has no such type)"
        raise _yaml_error(node, self.file, message)


def _quoted(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


def _short_tag(tag: str) -> str:
    """``tag:yaml.org,2002:python/name:os.system`` → ``!!python/name:os.system``."""
    return tag.replace("tag:yaml.org,2002:", "!!", 1)


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


StrictYamlLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", StrictYamlLoader.construct_iso_timestamp
)
StrictYamlLoader.add_constructor("tag:yaml.org,2002:float", StrictYamlLoader.construct_finite_float)
for _tag in ("binary", "set", "omap", "pairs"):
    StrictYamlLoader.add_constructor(
        f"tag:yaml.org,2002:{_tag}", StrictYamlLoader.construct_refused
    )


def parse_yaml(text: str, *, file: str, max_depth: int) -> Any:
    loader = StrictYamlLoader(text, file=file, max_depth=max_depth)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or "invalid YAML"
        if message.startswith("could not determine a constructor for the tag"):
            tag = _short_tag(message.rsplit(" ", 1)[-1].strip("'\""))
            message = f"tag {tag} is not allowed (safe YAML only)"
        elif exc.context:
            message = f"{message} ({exc.context})"
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise InvalidDocument(message, file=file, line=line, column=col) from None
    except yaml.YAMLError as exc:
        raise InvalidDocument(f"invalid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()


def locate_yaml(text: str, pointer_parts: tuple[str, ...]) -> tuple[int, int] | None:
    """Line/column of the key (or item) at a JSON pointer in YAML text, or None."""
    try:
        node: Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    at: Node | None = node
    for part in pointer_parts:
        if isinstance(node, MappingNode):
            found = [(k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == part]
            if not found:
                return None
            at, node = found[-1]
        elif isinstance(node, SequenceNode) and part.isdigit() and int(part) < len(node.value):
            at = node = node.value[int(part)]
        else:
            return None
    return _mark(at) if at is not None else None


# --------------------------------------------------------------------------- TOML

_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_toml(text: str, *, file: str, max_depth: int) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc.args[0] if exc.args else exc)
        found = _TOML_POS.search(message)
        line = col = None
        if found:
            line, col = int(found.group(1)), int(found.group(2))
            message = message[: found.start()]
        message = message.replace(" (at end of document)", " at end of document")
        if message.startswith("Cannot overwrite a value"):
            message = "duplicate key (cannot overwrite a value)"
        raise InvalidDocument(message, file=file, line=line, column=col) from None
    except RecursionError:
        raise depth_error(file, max_depth, None, None) from None


PARSERS = {".json": parse_json, ".yaml": parse_yaml, ".yml": parse_yaml, ".toml": parse_toml}
LOCATORS = {".json": locate_json, ".yaml": locate_yaml, ".yml": locate_yaml}
