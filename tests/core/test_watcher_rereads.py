"""Unit tests of the watcher's bookkeeping: the deferred re-reads (parse failures and
missing files) and the reconcile scan's stamps, on a real config dir without threads."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

import pytest

from jupyter_hotconf.core import rereads
from jupyter_hotconf.core.errors import InvalidDocument
from jupyter_hotconf.core.eventmap import ALL
from jupyter_hotconf.core.loading import LoadResult
from jupyter_hotconf.core.reconcile import StampBook
from jupyter_hotconf.core.rereads import MIN_MISSING_REREAD_S, Rereads, Suspect, suspect_of
from jupyter_hotconf.core.tenants import ConfigLayout
from jupyter_hotconf.pytest_plugin import write_json


def test_doctests() -> None:
    assert doctest.testmod(rereads).failed == 0


def test_a_missing_file_is_suspect_only_if_the_tenant_had_one() -> None:
    gone = LoadResult("acme", exists=False)
    assert suspect_of(gone, had_file=True) is Suspect.MISSING
    assert suspect_of(gone, had_file=False) is None
    broken = LoadResult("acme", True, error=InvalidDocument("bad", file="private/acme.json"))
    assert suspect_of(broken, had_file=True) is Suspect.PARSE
    schema = InvalidDocument("too big", file="private/acme.json", pointer="/pricing/discount")
    assert suspect_of(LoadResult("acme", True, error=schema), had_file=True) is None
    assert suspect_of(LoadResult("acme", True, {"a": 1}), had_file=True) is None


@pytest.mark.parametrize(
    ("quiet_s", "parse_s", "missing_s"), [(0.0, 0.1, MIN_MISSING_REREAD_S), (0.2, 0.2, 0.2)]
)
def test_rereads_wait_one_quiet_window_with_a_floor(
    quiet_s: float, parse_s: float, missing_s: float
) -> None:
    r = Rereads(quiet_s)
    r.defer("acme", Suspect.PARSE, now=10.0)
    r.defer("globex", Suspect.MISSING, now=10.0)
    assert sorted(r.deadlines()) == sorted([10.0 + parse_s, 10.0 + missing_s])
    assert r.take_due(10.0 + min(parse_s, missing_s) - 0.001, frozenset()) == {}
    assert r.take_due(10.0 + max(parse_s, missing_s), frozenset()) == {
        "acme": Suspect.PARSE, "globex": Suspect.MISSING,
    }
    assert r.tenants() == frozenset() and list(r.deadlines()) == []


def test_a_reread_with_events_pending_is_put_off() -> None:
    r = Rereads(0.0)
    r.defer("acme", Suspect.MISSING, now=0.0)
    r.defer("globex", Suspect.MISSING, now=0.0)
    assert r.take_due(1.0, frozenset({"acme"})) == {"globex": Suspect.MISSING}
    assert "acme" in r and list(r.deadlines()) == [pytest.approx(1.0 + MIN_MISSING_REREAD_S)]
    assert r.take_due(2.0, frozenset({ALL})) == {}
    r.discard("acme")
    assert "acme" not in r


def test_stamp_book_reports_only_what_no_reload_noted(hotconf_dir: Path) -> None:
    layout = ConfigLayout(hotconf_dir)
    book = StampBook(layout)
    book.note_all()
    assert book.scan() == set()
    acme = hotconf_dir / "private" / "acme.json"
    write_json(acme, {"name": "Acme 2"})
    write_json(hotconf_dir / "private" / "hooli.json", {"name": "Hooli"})
    (hotconf_dir / "private" / "globex.json").unlink()
    write_json(hotconf_dir / "defaults.json", {"pricing": {"currency": "EUR"}})
    for tenant in ("acme", "hooli", "globex"):
        book.note_tenant(tenant)  # as a reload does before it reads
    book.note_shared()
    assert book.scan() == set()
    os.utime(acme, ns=(0, 0))  # no reload noted this: a change only the scan can see
    assert book.scan() == {str(acme)}
    assert book.scan() == set()
