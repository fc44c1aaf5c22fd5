"""The README's demo command starts JupyterLab with hotconf serving this repo's configs/."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from jupyter_hotconf.pytest_plugin import free_port, wait_until

REPO = Path(__file__).resolve().parents[1]
TOKEN = "demo-test-token"


def get_json(url: str) -> object | None:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_demo_serves_the_repo_configs(tmp_path: Path, user_env: dict[str, str]) -> None:
    port = free_port()
    env = dict(
        user_env,  # without the tests' kernelspec dir, as a user runs the demo
        HOTCONF_SKIP_SETUP="1",
        HOTCONF_DEMO_PORT=str(port),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
    )
    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen(
        ["bash", "scripts/demo", f"--IdentityProvider.token={TOKEN}"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}/hotconf/api/"
        tenants = wait_until(lambda: get_json(base + "tenants"), timeout=120, what="the demo")
        assert sorted(t["tenant_id"] for t in tenants) == ["acme", "globex", "initech"]
        assert all(t["valid"] for t in tenants)
        info = get_json(base + "info")
        assert isinstance(info, dict) and info["mode"] == "demo"
        assert info["config_dir_relative"] == "configs"
        # The launcher offers one Python kernel: the tests' ipykernel-6 spec stays theirs.
        specs = get_json(f"http://127.0.0.1:{port}/api/kernelspecs")
        assert isinstance(specs, dict) and sorted(specs["kernelspecs"]) == ["python3"], specs
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
