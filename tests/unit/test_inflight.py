"""The in-flight limit: Little's law from the measured latency, within [4, maximum]."""

import asyncio

import pytest

from collector.work.inflight import InFlight


@pytest.mark.parametrize(
    ("rate", "latency", "expected"),
    [(69.44, 0.1, 10), (69.44, 0.3, 28), (69.44, 1.0, 88), (69.44, 3.0, 128), (0.28, 0.1, 4)],
)
def test_size_follows_rate_times_latency_with_headroom(rate, latency, expected):
    """ceil(rate × latency × 1.25) + 1, at least 4, at most the maximum."""
    gate = InFlight(128, lambda: rate)
    gate._in_flight = 1
    gate.release(latency)
    assert gate.limit == expected


async def test_one_request_alone_until_the_first_answer_then_more():
    """Nothing is sent blind into a pool before it has answered once."""
    gate = InFlight(8, lambda: 100.0)
    await gate.acquire()
    second = asyncio.ensure_future(gate.acquire())
    await asyncio.sleep(0)
    assert not second.done()
    gate.release(0.05)  # 100/s × 50 ms × 1.25 + 1 → 8
    await second
    for _ in range(7):
        await gate.acquire()
    assert gate.peak == 8


async def test_a_failure_without_an_answer_keeps_the_pool_at_one():
    """A refused first attempt teaches nothing: still one at a time."""
    gate = InFlight(8, lambda: 100.0)
    await gate.acquire()
    gate.release(None)
    assert gate.limit == 1
