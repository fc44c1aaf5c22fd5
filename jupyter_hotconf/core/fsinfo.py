"""Which filesystem a directory lives on, and whether inotify can be trusted there.

inotify only sees changes made through the local kernel: on NFS, SMB, sshfs, 9p or any
FUSE filesystem a change made on another machine (or by the FUSE daemon) produces no event
at all. ``watcher="auto"`` therefore reads the mount table and polls on those
(docs/change-detection.md). The table is injectable so tests can pretend a dir sits on NFS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Filesystem types where native change notification misses remote writes.
POLLING_FS_TYPES: frozenset[str] = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smbfs",
        "smb3",
        "sshfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "ncpfs",
        "davfs",
        "fuse",
        "fuseblk",
    }
)

DEFAULT_MOUNT_TABLES: tuple[str, ...] = ("/proc/self/mountinfo", "/proc/mounts")


@dataclass(frozen=True)
class Mount:
    """One mount point and the type of the filesystem mounted there."""

    mount_point: str
    fs_type: str


def _unescape(field: str) -> str:
    """The kernel writes space, tab, newline and backslash in paths as octal escapes."""
    for esc, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(esc, char)
    return field


def parse_mounts(text: str) -> list[Mount]:
    """Parse ``/proc/self/mountinfo`` or ``/proc/mounts`` text (the format is detected per line).

    mountinfo: ``36 35 98:0 / /mnt rw - nfs4 srv:/x rw`` (mount point is field 5, the type
    follows the `` - `` separator); mounts: ``srv:/x /mnt nfs4 rw 0 0``. Lines that fit
    neither are skipped.
    """
    mounts: list[Mount] = []
    for line in text.splitlines():
        fields = line.split()
        if " - " in line and len(fields) >= 7:
            before, _, after = line.partition(" - ")
            head, tail = before.split(), after.split()
            if len(head) >= 5 and tail:
                mounts.append(Mount(_unescape(head[4]), tail[0]))
        elif len(fields) >= 3:
            mounts.append(Mount(_unescape(fields[1]), fields[2]))
    return mounts


def read_mounts(mounts_file: str | Path | None = None) -> list[Mount]:
    """The mount table from ``mounts_file``, or the first readable default; [] if none."""
    candidates = (str(mounts_file),) if mounts_file is not None else DEFAULT_MOUNT_TABLES
    for candidate in candidates:
        try:
            with open(candidate, encoding="utf-8", errors="replace") as fh:
                return parse_mounts(fh.read())
        except OSError:
            continue
    return []


def fs_type_of(path: str | Path, mounts: list[Mount]) -> str | None:
    """The fs type of the longest mount point containing ``path`` (the last of equal ones,
    as a later mount hides an earlier one); None when the table is empty.

    A dir that does not exist yet is judged by the mount it will be created on: no mount
    point can lie below a missing dir, so plain prefix matching on its real path is right.
    """
    target = os.path.realpath(path)
    best: tuple[int, str] | None = None
    for mount in mounts:
        point = mount.mount_point.rstrip("/") or "/"
        inside = point == "/" or target == point or target.startswith(point + "/")
        if inside and (best is None or len(point) >= best[0]):
            best = (len(point), mount.fs_type)
    return best[1] if best is not None else None


def needs_polling(fs_type: str | None) -> bool:
    """Whether inotify would miss changes on ``fs_type`` (network and FUSE filesystems)."""
    if fs_type is None:
        return False
    return fs_type in POLLING_FS_TYPES or fs_type.startswith("fuse.")


def choose_kind(
    requested: str, path: str | Path, *, mounts_file: str | Path | None = None
) -> tuple[str, str]:
    """Resolve ``auto|native|polling`` to ``(kind, reason)`` for the dir at ``path``."""
    if requested == "native":
        return "native", "watcher='native' was requested"
    if requested == "polling":
        return "polling", "watcher='polling' was requested"
    if requested != "auto":
        raise ValueError(f"watcher must be 'auto', 'native' or 'polling', not {requested!r}")
    fs_type = fs_type_of(path, read_mounts(mounts_file))
    if needs_polling(fs_type):
        why = f"{path} is on a {fs_type} filesystem, where inotify sees no remote change"
        return "polling", why
    return "native", f"{path} is on a {fs_type or 'local'} filesystem"
