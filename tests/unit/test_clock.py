"""The virtual clock: sleepers wake in time order, and real I/O in flight takes no virtual time."""

from __future__ import annotations

import asyncio

import aiohttp

from collector.clock import VirtualClock
from collector.simulator import SimulatorConfig, run_simulator


async def test_sleepers_wake_in_time_order_and_time_jumps_to_each():
    """Three sleepers wake at their own virtual instants, in order, at no real cost."""
    clock = VirtualClock(100.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.time()))

    await asyncio.gather(sleeper("c", 3600), sleeper("a", 1), sleeper("b", 60))
    assert woke == [("a", 101.0), ("b", 160.0), ("c", 3700.0)]


async def test_a_loopback_round_trip_does_not_move_virtual_time():
    """While a real request is in flight, a sleeper elsewhere does not make the clock jump."""
    clock = VirtualClock(10.0)
    async with (
        run_simulator(SimulatorConfig(), clock=clock) as sim,
        aiohttp.ClientSession() as session,
    ):
        sleeper = asyncio.ensure_future(clock.sleep(3590))
        for _ in range(20):  # several round trips, each with the sleeper waiting
            async with session.get(sim.url + "/sessions/data_series") as response:
                await response.read()
            assert clock.time() == 10.0, "virtual time moved during a loopback round trip"
        await sleeper
        assert clock.time() == 3600.0


async def test_time_stands_still_while_outside_work_is_busy():
    """Work the loop cannot see (a store's thread, a database server) holds the clock: a sleeper
    due in 10 s does not wake while a 50 ms thread job runs inside busy()."""
    import asyncio as aio
    import time as real

    from collector.clock import VirtualClock, busy

    clock = VirtualClock(1000.0)
    woke: list[float] = []

    async def sleeper() -> None:
        await clock.sleep(10)
        woke.append(clock.time())

    task = aio.ensure_future(sleeper())
    await aio.sleep(0)
    async with busy(clock):
        await aio.to_thread(real.sleep, 0.05)
        assert clock.time() == 1000.0 and not woke
    await task
    assert woke == [1010.0]
