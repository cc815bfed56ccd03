"""The workspace budget at the instants the fault matrix cannot reach end to end: a 429 pause that
starts while a worker waits for a token, and a server reporting what is left while other requests
of ours are still in flight. The virtual clock stands in for the server's time and the event
loop's clock is patched for aiolimiter, so nothing sleeps for real.
"""

from __future__ import annotations

import asyncio

from collector.budget.local import Rate, WorkspaceBudget
from collector.clock import VirtualClock


def quota(remaining: int, reset: float, limit: int = 10) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }


async def test_a_pause_that_starts_while_a_worker_waits_for_a_token_holds_it(
    monkeypatch, reliability
):
    """A worker queued on the token bucket when a 429 pause begins does not send before it ends."""
    loop = asyncio.get_running_loop()
    now = [0.0]
    monkeypatch.setattr(loop, "time", lambda: now[0])
    clock = VirtualClock(1000.0)
    budget = WorkspaceBudget(Rate.parse("10/s"), clock)
    for _ in range(10):  # the bucket's one-second burst
        await budget.acquire()
    waiting = asyncio.ensure_future(budget.acquire())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done()  # queued on the token bucket
    until = budget.pause_for(30.0)  # another worker got a 429
    now[0] += 1.0  # the token bucket refills
    sent_at = None
    for _ in range(50):
        await asyncio.sleep(0)
        if waiting.done():
            sent_at = clock.time()
            break
    assert sent_at is None or sent_at >= until, (sent_at, until)
    await waiting
    assert clock.time() >= until
    reliability(
        section="faults",
        scenario="a 429 pause begins while a worker waits for a token",
        parameters="rate 10/s, burst spent, one worker queued on the bucket, then a 30 s pause",
        checked="the queued worker is released only after the pause ends",
    )


async def test_remaining_reported_with_requests_in_flight_is_not_overspent(reliability):
    """Remaining counts only what the server had seen: requests still in flight are subtracted."""
    clock = VirtualClock(1000.0)
    budget = WorkspaceBudget(Rate.parse("1000/s"), clock)
    for _ in range(3):  # sent before anything is known about the server's window
        await budget.acquire()
    sent = 3
    # The three answers arrive one by one (limit 10, window ends at 1001), and a worker takes a
    # slot between each: as each answer was written, the others were still in flight.
    for remaining in (9, 8, 7):
        budget.observe(quota(remaining, 1001))
        await budget.acquire()
        if clock.time() < 1001:
            sent += 1
    while True:
        await budget.acquire()
        if clock.time() >= 1001:
            break
        sent += 1
    assert sent <= 10, f"{sent} requests in a server window of 10"
    reliability(
        section="faults",
        scenario="remaining reported while other requests are in flight",
        parameters="3 requests sent blind, then answers saying 9, 8, 7 left (limit 10) arrive "
        "between further acquisitions",
        requests=sent,
        minimum=None,
        checked="never more requests in the server's window than its limit",
    )


async def test_a_spent_server_window_does_not_cancel_slots_already_reserved(reliability):
    """3 left for 10 s and 8 workers: the 3 reserved slots are used before the reset, not lost."""
    clock = VirtualClock(1000.0)
    budget = WorkspaceBudget(Rate.parse("1000/s"), clock)
    budget.observe(quota(3, 1010))
    sent_at: list[float] = []

    async def worker() -> None:
        await budget.acquire()
        sent_at.append(clock.time())

    await asyncio.gather(*(worker() for _ in range(8)))
    before_reset = sorted(t for t in sent_at if t < 1010)
    assert len(before_reset) == 3, sent_at
    assert all(t >= 1010 for t in sent_at if t not in before_reset)
    reliability(
        section="faults",
        scenario="the server's window is spent while slots are reserved",
        parameters="3 requests left for 10 s (X-RateLimit-Remaining/Reset), 8 workers waiting",
        requests=len(before_reset),
        checked="all 3 reserved slots are used before the reset; the other 5 wait for it",
    )


async def test_a_lone_client_spends_every_request_of_each_server_window(reliability):
    """Answers counted per server window: 30 per 3 s windows are all used, none over, 4 windows."""
    clock = VirtualClock(999.0)
    budget = WorkspaceBudget(Rate.parse("1000/s"), clock)
    window_s, limit = 3, 30
    counts: dict[int, int] = {}

    async def worker() -> None:
        while clock.time() < 1012:
            await budget.acquire()
            index = int(clock.time() // window_s)  # the server counts on arrival
            counts[index] = counts.get(index, 0) + 1
            await clock.sleep(0.1)  # the answer's latency
            budget.observe(quota(max(0, limit - counts[index]), (index + 1) * window_s, limit))
            budget.release()

    await asyncio.gather(*(worker() for _ in range(4)))
    whole = [counts.get(i, 0) for i in range(334, 337)]  # [1002, 1011)
    assert whole == [limit] * 3, counts
    assert max(counts.values()) <= limit, counts
    reliability(
        section="faults",
        scenario="a lone client against a small fixed server window",
        parameters="server 30 per 3 s, 100 ms answers, 4 workers, told 1000/s",
        requests=sum(whole),
        checked="every whole server window gets exactly its 30 requests",
    )
