"""core/ stays transport-free (docs/architecture.md): importing any of its
modules, in a fresh interpreter, loads no Tornado, IPython, ipywidgets, ipykernel or
jupyter_server — so the engine runs in a kernel without a server and in a server without
IPython."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import jupyter_hotconf.core

FORBIDDEN = ("tornado", "IPython", "ipywidgets", "ipykernel", "jupyter_server")
MODULES = sorted(
    f"jupyter_hotconf.core.{info.name}"
    for info in pkgutil.iter_modules(jupyter_hotconf.core.__path__)
)

PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
forbidden = sys.argv[2].split(",")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in forbidden)))
"""


def test_every_core_module_is_checked() -> None:
    # A new core module is picked up automatically; these are the ones of docs/architecture.md.
    expected = {"documents", "errors", "protocol", "store", "tenants", "watcher"}
    assert {m.rsplit(".", 1)[1] for m in MODULES} >= expected


@pytest.mark.parametrize("module", ["jupyter_hotconf", "jupyter_hotconf.core", *MODULES])
def test_import_loads_no_transport(module: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, module, ",".join(FORBIDDEN)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"importing {module} failed:\n{proc.stderr}"
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded == [], f"importing {module} loaded {loaded}"


def test_probe_can_fail() -> None:
    """The probe really sees a forbidden import (so the test above can fail)."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "tornado.ioloop", ",".join(FORBIDDEN)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "tornado.ioloop" in json.loads(proc.stdout.strip().splitlines()[-1])
