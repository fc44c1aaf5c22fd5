"""Import ``jsonschema`` without building an IRI grammar nobody asked for.

``jsonschema``'s format module imports ``rfc3987_syntax`` at import time (it is installed
with ``jsonschema[format-nongpl]``, which ``jupyter_events`` asks for), and that package
builds a Lark grammar as it is imported: most of a second on a fast machine, 2.5 s on a busy
one — paid by every ``jupyter-hotconf validate``, every ``%load_ext`` and every server start,
although only an ``"format": "iri"`` in a schema ever uses it (docs/benchmarks.md).

``deferred_rfc3987()`` puts a stand-in module there while ``jsonschema`` is first imported:
its ``is_valid_syntax`` imports the real package on first use, so the ``iri`` format is
still checked, exactly as before, when a schema asks for it. The stand-in leaves
``sys.modules`` as soon as the import is done, so anyone importing ``rfc3987_syntax``
afterwards gets the real one.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

_NAME = "rfc3987_syntax"


def _is_valid_syntax(rule: str, value: str) -> bool:
    real = importlib.import_module(_NAME)
    return bool(real.is_valid_syntax(rule, value))


@contextmanager
def deferred_rfc3987() -> Iterator[None]:
    """While the body runs, ``import rfc3987_syntax`` gets a lazy stand-in (only when the real
    package is installed and not imported yet, and ``jsonschema`` is not imported yet)."""
    if _NAME in sys.modules or "jsonschema" in sys.modules or not importlib.util.find_spec(_NAME):
        yield
        return
    stand_in = types.ModuleType(_NAME, "lazy stand-in: imports rfc3987_syntax on first use")
    stand_in.is_valid_syntax = _is_valid_syntax  # type: ignore[attr-defined]
    sys.modules[_NAME] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(_NAME) is stand_in:
            del sys.modules[_NAME]
