"""Deferred re-reads: a failure seen once is reported only if a quiet re-read sees it again.

Two failures are not trusted at first sight (docs/change-detection.md, "the re-read rule"):
a *parse* failure may be a writer that paused mid-file; a *missing* tenant file may be git
(checkout, stash, reset --hard) or an editor between deleting the file and writing it anew.
Either tenant is read again one quiet window later and the failure is reported only if
that re-read finds the same failure; anything else it finds is a fresh observation.
Sans-I/O and clock-free (the watcher passes ``now``); owned by the watcher's worker thread.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from .errors import InvalidDocument
from .eventmap import ALL
from .loading import LoadResult


class Suspect(str, enum.Enum):
    """Why a tenant's read is not reported yet."""

    PARSE = "parse"  # the file could not be parsed: maybe half-written
    MISSING = "missing"  # the file was gone: maybe between a delete and a write


#: A parse failure is re-read at least this much later, even with ``debounce_ms=0``
#: (re-reading the same half-written bytes at once would prove nothing).
MIN_PARSE_REREAD_S = 0.1
#: A missing file is re-checked at least this much later, even with ``debounce_ms=0``: git
#: writes the new file microseconds after deleting the old one, but a loaded 2-core machine
#: was seen to pause git for more than 50 ms in between (the documented floor is 50 ms).
MIN_MISSING_REREAD_S = 0.1


def is_parse_failure(error: InvalidDocument) -> bool:
    """A file that could not be read as a document (maybe half-written), as opposed to a
    schema failure, which carries the JSON pointer of the failing value: that file was
    read whole, so it is reported at once."""
    return error.pointer is None


def suspect_of(result: LoadResult, had_file: bool) -> Suspect | None:
    """What in a fresh load needs a confirming re-read before it is reported, if anything.
    A file missing now is suspect only if the tenant ``had_file`` before (else nothing
    would be reported anyway)."""
    if result.error is not None and is_parse_failure(result.error):
        return Suspect.PARSE
    if not result.exists and had_file:
        return Suspect.MISSING
    return None


class Rereads:
    """Tenants awaiting their confirming re-read: tenant -> (due time, suspect).

    >>> r = Rereads(quiet_s=0.0)
    >>> r.defer("acme", Suspect.MISSING, now=1.0); r.take_due(1.0, frozenset())
    {}
    >>> r.take_due(1.1, frozenset())
    {'acme': <Suspect.MISSING: 'missing'>}
    """

    def __init__(self, quiet_s: float) -> None:
        self._delay = {
            Suspect.PARSE: max(quiet_s, MIN_PARSE_REREAD_S),
            Suspect.MISSING: max(quiet_s, MIN_MISSING_REREAD_S),
        }
        self._due: dict[str, tuple[float, Suspect]] = {}

    def __contains__(self, tenant: object) -> bool:
        return tenant in self._due

    def tenants(self) -> frozenset[str]:
        return frozenset(self._due)

    def deadlines(self) -> Iterable[float]:
        return (at for at, _ in self._due.values())

    def defer(self, tenant: str, suspect: Suspect, now: float) -> None:
        """Read ``tenant`` again one quiet window after ``now``."""
        self._due[tenant] = (now + self._delay[suspect], suspect)

    def discard(self, tenant: str) -> None:
        self._due.pop(tenant, None)

    def take_due(self, now: float, pending: frozenset[str]) -> dict[str, Suspect]:
        """The re-reads to run now, with what each is to confirm.

        One whose tenant still has events being collected (``pending``; ``ALL`` in it
        means every tenant) is put off by another window: its writer is active, and that
        batch reads it anyway. The others are taken, so a re-read that cannot run (the dir
        is gone) never spins the worker's loop.
        """
        due = {tenant: why for tenant, (at, why) in self._due.items() if at <= now}
        busy = set(due) if ALL in pending else set(due) & pending
        for tenant, why in due.items():
            if tenant in busy:
                self.defer(tenant, why, now)
            else:
                del self._due[tenant]
        return {tenant: why for tenant, why in due.items() if tenant not in busy}
