"""Every notebook in notebooks/ runs headless with nbclient, in local mode against a copy of
the repo's configs/ (found as the nearest configs/, as in the repo; a notebook that writes,
write-back, never changes the repo's files), on ipykernel 7 and 6."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .kernels import KERNELS

REPO = Path(__file__).parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "live-dashboard.ipynb",
                                           "write-back.ipynb"}


@pytest.mark.parametrize("kernel_name", KERNELS)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, kernel_name: str, monkeypatch: pytest.MonkeyPatch,
                      tmp_path: Path) -> None:
    for k in list(os.environ):
        if "HOTCONF" in k or k.startswith("JPY_") or k.startswith("JUPYTERHUB"):
            monkeypatch.delenv(k)
    nb = nbformat.read(path, as_version=4)
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    (tmp_path / "notebooks").mkdir()
    NotebookClient(nb, timeout=120, kernel_name=kernel_name,
                   resources={"metadata": {"path": str(tmp_path / "notebooks")}}).execute()
    text = "\n".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "error" not in {o.get("output_type") for c in nb.cells for o in c.get("outputs", [])}
    if path.stem == "quickstart":
        assert "status local" in text and "acme" in text and '"discount"' in text
    if path.stem == "write-back":  # cfg.set wrote the file; the refused value did not
        acme = json.loads((tmp_path / "configs" / "private" / "acme.json").read_text())
        assert acme["pricing"]["discount"] == 0.2 and acme["name"] == "Acme Corporation"
        assert "discount 20%" in text and "refused: /pricing/discount" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_a_voila_dashboard(path: Path) -> None:
    """Voilà runs every cell and then serves the page: a cell that unloads the extension
    would leave a dashboard that never updates (tests/e2e/test_voila.py runs one)."""
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "%unload_ext" not in code and ".close()" not in code
    assert "voila" in "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
