"""Shared harness of the watcher tests: a real FileWatcher on a real tmp dir, its changes
recorded, and a thread census that fails any test leaving a watcher thread behind."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jupyter_hotconf.core.store import Change, ConfigStore
from jupyter_hotconf.core.watcher import FileWatcher
from jupyter_hotconf.pytest_plugin import Recorder, wait_until, write_json

KINDS = ["native", "polling"]


class Harness:
    """One watcher plus what it delivered; ``sentinel()`` proves nothing else is in flight."""

    def __init__(self, root: Path, kind: str, **options: Any) -> None:
        self.root = root
        self.store = ConfigStore(epoch="test")
        self.rec = Recorder()
        opts: dict[str, Any] = {
            "watcher": kind,
            "poll_interval_s": 0.1,
            "debounce_ms": 150,
            "reconcile_interval_s": 0,
            "rearm_interval_s": 0.2,
        }
        opts.update(options)
        self.watcher = FileWatcher(root, self.store, self.rec.extend, **opts)

    def start(self) -> Harness:
        self.watcher.start()
        return self

    def of(self, tenant: str) -> list[Change]:
        return [c for c in list(self.rec.items) if c.tenant_id == tenant]

    def types(self, tenant: str) -> list[str]:
        return [c.change_type.value for c in self.of(tenant)]

    def wait_for(
        self, tenant: str, change_type: str, where: Callable[[Change], bool] = lambda c: True
    ) -> Change:
        """Wait for a change of ``tenant`` of ``change_type`` (matching ``where``)."""

        def found(items: list[Any]) -> bool:
            return any(
                c.tenant_id == tenant and c.change_type.value == change_type and where(c)
                for c in items
            )

        self.rec.wait_for(found, what=f"{change_type} of {tenant}")
        return [c for c in self.of(tenant) if c.change_type.value == change_type and where(c)][-1]

    def sentinel(self, tenant: str = "globex") -> None:
        """Change ``tenant`` and wait for it: every event that came before it is settled."""
        path = self.root / "private" / f"{tenant}.json"
        data = json.loads(path.read_text()) if path.exists() else {}
        data["sentinel"] = token = uuid.uuid4().hex
        write_json(path, data)
        self.wait_for_any(tenant, lambda c: (c.new or {}).get("sentinel") == token)

    def wait_for_any(self, tenant: str, where: Callable[[Change], bool]) -> None:
        self.rec.wait_for(
            lambda items: any(c.tenant_id == tenant and where(c) for c in items),
            what=f"a matching change of {tenant}",
        )

    def config(self, tenant: str) -> dict[str, Any] | None:
        state = self.store.get(tenant)
        return None if state is None else state.config


def watcher_threads(baseline: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in baseline and t.is_alive()]


@contextlib.contextmanager
def watching(root: Path, kind: str, *, start: bool = True, **options: Any) -> Iterator[Harness]:
    """A started watcher; on exit stop it and assert that no thread of it is left alive."""
    baseline = set(threading.enumerate())
    harness = Harness(root, kind, **options)
    try:
        yield harness.start() if start else harness
    finally:
        harness.watcher.stop()
    wait_until(lambda: not watcher_threads(baseline), what="watcher threads to end")
