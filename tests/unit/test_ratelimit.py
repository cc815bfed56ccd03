"""The workspace budget: configured rate, server headers, and the 429 pause."""

import asyncio

import pytest

from collector.budget.local import (
    Rate,
    WorkspaceBudget,
    configured_burst,
    read_quota,
    server_wait,
)
from collector.clock import VirtualClock
from collector.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "per_s"), [("250000/h", 250000 / 3600), ("20/s", 20), ("90/m", 1.5), (" 5 / s ", 5)]
)
def test_rate_syntax(text, per_s):
    """N/s, N/m, N/h parse to a per-second rate."""
    assert Rate.parse(text).per_second == pytest.approx(per_s)


@pytest.mark.parametrize("text", ["", "100", "0/s", "-3/s", "5/d", "five/s", "1e3/h"])
def test_bad_rate_syntax_is_a_config_error_with_an_example(text):
    """Anything else is refused with the accepted forms."""
    with pytest.raises(ConfigError, match="N/s, N/m or N/h"):
        Rate.parse(text)


def test_headers_are_read_case_insensitively():
    """Braze sends lowercase names over HTTP/2."""
    q = read_quota(
        {"x-ratelimit-limit": "100", "X-RATELIMIT-REMAINING": "7", "X-RateLimit-Reset": "1000"}
    )
    assert q is not None and (q.limit, q.remaining, q.reset) == (100, 7, 1000.0)
    assert read_quota({"X-RateLimit-Limit": "100"}) is None


def test_server_wait_prefers_retry_after_then_reset():
    """X-RateLimit-Retry-After or Retry-After win; else until Reset; else unknown."""
    assert server_wait({"Retry-After": "7", "X-RateLimit-Reset": "2000"}, 1000) == 7
    assert server_wait({"X-RateLimit-Retry-After": "3"}, 1000) == 3
    reset = {"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1030"}
    assert server_wait(reset, 1000) == 30
    assert server_wait({}, 1000) is None


def quota(remaining, reset, limit=100):
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }


async def test_spent_server_quota_pauses_until_reset():
    """At zero remaining, acquire waits for the server's reset (on the injected clock)."""
    clock = VirtualClock(1000.0)
    budget = WorkspaceBudget(Rate.parse("1000/s"), clock)
    budget.observe(quota(0, 1060))
    await budget.acquire()
    assert clock.time() >= 1060


async def test_remaining_quota_is_spread_until_reset():
    """10 left for 10 s: ten acquisitions are paced about one second apart."""
    clock = VirtualClock(1000.0)
    budget = WorkspaceBudget(Rate.parse("1000/s"), clock)
    budget.observe(quota(10, 1010))
    times = []
    for _ in range(10):
        await budget.acquire()
        times.append(clock.time())
    assert times[0] == 1000.0
    assert times[-1] == pytest.approx(1009.0)


async def test_a_pause_holds_every_worker():
    """After pause_for, no acquisition returns before the pause ends."""
    clock = VirtualClock(1000.0)
    budget = WorkspaceBudget(Rate.parse("1000/s"), clock)
    budget.pause_for(30)
    done = await asyncio.gather(*(budget.acquire() for _ in range(5)))
    assert len(done) == 5 and clock.time() >= 1030


async def test_configured_rate_bursts_at_most_one_second(monkeypatch):
    """The token bucket lets through about one second's worth at once, then paces."""
    loop = asyncio.get_running_loop()
    now = [0.0]
    monkeypatch.setattr(loop, "time", lambda: now[0])
    budget = WorkspaceBudget(Rate.parse("36000/h"), VirtualClock(0))  # 10/s
    for _ in range(10):
        await budget.acquire()
    blocked = asyncio.ensure_future(budget.acquire())
    await asyncio.sleep(0)
    assert not blocked.done()
    blocked.cancel()


async def test_a_slow_pool_lets_a_small_job_go_at_once_when_plenty_remain(monkeypatch):
    """1,000/h with 999 left: five requests go together instead of 3.6 s apart."""
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "time", lambda: 0.0)  # the token bucket does not refill
    clock = VirtualClock(1000.0)
    budget = WorkspaceBudget(Rate.parse("1000/h"), clock)
    budget.observe(quota(999, 4600, limit=1000))
    for _ in range(5):
        await budget.acquire()
    assert clock.time() == 1000.0


async def test_a_burst_never_exceeds_what_the_server_has_left():
    """However large the burst share, the server's window gets at most what it said was left."""
    clock = VirtualClock(1000.0)
    budget = WorkspaceBudget(Rate.parse("1000/s"), clock)
    budget.observe(quota(3, 1010, limit=100))  # 3 left: ours counted, others spent the rest
    for _ in range(4):
        await budget.acquire()
    assert clock.time() >= 1010


def test_configured_burst_is_one_second_or_a_share_of_a_slow_pool():
    """One second of the rate from 1/s up; a slow pool bursts a share of its count (≤ 50)."""
    assert configured_burst(Rate.parse("250000/h")) == pytest.approx(69.44, abs=0.01)
    assert configured_burst(Rate.parse("10/s")) == 10
    assert configured_burst(Rate.parse("1000/h")) == 50
    assert configured_burst(Rate.parse("20/h")) == 1
