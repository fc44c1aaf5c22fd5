"""Fixtures for every test (``jupyter_hotconf.pytest_plugin``), and the test-only kernelspec.

``scripts/setup`` installs the ipykernel-6 kernelspec ``hotconf-ipykernel6`` in a dir of its
own, ``.venv-ipk6/test-jupyter/share/jupyter``, where a user's JupyterLab (the demo's) does not
look; the tests put that dir on ``JUPYTER_PATH`` so their kernels and servers (subprocesses
inherit it) find it. ``user_env`` is the environment without it, as a user has it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

pytest_plugins = ["jupyter_hotconf.pytest_plugin"]

REPO = Path(__file__).resolve().parents[1]
TEST_JUPYTER_PATH = str(REPO / ".venv-ipk6" / "test-jupyter" / "share" / "jupyter")
_USER_JUPYTER_PATH = [d for d in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if d]

os.environ["JUPYTER_PATH"] = os.pathsep.join([TEST_JUPYTER_PATH, *_USER_JUPYTER_PATH])
# Jupyter's data dir holds the default history database of every config dir
# (docs/history.md): the tests' servers, subprocesses and kernels get one of their own,
# so a run never writes into the user's ~/.local/share/jupyter.
os.environ["JUPYTER_DATA_DIR"] = tempfile.mkdtemp(prefix="hotconf-test-data-")


@pytest.fixture
def user_env() -> dict[str, str]:
    """``os.environ`` as the user had it: without the tests' kernelspec dir."""
    return dict(os.environ, JUPYTER_PATH=os.pathsep.join(_USER_JUPYTER_PATH))
