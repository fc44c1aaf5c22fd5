"""Read a config file safely: bounded by ``max_file_bytes`` and stable against a writer.

A file bigger than the limit is refused from its ``fstat`` before any byte is read; a file
whose size, mtime or inode moved while it was read is read again (docs/change-detection.md).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from .errors import InvalidDocument

log = logging.getLogger(__name__)

_READ_ATTEMPTS = 3


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ino


def _read_bounded(path: Path, file: str, max_file_bytes: int) -> tuple[bytes, tuple[int, int, int]]:
    """One read of at most ``max_file_bytes``; refuse a bigger file before reading it."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise InvalidDocument("not a regular file", file=file)
        if st.st_size > max_file_bytes:
            raise InvalidDocument(
                f"file is {st.st_size} bytes, over the limit of {max_file_bytes} "
                "(max_file_bytes); refused",
                file=file,
            )
        data = fh.read(max_file_bytes + 1)
    if len(data) > max_file_bytes:
        raise InvalidDocument(
            f"file grew past the limit of {max_file_bytes} bytes (max_file_bytes) while read",
            file=file,
        )
    return data, _identity(st)


def read_stable(path: Path, *, file: str, max_file_bytes: int) -> bytes:
    """Read until size, mtime and inode are the same before and after (a writer may be
    mid-save); after a few tries the last read is used and the watcher reloads later."""
    data = b""
    for _ in range(_READ_ATTEMPTS):
        data, before = _read_bounded(path, file, max_file_bytes)
        try:
            after = _identity(os.stat(path))
        except FileNotFoundError:
            continue
        if before == after and len(data) == before[0]:
            return data
        log.debug("%s changed while read; reading again", file)
    return data
