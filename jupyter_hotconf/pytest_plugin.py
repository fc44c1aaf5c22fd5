"""Pytest fixtures shared by this project's tests (and usable by projects that embed it).

Enable with ``pytest_plugins = ["jupyter_hotconf.pytest_plugin"]``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

#: Generous deadline that only bounds a wait (never an assertion about speed).
DEADLINE_S = float(os.environ.get("HOTCONF_TEST_DEADLINE", "20"))


def wait_until(
    predicate: Callable[[], T], timeout: float = DEADLINE_S, interval: float = 0.01, what: str = ""
) -> T:
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout``.

    This waits for an observable state, it does not sleep to synchronise: the interval only
    paces the check.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate!r}")
        time.sleep(interval)


class Recorder:
    """Thread-safe list of items with a condition to wait on (for callbacks from threads)."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def extend(self, items: list[Any]) -> None:
        with self._cond:
            self.items.extend(items)
            self._cond.notify_all()

    def wait_for(
        self, predicate: Callable[[list[Any]], bool], timeout: float = DEADLINE_S, what: str = ""
    ) -> list[Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.items), timeout):
                pytest.fail(f"timed out after {timeout}s waiting for {what}; got {self.items!r}")
            return list(self.items)


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON atomically (temp file + ``os.replace``), as editors and git do."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


EXAMPLE_DEFAULTS: dict[str, Any] = {
    "pricing": {"currency": "USD", "discount": 0.0},
    "features": {"beta": False},
}
EXAMPLE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "pricing": {
            "type": "object",
            "properties": {
                "currency": {"type": "string"},
                "discount": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "features": {"type": "object"},
    },
}


@pytest.fixture
def hotconf_dir(tmp_path: Path) -> Iterator[Path]:
    """A fresh config dir: ``defaults.json``, ``schema.json``, ``private/acme.json`` and
    ``private/globex.json``, all valid."""
    root = tmp_path / "configs"
    (root / "private").mkdir(parents=True)
    write_json(root / "defaults.json", EXAMPLE_DEFAULTS)
    write_json(root / "schema.json", EXAMPLE_SCHEMA)
    write_json(root / "private" / "acme.json", {"pricing": {"discount": 0.1}, "name": "Acme"})
    write_json(root / "private" / "globex.json", {"pricing": {"discount": 0.2}, "name": "Globex"})
    yield root
