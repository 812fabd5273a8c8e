"""Token bucket arithmetic (pure logic; the limits themselves are tested against a server)."""

from __future__ import annotations

import time

from collab_mcp_auth.limits import LimitState, TokenBucket


def test_bucket_allows_a_burst_then_says_how_long_to_wait():
    bucket = TokenBucket(rate=2.0, capacity=3.0, tokens=3.0)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.take()
    assert 0.4 < wait <= 0.5


def test_idle_buckets_are_forgotten_when_there_are_many():
    state = LimitState(max_buckets=3)
    past = time.monotonic() - 10
    state.buckets = {
        ("jwt", "idle"): TokenBucket(1.0, 5.0, 0.0, updated=past),
        ("jwt", "busy"): TokenBucket(1.0, 5.0, 0.0),
        ("jwt", "idle-too"): TokenBucket(1.0, 5.0, 5.0, updated=past),
    }
    state.forget_idle()
    assert list(state.buckets) == [("jwt", "busy")]
