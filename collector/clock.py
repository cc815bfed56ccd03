"""Time as a seam: the wall clock and the way to wait.

Everything that reads "now" or sleeps goes through a `Clock`, so tests can run hours of
rate-limit windows and backoff in milliseconds (`VirtualClock`) instead of sleeping for real.
The simulator reads the same object, so client and server agree on what time it is.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


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
    """A clock that only moves when told to, or when someone sleeps on it.

    `sleep(s)` advances the clock to the sleeper's wake-up time at once (after letting other
    tasks run), so a 3,600 s rate-limit pause costs no real time. Sleepers wake in time order.
    """

    def __init__(self, start: float) -> None:
        self._now = float(start)

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back (advance by {seconds})")
        self._now += seconds

    def set(self, epoch_seconds: float) -> None:
        self._now = max(self._now, float(epoch_seconds))

    async def sleep(self, seconds: float) -> None:
        wake = self._now + max(0.0, seconds)
        await asyncio.sleep(0)
        self.set(wake)

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now:.3f})"
