"""The history and write settings as ``serve`` flags, derived from the traits."""

from __future__ import annotations

import argparse

import pytest

from jupyter_hotconf.server.standalone import add_arguments, settings_from_args


@pytest.mark.parametrize(("argv", "expected"), [
    ([], False), (["--mode", "prod"], True), (["--mode", "prod", "--no-read-only"], False),
    (["--read-only"], True),
])
def test_read_only_flag_follows_the_mode_and_can_be_negated(
    argv: list[str], expected: bool
) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert settings_from_args(parser.parse_args(argv)).read_only is expected


def test_history_flags_reach_the_settings() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    settings = settings_from_args(parser.parse_args(
        ["--history", "none", "--history-max-revisions", "5", "--history-max-age-days", "1.5",
         "--write-timeout", "2"]))
    assert (settings.history, settings.history_options(), settings.write_timeout_s) == (
        "none", {"max_revisions": 5, "max_age_days": 1.5}, 2.0)
    with pytest.raises(Exception, match="--history-max-revisions"):
        settings_from_args(parser.parse_args(["--history-max-revisions", "-1"]))
