"""Reconcile scan: notice changes no event reported (docs/change-detection.md).

inotify can overflow, a write through a hard link outside the watched dir reports nothing to
the dir's watch, and polling compares only mtime and size, so a same-size rewrite with the
mtime put back is invisible to it. ``st_ctime_ns`` cannot be set from user space, so a
(ctime, size, inode) stamp of every config file catches each of these.

The stamps say what the watcher last READ, not what the previous scan saw: every reload
re-stamps the files it is about to read (``StampBook.note_tenant``/``note_shared``), so a
scan reports only a change no reload has looked at — a missed event — instead of every
file changed since the previous scan.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .tenants import ConfigLayout

Stamp = tuple[int, int, int, int, int]  # ctime_ns, mtime_ns, size, inode, device
Stamps = dict[str, Stamp]

#: Group key of ``defaults.*`` and ``schema.json`` (never a valid tenant id).
SHARED = ""


def _stamp(path: Path) -> Stamp | None:
    try:
        # Follow symlinks: a Kubernetes swap changes what private/acme.json resolves to,
        # never the link itself.
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ctime_ns, st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)


def stamps_of(paths: Iterable[Path]) -> Stamps:
    """Stamp of each path that exists."""
    stamps: Stamps = {}
    for path in paths:
        stamp = _stamp(path)
        if stamp is not None:
            stamps[str(path)] = stamp
    return stamps


def _shared_paths(layout: ConfigLayout) -> list[Path]:
    paths = list(layout.defaults_files())
    schema = layout.schema_file()
    if schema is not None:
        paths.append(schema)
    return paths


def take_stamps(layout: ConfigLayout) -> dict[str, Stamps]:
    """Stamps of every config file of the layout, grouped: ``SHARED`` (defaults, schema)
    and one group per tenant on disk."""
    groups = {SHARED: stamps_of(_shared_paths(layout))}
    for tenant, files in layout.scan_tenants().items():
        groups[tenant] = stamps_of(files)
    return groups


def moved_paths(before: Stamps, after: Stamps) -> set[str]:
    """Paths that appeared, vanished or whose stamp differs."""
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


class StampBook:
    """The stamp of every config file as of the watcher's last read of it.

    Worker-thread state (no lock). A reload notes the files it is about to read BEFORE it
    reads them: a write landing between the note and the read only costs one redundant
    reload at the next scan, whereas noting after the read could hide a missed write.
    """

    def __init__(self, layout: ConfigLayout) -> None:
        self._layout = layout
        self._groups: dict[str, Stamps] = {}

    def note_all(self) -> None:
        """Stamp everything (before the initial load)."""
        self._groups = take_stamps(self._layout)

    def note_shared(self) -> None:
        """``defaults.*`` and ``schema.json`` are about to be read."""
        self._groups[SHARED] = stamps_of(_shared_paths(self._layout))

    def note_tenant(self, tenant: str) -> None:
        """``tenant``'s files are about to be read (none: the tenant has no stamps)."""
        stamps = stamps_of(self._layout.tenant_files(tenant))
        if stamps:
            self._groups[tenant] = stamps
        else:
            self._groups.pop(tenant, None)

    def scan(self) -> set[str]:
        """Paths that moved since they were last noted; everything is noted afresh."""
        now = take_stamps(self._layout)
        moved: set[str] = set()
        for group in self._groups.keys() | now.keys():
            moved |= moved_paths(self._groups.get(group, {}), now.get(group, {}))
        self._groups = now
        return moved
