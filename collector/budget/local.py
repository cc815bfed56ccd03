"""The workspace's request budget. The only module that imports aiolimiter.

One `WorkspaceBudget` per (REST host, API key) is shared by every worker. It combines:

- the configured rate, as an aiolimiter token bucket holding about one second's worth of tokens
  (so a burst never exceeds one second of the configured rate);
- the server's own account, read from ``X-RateLimit-Limit/Remaining/Reset`` on every response:
  the requests left in the server's window are spread evenly until its reset, and at zero every
  worker waits for the reset (other tools spending the same workspace quota show up here);
- a pause that a 429 sets for everyone (`pause_for`), so no request is sent while it lasts.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from collector.clock import Clock
from collector.errors import ConfigError

DEFAULT_RATE = "250000/h"
_PERIODS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*([smh])\s*$")
RESET_MARGIN_S = 0.05  # wake just after the server's window has turned over


@dataclass(frozen=True)
class Rate:
    """`count` requests per `period_s` seconds."""

    count: float
    period_s: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        m = _RATE.match(text)
        if m is None or float(m[1]) <= 0:
            raise ConfigError(
                f"rate limit {text!r} is not of the form N/s, N/m or N/h with N > 0 "
                "(e.g. --rate-limit 250000/h, Braze's default quota)"
            )
        return cls(float(m[1]), _PERIODS[m[2]])

    @property
    def per_second(self) -> float:
        return self.count / self.period_s

    def __str__(self) -> str:
        unit = {1.0: "s", 60.0: "m", 3600.0: "h"}[self.period_s]
        return f"{self.count:g}/{unit}"


@dataclass(frozen=True)
class ServerQuota:
    """What the server's X-RateLimit-* headers said."""

    limit: int
    remaining: int
    reset: float  # UTC epoch seconds


def read_quota(headers: Mapping[str, str]) -> ServerQuota | None:
    """The X-RateLimit-* headers (any case), or None when absent or unreadable."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        return ServerQuota(
            limit=int(float(lower["x-ratelimit-limit"])),
            remaining=int(float(lower["x-ratelimit-remaining"])),
            reset=float(lower["x-ratelimit-reset"]),
        )
    except (KeyError, ValueError):
        return None


def server_wait(headers: Mapping[str, str], now: float) -> float | None:
    """How long a 429 asks us to wait: Retry-After, X-RateLimit-Retry-After, else until Reset."""
    lower = {k.lower(): v for k, v in headers.items()}
    for name in ("x-ratelimit-retry-after", "retry-after"):
        try:
            return max(0.0, float(lower[name]))
        except (KeyError, ValueError):
            continue
    quota = read_quota(headers)
    if quota is not None and quota.reset > now:
        return quota.reset - now
    return None


class WorkspaceBudget:
    """Every attempt awaits `acquire()` and ends with `release()`; every response feeds
    `observe()` in between."""

    def __init__(self, rate: Rate, clock: Clock, *, rng: random.Random | None = None) -> None:
        self.rate = rate
        self._clock = clock
        self._rng = rng or random.Random()
        burst = max(1.0, rate.per_second)
        self._limiter = AsyncLimiter(burst, burst / rate.per_second)
        self._paused_until = 0.0
        self._quota: ServerQuota | None = None
        self._left = math.inf  # our estimate of the server's remaining, in its current window
        self._next_slot = 0.0
        self._in_flight = 0  # sent in the server's current window and not yet answered
        self.acquired = 0

    def __repr__(self) -> str:
        quota = self._quota
        server = (
            "unknown" if quota is None else f"{self._left:g}/{quota.limit} until {quota.reset:.0f}"
        )
        return (
            f"<WorkspaceBudget rate={self.rate} server={server} "
            f"paused_until={self._paused_until:.3f} acquired={self.acquired}>"
        )

    @property
    def paused_until(self) -> float:
        return self._paused_until

    @property
    def quota(self) -> ServerQuota | None:
        return self._quota

    async def acquire(self) -> None:
        """Wait until a request may be sent, then take one token.

        The pause is checked again after the token wait, with nothing awaited between that
        check and the send: a 429 pause that begins while a worker waits for a token holds it.
        """
        while True:
            now = self._clock.time()
            if self._paused_until > now:
                await self._clock.sleep(self._paused_until - now)
                continue
            delay = self._reserve(now)
            if delay is None:
                continue
            if delay > 0:
                await self._clock.sleep(delay)
                if self._paused_until > self._clock.time():
                    continue
            await self._limiter.acquire()
            if self._paused_until <= self._clock.time():
                break
        self.acquired += 1
        self._in_flight += 1

    def _reserve(self, now: float) -> float | None:
        """Take a slot in the server's pacing; None when the server's window is spent."""
        self._turn_over(now)
        quota = self._quota
        if quota is None:
            return 0.0
        if self._left < 1:
            self.pause_for(quota.reset - now + RESET_MARGIN_S)
            return None
        slot = max(now, self._next_slot)
        self._next_slot = slot + max(0.0, quota.reset - slot) / self._left
        self._left -= 1
        return slot - now

    def observe(self, headers: Mapping[str, str]) -> None:
        """Fold a response's X-RateLimit-* headers into the estimate.

        `remaining` was written before the server saw our other requests still in flight, so
        those are subtracted: what is left for new requests is remaining − the others in
        flight (this answer's own request is in flight until its attempt calls `release`).
        """
        quota = read_quota(headers)
        if quota is None:
            return
        now = self._clock.time()
        self._turn_over(now)
        if quota.reset <= now:
            return  # an answer from a window that is over
        current = self._quota
        left = float(quota.remaining - max(0, self._in_flight - 1))
        if current is None or quota.reset > current.reset:
            self._quota, self._left = quota, left
            self._next_slot = now
        elif quota.reset == current.reset:
            self._left = min(self._left, left)

    def release(self) -> None:
        """An attempt that took a token has ended, answered or not (refused, timed out,
        dropped, 401): it is no longer in flight. Call it exactly once per `acquire`."""
        self._in_flight = max(0, self._in_flight - 1)

    def _turn_over(self, now: float) -> None:
        """Forget the server's window once it has ended; count requests in flight afresh."""
        if self._quota is not None and self._quota.reset <= now:
            self._quota, self._left, self._in_flight = None, math.inf, 0

    def pause_for(self, seconds: float, *, jitter: float = 0.0) -> float:
        """Stop every worker for `seconds` (+ up to `jitter`); returns the epoch it ends."""
        until = self._clock.time() + seconds + self._rng.uniform(0, jitter)
        self._paused_until = max(self._paused_until, until)
        return self._paused_until
