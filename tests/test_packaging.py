"""What `pip install` must deliver: the prebuilt JupyterLab extension enabled, the server
extension enabled, and a wheel that carries both."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from jupyter_hotconf import __version__

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*argv: str, cwd: Path = REPO) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_labextension_is_listed_enabled_ok() -> None:
    out = run(str(BIN / "jupyter"), "labextension", "list")
    line = next((x for x in out.splitlines() if "jupyter-hotconf" in x), "")
    assert "enabled" in line and "OK" in line, out


def test_server_extension_is_enabled() -> None:
    out = run(str(BIN / "jupyter"), "server", "extension", "list")
    assert "jupyter_hotconf" in out and "enabled" in out, out


def test_wheel_carries_the_prebuilt_extension_and_server_config(tmp_path: Path) -> None:
    run(sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
        "-q", "-w", str(tmp_path))
    (wheel,) = tmp_path.glob("jupyter_hotconf-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = f"jupyter_hotconf-{__version__}.data/data/"
    ext = data + "share/jupyter/labextensions/jupyter-hotconf/"
    assert ext + "package.json" in names
    assert ext + "install.json" in names
    assert any(n.startswith(ext + "static/remoteEntry.") for n in names), names
    assert data + "etc/jupyter/jupyter_server_config.d/jupyter_hotconf.json" in names
    assert "jupyter_hotconf/core/watcher.py" in names
