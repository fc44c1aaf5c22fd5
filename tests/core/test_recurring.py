"""ErrorTally's logic on a scripted clock: one line, then a count per summary period, then
one line when it stops (the real fault is in test_watcher_roots.py)."""

from __future__ import annotations

import logging

import pytest

from jupyter_hotconf.core.recurring import ErrorTally


def test_a_recurring_error_is_counted_and_summarised_per_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    log = logging.getLogger("test.recurring")
    tally = ErrorTally(log, summary_s=60, clock=lambda: now[0], wall=lambda: 0.0)
    with caplog.at_level(logging.INFO, logger="test.recurring"):
        for _ in range(38):  # one a second for 38 s, then one at 61 s
            tally.failed("", "watcher error", OSError(40, "loop"))
            now[0] += 1
        assert [r.levelname for r in caplog.records] == ["ERROR"]
        now[0] = 161.0
        tally.failed("", "watcher error", OSError(40, "loop"))
        assert caplog.records[-1].getMessage() == (
            "watcher error: OSError: [Errno 40] loop (repeated 38 times in the last 61 s)"
        )
        assert tally.current() == {
            "message": "OSError: [Errno 40] loop", "count": 39, "since": "1970-01-01T00:00:00Z"
        }
        tally.ok("acme")  # another scope working says nothing about this one
        assert tally.current() is not None
        tally.ok("")
        assert tally.current() is None
        assert "recovered after 39 failures" in caplog.records[-1].getMessage()
        assert len(caplog.records) == 3


def test_a_different_error_is_logged_and_becomes_current() -> None:
    tally = ErrorTally(logging.getLogger("test.recurring"))
    tally.failed("", "x", OSError("one"))
    tally.failed("acme", "y", PermissionError("two"))
    assert tally.current() == {"message": "PermissionError: two", "count": 1,
                               "since": tally.current()["since"]}  # type: ignore[index]
    tally.ok("acme")
    assert tally.current()["message"] == "OSError: one"  # type: ignore[index]
