"""``jupyter-hotconf history | diff | rollback`` as a user runs them: real subprocesses against
a real ``serve`` process, and straight from the history database of a config dir."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from jupyter_hotconf.pytest_plugin import ServeProcess, clean_env, wait_until, write_json


def cli(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jupyter_hotconf.cli", *argv],
                          capture_output=True, text=True, env=env, timeout=120)


def revision(proc: ServeProcess, tenant: str) -> int:
    with urllib.request.urlopen(f"{proc.base}api/tenants/{tenant}", timeout=10) as r:
        return int(json.loads(r.read())["revision"])


def test_history_diff_rollback_against_a_server_and_from_the_config_dir(
    serve, hotconf_dir: Path, tmp_path: Path
) -> None:
    env = clean_env(JUPYTER_DATA_DIR=str(tmp_path / "data"))
    proc = serve(env=env)
    write_json(hotconf_dir / "private" / "acme.json",
               {"pricing": {"discount": 0.3}, "name": "Acme"})
    wait_until(lambda: revision(proc, "acme") == 2, what="the edit applied")
    remote = {**env, "HOTCONF_URL": proc.http}  # the /hotconf/ suffix is added

    table = cli("history", "acme", env=remote)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[1].split() == ["REV", "TIME", "CHANGE", "SOURCE", "ACTOR", "PATHS"]
    assert lines[2].split()[:1] + lines[2].split()[2:] == [
        "2", "modified", "watcher", "-", "/pricing/discount"]
    served: dict[str, Any] = json.loads(cli("history", "acme", "--format", "json",
                                            env=remote).stdout)
    assert [e["revision"] for e in served["entries"]] == [2, 1]
    local = json.loads(cli("history", "acme", "--format=json",
                           f"--config-dir={hotconf_dir}", env=env).stdout)
    assert local == served

    diff = cli("diff", "acme", "1", "2", env=remote)
    assert diff.returncode == 0 and "replace  /pricing/discount  0.3" in diff.stdout
    for where in (["--url", proc.base], ["--config-dir", str(hotconf_dir)]):
        body = json.loads(cli("diff", "acme", "1", *where, "--format", "json", env=env).stdout)
        assert (body["from"], body["to"], body["changed_paths"]) == (
            1, 2, ["/pricing/discount"])

    done = cli("rollback", "acme", "1", "--url", proc.base, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("rolled back to revision 1: now revision 3")
    again = json.loads(cli("rollback", "acme", "1", "--format", "json", env=remote).stdout)
    assert (again["changed"], again["revision"]) == (False, 3)
    newest = json.loads(cli("history", "acme", "--format", "json", "--limit", "1",
                            env=remote).stdout)["entries"]
    assert [(e["revision"], e["source"]) for e in newest] == [(3, "rollback")]

    unknown = cli("rollback", "acme", "99", env=remote)
    assert unknown.returncode == 1 and "404" in unknown.stderr and "99" in unknown.stderr
    missing = cli("diff", "acme", "1", "99", f"--config-dir={hotconf_dir}", env=env)
    assert missing.returncode == 1 and "no revision 99" in missing.stderr
    nowhere = cli("history", "acme", env=clean_env())
    assert nowhere.returncode == 1 and "HOTCONF_URL" in nowhere.stderr
