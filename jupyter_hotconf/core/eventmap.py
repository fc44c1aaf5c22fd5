"""Map a file-system event to the tenants it may have changed (docs/change-detection.md).

Events are hints, not facts: the mapping only decides WHICH tenants to reload; what changed
is decided by reading them. It errs on the side of a full rescan (``ALL``) wherever one
event can stand for many files: ``defaults.*``/``schema.json`` (merged under every tenant),
anything below a ``..``-prefixed Kubernetes entry (the ``..data`` swap touches nothing else),
and ``private/`` or the config dir itself appearing, vanishing or moving.
"""

from __future__ import annotations

import logging
import os

from watchdog.events import FileSystemEvent

from .tenants import PRIVATE_DIR, ConfigLayout, ignored_reason

log = logging.getLogger(__name__)

#: Key meaning "reload every tenant" (never a valid tenant id, so it cannot collide).
ALL = "*"

#: The server's own reads; reacting to them would make every reload trigger another.
DROPPED_EVENT_TYPES = frozenset({"opened", "closed_no_write"})

#: Layout classes whose change can affect every tenant.
_EVERY_TENANT = frozenset({"defaults", "schema", "k8s", "private_dir", "root"})


class EventMapper:
    """Callable: event → set of tenant ids (or ``{ALL}``); empty for anything irrelevant."""

    def __init__(self, layout: ConfigLayout) -> None:
        self.layout = layout
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        return f"EventMapper(root={str(self.layout.root)!r})"

    def __call__(self, event: FileSystemEvent) -> set[str]:
        if event.event_type in DROPPED_EVENT_TYPES:
            return set()
        if event.is_directory and event.event_type == "modified":
            return set()  # accompanies every change inside the dir; the file's own event counts
        keys = self.keys_for_path(os.fsdecode(event.src_path))
        dest = getattr(event, "dest_path", "")
        if dest:  # a move counts at both ends: vim moves acme.json away, an editor moves a tmp in
            keys |= self.keys_for_path(os.fsdecode(dest))
        return keys

    def keys_for_path(self, path: str) -> set[str]:
        """The tenants one (possibly deleted) path can affect."""
        kind = self.layout.classify(path)
        if kind == "tenant":
            tenant = self.layout.tenant_of(path)
            return {tenant} if tenant else set()
        if kind in _EVERY_TENANT:
            return {ALL}
        self.warn_ignored(path)
        return set()  # junk, private/ subfolders (.ipynb_checkpoints), unrelated files

    def warn_ignored(self, path: str) -> None:
        """Say once per file why a config-looking ``private/`` file (``ACME.JSON``,
        ``acme corp.json``) is no tenant: a user expecting it to load must not meet silence."""
        parts = self.layout.relname(path).split("/")
        if len(parts) != 2 or parts[0] != PRIVATE_DIR or parts[1] in self._warned:
            return
        reason = ignored_reason(parts[1])
        if reason is not None and os.path.lexists(path):
            self._warned.add(parts[1])
            log.warning("%s/%s is not a tenant file and is ignored: %s",
                        PRIVATE_DIR, parts[1], reason)
