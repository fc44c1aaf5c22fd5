"""The house rules of the package, checked on its sources (docs/server.md, docs/protocol.md):

- a WebSocket close code is written as the ``CloseCode`` enum, never as a bare number,
  in Python and in the lab extension's TypeScript, so the two sides cannot drift apart;
- ``jupyter-hotconf serve`` runs without loading ``jupyter_server``;
- the package's module-level imports have no cycle;
- modules stay about one concept: ``core/`` ≤ 300 non-blank lines, ``server/`` and
  ``kernel/`` ≤ 400.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "jupyter_hotconf"
TS_SOURCES = ROOT / "labextension" / "src"

# -- close codes ------------------------------------------------------------------------------

CLOSE_CODES = ("1008", "1009", "4400", "4401", "4403", "4408", "4413", "4429")
_CODE = re.compile(r"(?<![\w.])(" + "|".join(CLOSE_CODES) + r")(?!\w|\.\d)")
_TS_ENUM = re.compile(r"\benum\s+CloseCode\s*\{[^}]*\}", re.S)


def _python_enum_lines(source: str) -> set[int]:
    """Line numbers of every ``class CloseCode`` body (the one place the numbers belong)."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == "CloseCode":
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _ts_enum_lines(source: str) -> set[int]:
    """Line numbers of every ``enum CloseCode { … }``."""
    lines: set[int] = set()
    for match in _TS_ENUM.finditer(source):
        first = source.count("\n", 0, match.start()) + 1
        lines.update(range(first, first + match.group().count("\n") + 1))
    return lines


def literal_close_codes(path: Path, root: Path = ROOT) -> Iterator[str]:
    """``file:line: text`` for each close code spelled as a number outside the enum."""
    source = path.read_text(encoding="utf-8")
    allowed = _python_enum_lines(source) if path.suffix == ".py" else _ts_enum_lines(source)
    for number, line in enumerate(source.splitlines(), 1):
        if number not in allowed and _CODE.search(line):
            yield f"{path.relative_to(root)}:{number}: {line.strip()}"


def _sources(base: Path, patterns: Iterable[str]) -> list[Path]:
    return sorted(p for pattern in patterns for p in base.rglob(pattern))


def test_close_codes_are_named_in_python() -> None:
    found = [hit for path in _sources(PACKAGE, ["*.py"]) for hit in literal_close_codes(path)]
    assert not found, "close codes as numbers; use CloseCode:\n" + "\n".join(found)


def test_close_codes_are_named_in_typescript() -> None:
    paths = _sources(TS_SOURCES, ["*.ts", "*.tsx"])
    assert paths, f"no TypeScript sources under {TS_SOURCES}"
    found = [hit for path in paths for hit in literal_close_codes(path)]
    assert not found, "close codes as numbers; use CloseCode:\n" + "\n".join(found)


def test_the_close_code_scan_sees_literals_and_spares_the_enums(tmp_path: Path) -> None:
    py = tmp_path / "m.py"
    py.write_text(
        "import enum\n"
        "class CloseCode(enum.IntEnum):\n    POLICY = 1008\n"
        "def f(sock):\n    sock.close(4408)  # heartbeat\n"
        "PORT = 14408\nSIZE = 1009.5\n# closes 1008.\n"
    )
    ts = tmp_path / "m.ts"
    ts.write_text(
        "export enum CloseCode {\n  Policy = 1008,\n  TooMany = 4429\n}\n"
        "if (code === 4403) {}\n"
    )
    assert [h.split(": ")[0] for h in literal_close_codes(py, tmp_path)] == ["m.py:5", "m.py:8"]
    assert [h.split(": ")[0] for h in literal_close_codes(ts, tmp_path)] == ["m.ts:5"]


# -- the standalone server without jupyter_server ---------------------------------------------

SERVE_WITHOUT_JUPYTER_SERVER = """
import asyncio, json, sys
sys.modules["jupyter_server"] = None  # any import of it now raises ImportError

from tornado.httpclient import AsyncHTTPClient
from jupyter_hotconf.server.settings import StandaloneSettings
from jupyter_hotconf.server.standalone import StandaloneServer

async def main():
    server = StandaloneServer(StandaloneSettings(port=0, config_dir=sys.argv[1]))
    server.start()
    try:
        response = await AsyncHTTPClient().fetch(server.url + "api/health")
        return json.loads(response.body)["version"]
    finally:
        await server.stop()

version = asyncio.run(main())
loaded = sorted(
    m for m, mod in sys.modules.items() if mod is not None and m.split(".")[0] == "jupyter_server"
)
print(json.dumps({"version": version, "loaded": loaded}))
"""


