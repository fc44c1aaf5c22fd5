"""Reconnect policy (docs/kernel.md) with an injected clock and random source."""

from __future__ import annotations

from jupyter_hotconf.kernel.backoff import Backoff


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def upper_bounds(b: Backoff, n: int) -> list[float]:
    """With uniform(lo, hi) → hi, each delay shows the policy's ceiling for that attempt."""
    return [b.next_delay() for _ in range(n)]


def test_full_jitter_doubles_from_base_to_cap() -> None:
    b = Backoff(base=1, cap=30, max_attempts=10, uniform=lambda lo, hi: hi)
    assert upper_bounds(b, 7) == [1, 2, 4, 8, 16, 30, 30]


def test_full_jitter_draws_between_zero_and_the_ceiling() -> None:
    calls: list[tuple[float, float]] = []

    def uniform(lo: float, hi: float) -> float:
        calls.append((lo, hi))
        return (lo + hi) / 2

    b = Backoff(base=1, cap=30, uniform=uniform)
    assert [b.next_delay() for _ in range(3)] == [0.5, 1.0, 2.0]
    assert calls == [(0.0, 1), (0.0, 2), (0.0, 4)]


def test_after_max_attempts_error_and_retry_every_30s() -> None:
    b = Backoff(max_attempts=5, uniform=lambda lo, hi: hi)
    upper_bounds(b, 5)
    assert not b.exhausted
    assert b.next_delay() == 30.0
    assert b.exhausted and not b.gave_up
    assert b.next_delay() == 30.0 and b.attempts == 7


def test_retry_forever_off_gives_up() -> None:
    b = Backoff(max_attempts=2, retry_forever=False, uniform=lambda lo, hi: hi)
    upper_bounds(b, 3)
    assert b.gave_up


def test_reset_only_after_60s_connected() -> None:
    clock = FakeClock()
    b = Backoff(clock=clock, uniform=lambda lo, hi: hi)
    upper_bounds(b, 3)
    b.connected()
    clock.now += 59.9
    b.disconnected()
    assert b.attempts == 3  # a flapping link keeps backing off
    b.connected()
    clock.now += 60.0
    b.disconnected()
    assert b.attempts == 0
    assert b.next_delay() == 1.0


def test_retry_after_is_a_lower_bound() -> None:
    b = Backoff(uniform=lambda lo, hi: hi)
    assert b.next_delay(retry_after=7.0) == 7.0
    assert b.next_delay(retry_after=0.5) == 2.0
