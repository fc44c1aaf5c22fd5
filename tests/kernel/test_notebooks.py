"""Every notebook in notebooks/ runs headless with nbclient, in local mode against the repo's
configs/, on ipykernel 7 and 6."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .kernels import KERNELS

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "live-dashboard.ipynb"}


@pytest.mark.parametrize("kernel_name", KERNELS)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, kernel_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for k in list(os.environ):
        if "HOTCONF" in k or k.startswith("JPY_") or k.startswith("JUPYTERHUB"):
            monkeypatch.delenv(k)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name=kernel_name,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "\n".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "error" not in {o.get("output_type") for c in nb.cells for o in c.get("outputs", [])}
    if path.stem == "quickstart":
        assert "status local" in text and "acme" in text and '"discount"' in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_a_voila_dashboard(path: Path) -> None:
    """Voilà runs every cell and then serves the page: a cell that unloads the extension
    would leave a dashboard that never updates (tests/e2e/test_voila.py runs one)."""
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "%unload_ext" not in code and ".close()" not in code
    assert "voila" in "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
