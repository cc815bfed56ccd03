"""How many requests of a pool are in flight: sized from measurement, bounded by a maximum.

Little's law: to sustain a rate R with requests that each take L seconds, about R × L must be in
flight. `InFlight` keeps an average of the observed latency (send → answer) and the pool's
allowed rate (its budget's configured rate, or the server's pace when that is lower), and admits
ceil(R × L × HEADROOM) + SPARE at once, never fewer than `MIN_IN_FLIGHT` nor more than the
maximum (`--concurrency`). Until a pool's first answer, one request goes alone: nothing is sent
blind into a pool the server has not described yet.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable

HEADROOM = 1.25  # latency varies: a quarter more in flight than the average needs
SPARE = 1
MIN_IN_FLIGHT = 4  # a small job's requests go together even at a slow pool's rate
LATENCY_WEIGHT = 0.2  # of each new latency in the moving average


class InFlight:
    """An adjustable semaphore: `await acquire()`, then `release(latency_s or None)`."""

    def __init__(self, maximum: int, rate: Callable[[], float]) -> None:
        if maximum < 1:
            raise ValueError(f"at most {maximum} in flight: need at least 1")
        self.maximum = maximum
        self._rate = rate
        self._latency: float | None = None  # moving average, seconds
        self._limit = 1  # until the first answer
        self._in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.peak = 0

    def __repr__(self) -> str:
        latency = "?" if self._latency is None else f"{self._latency * 1000:.0f}ms"
        return (
            f"<InFlight {self._in_flight}/{self._limit} (max {self.maximum}) "
            f"latency={latency} peak={self.peak}>"
        )

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def latency(self) -> float | None:
        return self._latency

    def wanted(self) -> int:
        """What the rate and latency need now, within [MIN_IN_FLIGHT, maximum]."""
        if self._latency is None:
            return 1
        need = math.ceil(self._rate() * self._latency * HEADROOM) + SPARE
        return max(min(MIN_IN_FLIGHT, self.maximum), min(self.maximum, need))

    async def acquire(self) -> None:
        while self._in_flight >= self._limit:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # pass on a wake-up this cancelled waiter was given
                raise
        self._in_flight += 1
        self.peak = max(self.peak, self._in_flight)

    def release(self, latency_s: float | None) -> None:
        """One request ended; `latency_s` is how long its answer took (None: no answer)."""
        self._in_flight -= 1
        if latency_s is not None:
            self._latency = (
                latency_s
                if self._latency is None
                else self._latency + LATENCY_WEIGHT * (latency_s - self._latency)
            )
        self._limit = self.wanted() if self._latency is not None else 1
        self._wake()

    def _wake(self) -> None:
        free = self._limit - self._in_flight
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1
