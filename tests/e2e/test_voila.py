"""The example notebooks as Voilà dashboards in a real Chromium: ``voila x.ipynb`` (the kernel
has no Jupyter server, so it runs in local mode) and ``/voila/render/x.ipynb`` of a Jupyter
server with the hotconf extension (server mode). Edits of two tenants' files show in the page
without a reload (docs/kernel.md)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jupyter_hotconf.pytest_plugin import DEADLINE_S, free_port, wait_until, write_json

from .browser import IMG_DIR
from .lab import START_DEADLINE_S, LabServer
from .test_lab_status import wait_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).parents[2]
#: Voilà runs every cell before it shows the widgets: a cold kernel on a busy machine.
PAGE_TIMEOUT_MS = 120_000
UPDATE_TIMEOUT_MS = int(DEADLINE_S * 1000)
SHARED_SCOPE = re.compile(r"Shared module .* doesn't exist in shared scope")
ROW = 'table.hotconf-dashboard tr[data-tenant="{}"]'


def kernel_pids(marker: Path) -> list[int]:
    """ipykernel processes whose command line names a path under ``marker`` (their
    connection file), i.e. the kernels this test's servers started."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        if "ipykernel" in cmdline and str(marker) in cmdline:
            pids.append(int(proc.name))
    return pids


def prepare_root(root: Path, notebook: str) -> Path:
    """A copy of the repo's configs and one notebook, so the test never edits the repo's."""
    root.mkdir(parents=True)
    shutil.copytree(REPO / "configs", root / "configs")
    shutil.copy(REPO / "notebooks" / notebook, root / notebook)
    return root / "configs"


@dataclass
class VoilaApp:
    """``voila NOTEBOOK`` on 127.0.0.1 in ``root``; ``stop()`` ends it and its kernels."""

    root: Path
    notebook: str
    home: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        voila = Path(sys.executable).with_name("voila")
        if not voila.exists():
            pytest.fail(f"{voila} missing: pip install -e '.[test]'")
        env = {
            k: v for k, v in os.environ.items()
            if "HOTCONF" not in k and not k.startswith(("JPY_", "JUPYTERHUB"))
        }  # fmt: skip
        env.update(
            # Local mode on the copy (the kernel's working dir is root; this makes it explicit).
            HOTCONF_CONFIG_DIR=str(self.root / "configs"),
            JUPYTER_CONFIG_DIR=str(self.home / "config"),
            JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
            PYTHONUNBUFFERED="1",
        )
        self.log_path = self.home / f"voila-{self.port}.log"
        self.home.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(voila), self.notebook,
            "--no-browser",
            "--Voila.ip=127.0.0.1",
            f"--port={self.port}",
            "--Voila.port_retries=0",
            # Kernels' connection files under home: kernel_pids() finds them by that path.
            f"--Voila.connection_dir_root={self.home}",
            "--show_tracebacks=True",
        ]  # fmt: skip
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=self.root, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_until(self._ready, timeout=START_DEADLINE_S, interval=0.2, what=f"voila on {self.url}")

    def _ready(self) -> bool:
        # Not a GET of the page: that would start a kernel and run the notebook.
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"voila exited {self.proc.returncode}:\n{self.tail()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        """SIGTERM: Voilà stops its loop and shuts every kernel down."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@pytest.fixture
def console(page: Any) -> list[str]:
    """Every console message and uncaught page error of the test's page, and the answers
    to requests for the hotconf lab extension's code."""
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.on("response", lambda r: messages.append(f"response {r.status} {r.url}")
            if "jupyter-hotconf/static/remoteEntry" in r.url else None)
    return messages


@pytest.fixture
def voila_app(tmp_path: Path) -> Iterator[Callable[[str], VoilaApp]]:
    """Factory: ``voila_app("x.ipynb")`` serves a copy of that notebook and of configs/."""
    apps: list[VoilaApp] = []

    def start(notebook: str) -> VoilaApp:
        home = tmp_path / f"h{len(apps)}"
        app = VoilaApp(root=tmp_path / f"root{len(apps)}", notebook=notebook, home=home)
        apps.append(app)
        prepare_root(app.root, notebook)
        app.start()
        return app

    yield start
    for app in apps:
        app.stop()
    wait_until(lambda: not kernel_pids(tmp_path), timeout=DEADLINE_S, interval=0.2,
               what="the kernels of the test to exit")  # fmt: skip


@pytest.fixture
def voila_server(tmp_path: Path, labextension_installed: None) -> Iterator[LabServer]:
    """``jupyter server`` with the hotconf and Voilà server extensions on a temp root."""
    root = tmp_path / "root"
    prepare_root(root, "live-dashboard.ipynb")
    server = LabServer(home=tmp_path / "home", root=root, app="jupyter_server")
    # Explicit, as lab.py does for hotconf: not the auto-enable file of the install.
    conf_d = server.home / "config" / "jupyter_server_config.d"
    conf_d.mkdir(parents=True)
    (conf_d / "voila.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"voila.server_extension": True}}})
    )
    server.start()
    yield server
    server.stop()
    wait_until(lambda: not kernel_pids(tmp_path), timeout=DEADLINE_S, interval=0.2,
               what="the kernels of the test to exit")  # fmt: skip


