"""The config dir as given and the directory it resolves to now (docs/change-detection.md).

Deploy tools publish a release by re-pointing a symlink atomically (``configs ->
releases/v1``, then ``ln -sfn releases/v2 configs``). inotify and the polling observer both
watch the directory they were given *after* symlinks, so an observer armed once on
``releases/v1`` would never hear of ``v2``. The periodic check therefore resolves the given
path again each time, and when its target moved (or the dir vanished, appeared, was
replaced, or the observer died) re-arms the observer on what it resolves to now; the
watcher then rescans every tenant, so each one whose content differs gets its change.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from .observers import ObserverSlot

log = logging.getLogger(__name__)


class Rearm(Enum):
    """Why the check re-armed the observer (each one means a full rescan)."""

    APPEARED = "appeared"
    REPOINTED = "repointed"
    OBSERVER_LOST = "observer_lost"
    AFTER_ERROR = "after_error"  # a rescan only: a healthy observer is left alone


class RootWatch:
    """Tracks ``given`` (absolute, symlinks kept) and ``real`` (what it resolves to), and
    keeps ``slot`` armed on ``real``. ``on_repoint(real)`` runs, observer disarmed, before
    the observer is armed on a new target, so the owner can rebuild what depends on it."""

    def __init__(
        self, given: str | Path, slot: ObserverSlot, on_repoint: Callable[[str], None]
    ) -> None:
        self.given = os.path.abspath(given)
        self.real = os.path.realpath(self.given)
        self.slot = slot
        self._on_repoint = on_repoint
        self.ident: tuple[int, int] | None = None
        #: Set after a worker error: rescan at the next check, re-arming only if the observer
        #: is not healthy (tearing a good one down at every recurring error is churn and
        #: noise, watchdog's own log included).
        self.rearm_requested = False

    def identity(self) -> tuple[int, int] | None:
        """(device, inode) of the directory ``given`` resolves to, None if there is none."""
        try:
            st = os.stat(self.given)
        except OSError:
            return None
        return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None

    def start(self) -> bool:
        """Arm if the dir exists; whether it does."""
        self.ident = self.identity()
        if self.ident is not None:
            self._follow(os.path.realpath(self.given))
            self.slot.arm()
        return self.ident is not None

    def _follow(self, real: str) -> None:
        if real != self.real:
            log.info("config dir %s now resolves to %s (was %s); watching it",
                     self.given, real, self.real)
            self.real = self.slot.root = real
            self._on_repoint(real)

    def check(self) -> Rearm | None:
        """Re-arm when needed; the reason (a full rescan is due) or None."""
        ident = self.identity()
        real = os.path.realpath(self.given) if ident is not None else self.real
        if ident is None and self.ident is None:
            self.rearm_requested = False  # nothing to arm until it appears
            return None
        healthy = ident is None or self.slot.healthy()
        if ident == self.ident and real == self.real and healthy:
            requested, self.rearm_requested = self.rearm_requested, False
            return Rearm.AFTER_ERROR if requested and ident is not None else None
        if real != self.real:
            reason = Rearm.REPOINTED
        elif ident != self.ident:
            state = "vanished" if ident is None else "appeared"
            log.info("config dir %s %s; last good configs stay in force", self.given, state)
            reason = Rearm.APPEARED
        elif self.rearm_requested and not self.slot.armed:
            reason = Rearm.AFTER_ERROR  # arming failed; the worker already logged (once) why
        else:
            log.warning("observer for %s stopped; re-arming", self.real)
            reason = Rearm.OBSERVER_LOST
        self.slot.disarm()
        self.ident, self.rearm_requested = ident, False
        if ident is None:
            return None
        self._follow(real)
        self.slot.arm()
        return reason
