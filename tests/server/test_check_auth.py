"""Acceptance 9: the CI check fails when a handler method lacks an auth decorator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "scripts" / "check_auth.py"

BAD_MODULE = '''
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web


class Naked(APIHandler):
    def get(self):
        pass


class OnlyAuthorized(APIHandler):
    @authorized
    def post(self):
        pass


class Fine(APIHandler):
    @web.authenticated
    @authorized
    def get(self):
        pass
'''


def run(*modules: str, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = f"{path}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return subprocess.run([sys.executable, str(SCRIPT), *modules], capture_output=True,
                          text=True, timeout=120, env=env)


def test_project_handlers_pass() -> None:
    result = run()
    assert result.returncode == 0, result.stderr
    assert "every handler method is authenticated" in result.stdout


def test_undecorated_method_fails(tmp_path: Path) -> None:
    (tmp_path / "bad_handlers.py").write_text(BAD_MODULE)
    result = run("bad_handlers", path=tmp_path)
    assert result.returncode == 1
    assert "bad_handlers.Naked.get: no authentication decorator (found: none)" in result.stderr
    assert "bad_handlers.OnlyAuthorized.post: no authentication decorator (found: authorized)" \
        in result.stderr
    assert "Fine" not in result.stderr