def open_dashboard(page: Any, url: str, status: str) -> None:
    """Open the page, wait for the table and every tenant's indicator to say ``status``."""
    page.goto(url)
    try:
        page.locator("table.hotconf-dashboard").wait_for(timeout=PAGE_TIMEOUT_MS)
    except Exception as err:  # playwright's TimeoutError: say what the page shows
        pytest.fail(f"no dashboard table; the page shows:\n{page.inner_text('body')}\n({err})")
    for tenant in ("acme", "globex", "initech"):
        wait_text(page, f'.hotconf-indicator[title*="· {tenant} ·"]', status,
                  timeout_ms=PAGE_TIMEOUT_MS)  # fmt: skip
    wait_text(page, ROW.format("acme"), "15%")
    wait_text(page, ROW.format("globex"), "5%")


def edit_two_tenants_and_check(page: Any, config_dir: Path) -> None:
    """acme (JSON) and globex (YAML) change; both rows, the change log and acme's live cell
    follow in the same page, at the same revision."""
    # A reload (or a navigation) would drop this marker.
    page.evaluate("window.__hotconfNoReload = true")
    acme = config_dir / "private" / "acme.json"
    doc = json.loads(acme.read_text())
    doc["pricing"]["discount"] = 0.33
    write_json(acme, doc)
    globex = config_dir / "private" / "globex.yaml"
    text = globex.read_text()
    assert "discount: 0.05" in text
    tmp = globex.with_name(".globex.yaml.tmp")
    tmp.write_text(text.replace("discount: 0.05", "discount: 0.44"))
    os.replace(tmp, globex)

    acme_row = wait_text(page, ROW.format("acme"), "33%", timeout_ms=UPDATE_TIMEOUT_MS)
    globex_row = wait_text(page, ROW.format("globex"), "44%", timeout_ms=UPDATE_TIMEOUT_MS)
    assert "\t0%\t" in page.inner_text(ROW.format("initech")), "initech changed unedited"
    assert page.evaluate("window.__hotconfNoReload === true"), "the page was reloaded"
    revision = acme_row.split()[-1]
    assert revision.isdigit() and int(revision) > 1, acme_row
    for tenant, row in (("acme", acme_row), ("globex", globex_row)):
        wait_text(page, "body", f"{tenant} rev {row.split()[-1]}: /pricing/discount",
                  timeout_ms=UPDATE_TIMEOUT_MS)  # fmt: skip
    # The live cell re-ran for that revision and read it (one provider per tenant per kernel).
    wait_text(page, "body", f"discount 33%, 2 tiers (revision {revision})",
              timeout_ms=UPDATE_TIMEOUT_MS)  # fmt: skip


def assert_no_shared_scope_error(console: list[str]) -> None:
    """The lab extension was served to the page (a Voilà that refuses its files, as with a
    symlinked ``labextension develop`` install, would pass the rest vacuously) and loaded
    without the shared-scope error."""
    served = [m for m in console if m.startswith("response 200 ")]
    assert served, "the page never loaded jupyter-hotconf's remoteEntry:\n" + "\n".join(console)
    bad = [m for m in console if SHARED_SCOPE.search(m)]
    assert not bad, "\n".join(bad)


def test_voila_command_local_mode(
    voila_app: Callable[[str], VoilaApp], page: Any, console: list[str]
) -> None:
    app = voila_app("live-dashboard.ipynb")
    open_dashboard(page, app.url, "Local")
    assert kernel_pids(app.home), "no kernel found: the teardown check could not fail"
    edit_two_tenants_and_check(page, app.root / "configs")
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG_DIR / "voila.png"), full_page=True)
    assert_no_shared_scope_error(console)


def test_voila_server_extension_server_mode(
    voila_server: LabServer, page: Any, console: list[str]
) -> None:
    open_dashboard(page, voila_server.lab_url("voila/render/live-dashboard.ipynb"), "Live")
    assert kernel_pids(voila_server.home), "no kernel found: the teardown check could not fail"
    edit_two_tenants_and_check(page, voila_server.config_dir)
    assert_no_shared_scope_error(console)


def test_quickstart_in_voila(voila_app: Callable[[str], VoilaApp], page: Any) -> None:
    """The other notebook: its live cell and its config tree follow acme in the page."""
    app = voila_app("quickstart.ipynb")
    page.goto(app.url)
    wait_text(page, "pre.hotconf-tree", '"discount": 0.15', timeout_ms=PAGE_TIMEOUT_MS)
    wait_text(page, "body", "Acme discount: 15%")
    page.evaluate("window.__hotconfNoReload = true")
    acme = app.root / "configs" / "private" / "acme.json"
    doc = json.loads(acme.read_text())
    doc["pricing"]["discount"] = 0.33
    write_json(acme, doc)
    wait_text(page, "pre.hotconf-tree", '"discount": 0.33', timeout_ms=UPDATE_TIMEOUT_MS)
    wait_text(page, "body", "Acme discount: 33%", timeout_ms=UPDATE_TIMEOUT_MS)
    assert page.evaluate("window.__hotconfNoReload === true"), "the page was reloaded"
