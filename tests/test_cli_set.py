"""``jupyter-hotconf set`` as a user runs it: a real subprocess against a real ``serve``
process (ETag, then merge PATCH with If-Match), and straight on a config dir under the same
lock; refusals in words a person can act on."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from jupyter_hotconf.cli_set import explain, parse_assignments
from jupyter_hotconf.pytest_plugin import clean_env, wait_until, write_json


def cli(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jupyter_hotconf.cli", "set", *argv],
                          capture_output=True, text=True, env=env, timeout=120)


def tenant(base: str, name: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{base}api/tenants/{name}", timeout=10) as r:
        return dict(json.loads(r.read()))


def test_assignments_make_one_merge_patch() -> None:
    assert parse_assignments(["pricing.discount=0.2", "pricing.note=hello world",
                              "features={\"beta\": true}", "/a~1b/c=null", "n=[1,2]"]) == {
        "pricing": {"discount": 0.2, "note": "hello world"}, "features": {"beta": True},
        "a/b": {"c": None}, "n": [1, 2]}


def test_explain_412_and_422() -> None:
    assert explain(412, {"tenant_id": "acme", "revision": 7}, "u") == (
        "tenant 'acme' changed meanwhile, now revision 7 — try again")
    line = explain(422, {"error": {"file": "private/acme.json", "line": 3, "column": 17,
                                   "pointer": "/pricing/discount", "message": "too big"}}, "u")
    assert line == ("refused: private/acme.json:3:17: too big (at /pricing/discount); "
                    "nothing written")


def test_set_against_a_server(serve, hotconf_dir: Path, tmp_path: Path) -> None:
    env = clean_env(JUPYTER_DATA_DIR=str(tmp_path / "data"), HOTCONF_TOKEN="tok")
    proc = serve(env=env)
    done = cli("acme", "pricing.discount=0.25", "features.beta=true", "--url", proc.http,
               env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("acme: revision 2 (sha256:")
    assert json.loads((hotconf_dir / "private" / "acme.json").read_text()) == {
        "pricing": {"discount": 0.25}, "name": "Acme", "features": {"beta": True}}
    req = urllib.request.Request(f"{proc.base}api/tenants/acme/history",
                                 headers={"Authorization": "Bearer tok"})
    with urllib.request.urlopen(req, timeout=10) as r:
        entry = json.loads(r.read())["entries"][0]
    assert (entry["revision"], entry["source"], entry["actor"]) == (2, "api", "token")

    refused = cli("acme", "pricing.discount=7", "--url", proc.http, env=env)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "jupyter-hotconf set: error: refused: private/acme.json:3:5: 7 is greater than the "
        "maximum of 1 (at /pricing/discount); nothing written"), refused.stderr
    created = cli("initech", "name=Initech", "--url", proc.http, "--format", "json", env=env)
    assert json.loads(created.stdout)["revision"] == 1, created.stderr
    assert json.loads((hotconf_dir / "private" / "initech.json").read_text()) == {
        "name": "Initech"}
    bad = cli("acme", "no-equals-sign", "--url", proc.http, env=env)
    assert bad.returncode == 1 and "PATH=VALUE" in bad.stderr


def test_set_on_a_config_dir_records_who_for_the_server(
    serve, hotconf_dir: Path, tmp_path: Path
) -> None:
    env = clean_env(JUPYTER_DATA_DIR=str(tmp_path / "data"))
    proc = serve(env=env)  # its history database is the one the CLI finds
    done = cli("acme", "name=Local", f"--config-dir={hotconf_dir}", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("acme: revision 2 (sha256:")
    wait_until(lambda: tenant(proc.base, "acme")["revision"] == 2, what="the server applied")
    with urllib.request.urlopen(f"{proc.base}api/tenants/acme/history", timeout=10) as r:
        entry = json.loads(r.read())["entries"][0]
    assert (entry["revision"], entry["source"]) == (2, "api") and entry["actor"]
    again = cli("acme", "name=Local", f"--config-dir={hotconf_dir}", env=env)
    assert "already so, nothing written" in again.stdout
    write_json(hotconf_dir / "private" / "acme.json", {"name": "x"})
    refused = cli("acme", "pricing.discount=2", f"--config-dir={hotconf_dir}", env=env)
    assert refused.returncode == 1 and "/pricing/discount" in refused.stderr
    assert json.loads((hotconf_dir / "private" / "acme.json").read_text()) == {"name": "x"}
