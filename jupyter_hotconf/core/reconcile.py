"""Reconcile scan: notice changes no event reported (DESIGN.md §4).

inotify can overflow, a write through a hard link outside the watched dir reports nothing to
the dir's watch, and polling compares only mtime and size, so a same-size rewrite with the
mtime put back is invisible to it. ``st_ctime_ns`` cannot be set from user space, so a
(ctime, size, inode) stamp of every config file catches each of these.
"""

from __future__ import annotations

import os
from pathlib import Path

from .tenants import ConfigLayout

Stamp = tuple[int, int, int, int, int]  # ctime_ns, mtime_ns, size, inode, device
Stamps = dict[str, Stamp]


def _stamp(path: Path) -> Stamp | None:
    try:
        # Follow symlinks: a Kubernetes swap changes what private/acme.json resolves to,
        # never the link itself.
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ctime_ns, st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)


def take_stamps(layout: ConfigLayout) -> Stamps:
    """Stamp of every config file of the layout (defaults, schema, every tenant file)."""
    paths: list[Path] = list(layout.defaults_files())
    schema = layout.schema_file()
    if schema is not None:
        paths.append(schema)
    for files in layout.scan_tenants().values():
        paths.extend(files)
    stamps: Stamps = {}
    for path in paths:
        stamp = _stamp(path)
        if stamp is not None:
            stamps[str(path)] = stamp
    return stamps


def moved_paths(before: Stamps, after: Stamps) -> set[str]:
    """Paths that appeared, vanished or whose stamp differs."""
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
