"""Time as a seam: the wall clock and the way to wait.

Everything that reads "now" or sleeps goes through a `Clock`, so tests can run hours of
rate-limit windows and backoff in milliseconds (`VirtualClock`) instead of sleeping for real.
The simulator reads the same object, so client and server agree on what time it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

_QUIET_TURNS = 2  # consecutive event-loop turns with nothing else runnable before time jumps
_FIXED_TURNS = 3  # on a loop whose ready queue cannot be read
_MAX_SETTLE_TURNS = 10_000  # a task spinning on sleep(0) cannot hold the clock for ever


class Clock(Protocol):
    """Wall-clock time in UTC epoch seconds, and a way to wait."""

    def time(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


class VirtualClock:
    """A clock that moves only when told to, or when every runnable task is waiting on it.

    `sleep(s)` queues the sleeper; a ticker lets runnable tasks run, then advances time to the
    earliest wake-up and wakes that sleeper, so sleepers wake in time order and a 3,600 s
    rate-limit pause costs no real time.

    Real I/O in flight takes no virtual time: the ticker advances only once the event loop has
    had nothing else to run for `_QUIET_TURNS` consecutive turns. Each turn polls the selector,
    so a loopback round trip (client write → server read → handler → reply → client read) keeps
    the loop busy until it completes, and the clock stands still meanwhile. What the loop cannot
    see is not waited for: a real-time timer (the simulator's injected latency and hangs) or a
    thread still working lets virtual time move.
    """

    def __init__(self, start: float) -> None:
        self._now = float(start)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._ticker: asyncio.Task[None] | None = None
        self._busy = 0

    @contextlib.asynccontextmanager
    async def busy(self) -> AsyncIterator[None]:
        """Real work the loop cannot see (a store's thread, a database server) is under way:
        time does not jump until it is done."""
        self._busy += 1
        try:
            yield
        finally:
            self._busy -= 1

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back (advance by {seconds})")
        self._now += seconds

    def set(self, epoch_seconds: float) -> None:
        """Jump forward to `epoch_seconds` (never back)."""
        self._now = max(self._now, float(epoch_seconds))

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        wake: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), wake))
        if self._ticker is None or self._ticker.done():
            self._ticker = loop.create_task(self._tick())
        await wake

    async def _tick(self) -> None:
        while self._sleepers:
            await _settle()
            while self._busy:
                await asyncio.sleep(0.0005)  # real time: let the outside work finish
                await _settle()
            at, _, wake = heapq.heappop(self._sleepers)
            if wake.done():
                continue
            self._now = max(self._now, at)
            wake.set_result(None)

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now:.3f}, sleepers={len(self._sleepers)})"


async def _settle() -> None:
    """Yield until the loop has had nothing else runnable for `_QUIET_TURNS` turns in a row.

    Reads the loop's ready queue (CPython's `BaseEventLoop._ready`); a loop without one gets a
    fixed number of turns.
    """
    ready = getattr(asyncio.get_running_loop(), "_ready", None)
    if ready is None:
        for _ in range(_FIXED_TURNS):
            await asyncio.sleep(0)
        return
    quiet = 0
    for _ in range(_MAX_SETTLE_TURNS):
        await asyncio.sleep(0)
        quiet = 0 if ready else quiet + 1
        if quiet >= _QUIET_TURNS:
            return


def busy(clock: Clock) -> contextlib.AbstractAsyncContextManager[None]:
    """`clock.busy()` on a VirtualClock; nothing on the real clock."""
    hold = getattr(clock, "busy", None)
    return hold() if hold is not None else contextlib.nullcontext()


def busy_while(target: T, clock: Clock) -> T:
    """`target` with every coroutine method run inside `busy(clock)` (a store, on a
    VirtualClock: its thread or server is real work time must wait for)."""
    if not isinstance(clock, VirtualClock):
        return target
    return _Busy(target, clock)  # type: ignore[return-value]


class _Busy:
    def __init__(self, target: Any, clock: Clock) -> None:
        self._target = target
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not asyncio.iscoroutinefunction(attr):
            return attr

        @functools.wraps(attr)
        async def held(*args: Any, **kwargs: Any) -> Any:
            async with busy(self._clock):
                return await attr(*args, **kwargs)

        return held
