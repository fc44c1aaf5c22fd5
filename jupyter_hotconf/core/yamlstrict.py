"""Strict, safe YAML: the rules of docs/config-files.md enforced while composing and
constructing.

Refusals carry the node's line and column: duplicate and non-string keys, tags JSON cannot
carry (``!!python/…``, ``!!binary``, ``!!set``), ``.nan``/``.inf``, nesting past the limit and
anchors/aliases that would expand past ``MAX_ALIAS_EXPANSION`` nodes (a billion-laughs file
is measured on the node graph, never expanded). Timestamps become ISO 8601 strings.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import InvalidDocument
from .formats import depth_error, quoted

#: Nodes that YAML aliases may add beyond the file's own nodes before it counts as a bomb.
MAX_ALIAS_EXPANSION = 100_000

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


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
                        f"duplicate key {quoted(key_node.value)} (first at line {first})"
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