def test_standalone_server_runs_without_jupyter_server(tmp_path: Path) -> None:
    """``jupyter-hotconf serve`` needs Tornado only: with ``jupyter_server`` made
    unimportable, the standalone server still starts and answers."""
    (tmp_path / "private").mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_JUPYTER_SERVER, str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["version"] and result["loaded"] == []


def test_importing_the_standalone_server_loads_no_jupyter_server() -> None:
    probe = (
        "import json, sys, jupyter_hotconf.server.standalone, jupyter_hotconf.cli\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == "
        "'jupyter_server')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_the_jupyter_probe_can_fail() -> None:
    """The Jupyter handler base does load jupyter_server: the probe above would see it."""
    probe = (
        "import json, sys, jupyter_hotconf.server.jupyter_handlers\n"
        "print('jupyter_server' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout.strip().splitlines()[-1] == "True"


# -- import cycles ----------------------------------------------------------------------------


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: its body and the ``if``/``try``
    blocks in it, not functions or classes, nor ``if TYPE_CHECKING:``."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _top_level_imports(node.body)
            yield from _top_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _top_level_imports(block)
            for handler in node.handlers:
                yield from _top_level_imports(handler.body)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """module → the modules of ``package`` it imports at module level."""
    files = {module_name(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in _top_level_imports(ast.parse(path.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in files)
                continue
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in files:
                    edges.add(sub)
                elif target in files:
                    edges.add(target)
        graph[name] = edges - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, …, a]``, or None."""
    done: set[str] = set()
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> list[str] | None:
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_stack:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in done:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        on_stack.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_no_import_cycle() -> None:
    graph = import_graph()
    assert "jupyter_hotconf.server.hub" in graph["jupyter_hotconf.server.engine"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_one(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import x\n"
        "def f():\n    from .. import a\n"
    )
    assert find_cycle(import_graph(pkg)) is None  # lazy and type-only imports are no cycle
    (pkg / "sub" / "b.py").write_text("from .. import a\n")
    assert find_cycle(import_graph(pkg)) == ["pkg.a", "pkg.sub.b", "pkg.a"]


# -- module sizes -----------------------------------------------------------------------------

LIMITS = {"core": 300, "server": 400, "kernel": 400}
SIZED = sorted(
    (path, LIMITS[part]) for part in LIMITS for path in (PACKAGE / part).glob("*.py")
)


def non_blank_lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


@pytest.mark.parametrize(
    ("path", "limit"), SIZED, ids=[str(p.relative_to(PACKAGE)) for p, _ in SIZED]
)
def test_module_stays_about_one_concept(path: Path, limit: int) -> None:
    lines = non_blank_lines(path)
    assert lines <= limit, f"{path.relative_to(ROOT)} has {lines} non-blank lines (> {limit})"


def test_every_area_is_sized() -> None:
    for part in LIMITS:
        assert any(p.parent.name == part for p, _ in SIZED), f"no modules found in {part}/"


# -- docs the code can cite -------------------------------------------------------------------

#: A design note or issue tracker that a user of the repo does not have; code cites docs/.
_OUTSIDE_REF = re.compile(r"DESIGN\.md|DESIGN §|\b[Ii]ssue \d+\b")
CITING = [
    *_sources(PACKAGE, ["**/*.py"]),
    *_sources(TS_SOURCES, ["**/*.ts", "**/*.tsx"]),
    *_sources(ROOT / "tests", ["**/*.py"]),
    *_sources(ROOT / "bench", ["**/*.py"]),
    *_sources(ROOT / "scripts", ["*.py", "demo", "setup", "test"]),
]


def outside_references(paths: Iterable[Path], root: Path = ROOT) -> list[str]:
    """``file:line: text`` for each citation of DESIGN.md or an issue number."""
    hits = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _OUTSIDE_REF.search(line) and path != Path(__file__).resolve():
                hits.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return hits


def test_sources_cite_the_repos_own_docs() -> None:
    assert (ROOT / "docs" / "architecture.md").is_file()
    assert len(CITING) > 50, "the scan found too few sources to mean anything"
    assert not outside_references(CITING), "\n".join(outside_references(CITING))


def test_the_citation_scan_finds_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('"""The rule of DESIGN.md §4."""\n# fixes issue 16\n# an issue with 3 parts\n')
    assert [h.split(":")[1] for h in outside_references([bad], tmp_path)] == ["1", "2"]
