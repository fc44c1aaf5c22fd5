"""Where a JSON pointer lives in TOML text, so schema errors in TOML files carry a line
(docs/config-files.md).

``tomllib`` returns plain data without positions, so after it has accepted the text this
small scanner walks it once more: table headers (``[a.b]``, ``[[servers]]`` with each
entry's index), keys (dotted ones too: ``limits.cpu.max = 1``), and inside values the
elements of arrays and the keys of inline tables, recording where each path starts. It
trusts the text to be valid TOML (it runs only after a successful parse) and gives up
(None) rather than guess if it meets anything else.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

from .formats import line_col

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_SIMPLE_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_KEY = re.compile(rf"{_SIMPLE_KEY}(?:[ \t]*\.[ \t]*{_SIMPLE_KEY})*")
_SPACE = re.compile(r"[ \t]*")
_BLANKS = re.compile(r"(?:[ \t\r\n]|#[^\n]*)*")  # whitespace, newlines and comments
_SCALAR_END = re.compile(r"[,\]}\n#]")

Path = tuple[str, ...]


def _key_parts(key: str) -> Path:
    """``a."b.c".d`` → ``("a", "b.c", "d")``, unquoted by tomllib itself."""
    data: object = tomllib.loads(f"{key} = 0")
    parts: list[str] = []
    while isinstance(data, dict):
        ((name, data),) = data.items()
        parts.append(name)
    return tuple(parts)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.found: dict[Path, int] = {}
        self.aot: dict[Path, int] = {}  # array-of-tables path → index of its latest entry
        self.counts: dict[Path, int] = {}  # inline array path → elements seen so far

    def note(self, path: Path, pos: int) -> None:
        self.found.setdefault(path, pos)

    def skip(self, pattern: re.Pattern[str]) -> None:
        match = pattern.match(self.text, self.pos)
        self.pos = match.end() if match else self.pos

    def key(self) -> Path:
        match = _KEY.match(self.text, self.pos)
        if match is None:
            raise ValueError(f"no key at {self.pos}")
        self.pos = match.end()
        return _key_parts(match.group())

    def resolve(self, parts: Path) -> Path:
        """A header's key with the current index of each array of tables on the way."""
        out: list[str] = []
        for part in parts:
            out.append(part)
            if tuple(out) in self.aot:
                out.append(str(self.aot[tuple(out)]))
        return tuple(out)

    def document(self) -> None:
        table: Path = ()
        while True:
            self.skip(_BLANKS)
            if self.pos >= len(self.text):
                return
            start = self.pos
            if self.text.startswith("[", start):
                double = self.text.startswith("[[", start)
                self.pos += 2 if double else 1
                self.skip(_SPACE)
                parts = self.key()  # its last part is the table itself, never an entry
                path = (*self.resolve(parts[:-1]), parts[-1])
                for i in range(1, len(path)):  # [tool.ruff] makes tool too
                    self.note(path[:i], start)
                if double:
                    self.note(path, start)
                    self.aot[path] = self.aot.get(path, -1) + 1
                    path = (*path, str(self.aot[path]))
                self.note(path, start)
                table = path
                self.pos = self.text.index("]", self.pos) + (2 if double else 1)
            else:
                self.pair(table)

    def pair(self, table: Path) -> None:
        """``key = value`` (the key maybe dotted), every prefix noted at the key."""
        start = self.pos
        parts = self.key()
        for i in range(1, len(parts) + 1):
            self.note((*table, *parts[:i]), start)
        self.skip(_SPACE)
        if not self.text.startswith("=", self.pos):
            raise ValueError(f"no '=' at {self.pos}")
        self.pos += 1
        self.skip(_SPACE)
        self.value((*table, *parts))

    def value(self, path: Path) -> None:
        text, pos = self.text, self.pos
        if text.startswith(('"""', "'''"), pos):
            quote = text[pos : pos + 3]
            end = pos + 3
            while not text.startswith(quote, end):
                end += 2 if quote == '"""' and text[end] == "\\" else 1
            self.pos = end + 3
            while self.pos < len(text) and text[self.pos] == quote[0]:  # """a"""" ends later
                self.pos += 1
        elif text.startswith('"', pos):
            end = pos + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            self.pos = end + 1
        elif text.startswith("'", pos):
            self.pos = text.index("'", pos + 1) + 1
        elif text.startswith("[", pos):
            self.pos += 1
            self.items(path, "]", self.array_item)
        elif text.startswith("{", pos):
            self.pos += 1
            self.items(path, "}", self.pair)
        else:
            stop = _SCALAR_END.search(text, pos)
            self.pos = stop.start() if stop else len(text)

    def array_item(self, path: Path) -> None:
        index = self.counts.get(path, 0)
        self.counts[path] = index + 1
        self.note((*path, str(index)), self.pos)
        self.value((*path, str(index)))

    def items(self, path: Path, close: str, item: Callable[[Path], None]) -> None:
        while True:
            self.skip(_BLANKS)
            if self.text.startswith(close, self.pos):
                self.pos += 1
                return
            before = self.pos
            item(path)
            self.skip(_BLANKS)
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif self.pos == before:
                raise ValueError(f"stuck at {self.pos}")  # not TOML after all: never loop


def locate_toml(text: str, pointer_parts: tuple[str, ...]) -> tuple[int, int] | None:
    """Line/column of the key, header or array element at a JSON pointer in valid TOML (of
    its nearest enclosing one that is written out, such as the key of an inline value), or
    None when it cannot say."""
    scanner = _Scanner(text)
    try:
        scanner.document()
    except (ValueError, IndexError, tomllib.TOMLDecodeError):
        return None
    for n in range(len(pointer_parts), 0, -1):
        pos = scanner.found.get(tuple(pointer_parts[:n]))
        if pos is not None:
            return line_col(text, pos)
    return None
