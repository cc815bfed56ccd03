"""The workspace's request budget. The only module that imports aiolimiter.

One `WorkspaceBudget` per (workspace, rate-limit pool) is shared by every worker. It combines:

- the configured rate, as an aiolimiter token bucket holding one second's worth of tokens, or,
  for a pool slower than one request a second, a small share of its count (`configured_burst`),
  so a job of a handful of requests does not wait minutes between them;
- the server's own account of its current window, read from ``X-RateLimit-Limit/Remaining/Reset``
  on every response. We count our own requests per server window (each answer's Reset says which
  window it landed in) and keep what the others spent: left for new requests = limit − others −
  ours answered in the window − ours in flight. What is left is paced evenly until the reset,
  after a bounded burst (`server_burst`: a share of what is left, so a window with plenty left is
  not dripped). When nothing is left, only *new* reservations wait for the reset: slots already
  reserved are kept. While the window is unknown (before a pool's first answer, and from a
  turn-over until the next window's first answer) the token bucket and the scheduler's in-flight
  limit (`collector.work.inflight`: one request until a pool's first answer) bound what is sent;
- a pause that a 429 sets for everyone (`pause_for`), so no request is sent while it lasts.

The total sent into one server window never exceeds what the server said was left; the burst
only decides how early in the window it is spent.
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
BURST_SHARE = 0.05  # of a window's requests that may go at once (then paced)
BURST_MAX = 50  # requests at once, however large the window


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


def configured_burst(rate: Rate) -> float:
    """The token bucket's capacity: one second of the rate; for a pool slower than one request
    a second, a small share of its count instead (1,000/h → 50 at once, then one every 3.6 s)."""
    if rate.per_second >= 1:
        return rate.per_second
    return max(1.0, min(BURST_SHARE * rate.count, BURST_MAX))


def server_burst(left: float) -> int:
    """How many of the `left` requests of a server window may go at once before pacing."""
    return max(1, min(int(BURST_SHARE * left), BURST_MAX))


class WorkspaceBudget:
    """Every attempt awaits `acquire()` and ends with `release()`; every response feeds
    `observe()` in between."""

    def __init__(self, rate: Rate, clock: Clock, *, rng: random.Random | None = None) -> None:
        self.rate = rate
        self._clock = clock
        self._rng = rng or random.Random()
        burst = configured_burst(rate)
        self._limiter = AsyncLimiter(burst, burst / rate.per_second)
        self._paused_until = 0.0
        self._quota: ServerQuota | None = None  # the last answer of the current window
        self._limit: int | None = None  # the server's limit, kept across windows
        self._reset: float | None = None  # end of the server's current window, once known
        self._others = 0  # requests of other clients seen in the current window
        self._ours = 0  # our requests the server answered in the current window
        self._in_flight = 0  # acquired and not yet released
        self._tat = 0.0  # pacing: theoretical time of the next request (GCRA)
        self.acquired = 0

    def __repr__(self) -> str:
        reset = "unknown" if self._reset is None else f"{self._reset:.0f}"
        return (
            f"<WorkspaceBudget rate={self.rate} server={self.left():g}/{self._limit} "
            f"until {reset} in_flight={self._in_flight} "
            f"paused_until={self._paused_until:.3f} acquired={self.acquired}>"
        )

    @property
    def paused_until(self) -> float:
        return self._paused_until

    @property
    def quota(self) -> ServerQuota | None:
        return self._quota

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def left(self) -> float:
        """What new requests may still spend of the server's current window (inf: unknown)."""
        if self._reset is None or self._limit is None:
            return math.inf
        return self._limit - self._others - self._ours - self._in_flight

    def allowed_rate(self) -> float:
        """Requests per second this budget lets through now: the configured rate, or the
        server's pace (what is left, spread until the reset) when that is lower."""
        rate = self.rate.per_second
        now = self._clock.time()
        self._turn_over(now)
        if self._reset is not None and self._reset > now:
            rate = min(rate, max(0.0, self.left()) / (self._reset - now))
        return rate

    async def acquire(self) -> None:
        """Wait until a request may be sent, then take one token.

        The pause is checked again after the token wait, with nothing awaited between that
        check and the send: a 429 pause that begins while a worker waits for a token holds it.
        A slot is counted in flight from its reservation; a wait that is cancelled or cut by a
        pause gives it back.
        """
        while True:
            now = self._clock.time()
            if self._paused_until > now:
                await self._clock.sleep(self._paused_until - now)
                continue
            self._turn_over(now)
            if self._reset is None:  # unknown: the token bucket and the in-flight limit pace
                delay = 0.0
            else:
                left = self.left()
                if left < 1:  # only this new reservation waits: slots already held are kept
                    await self._clock.sleep(self._reset - now + RESET_MARGIN_S)
                    continue
                delay = self._pace(now, left)
            self._in_flight += 1
            try:
                if delay > 0:
                    await self._clock.sleep(delay)
                if self._paused_until <= self._clock.time():
                    await self._limiter.acquire()
                    if self._paused_until <= self._clock.time():
                        break
            except BaseException:
                self._in_flight -= 1
                raise
            self._in_flight -= 1  # a 429 pause began: give the slot back and wait
        self.acquired += 1

    def _pace(self, now: float, left: float) -> float:
        """GCRA over the server's window: what is left spread evenly from the last slot given
        to the reset, at most `server_burst(left)` at once. The seconds to wait before sending."""
        assert self._reset is not None
        base = max(now, self._tat)  # when the last slot already given ends
        interval = max(0.0, self._reset - base) / left
        slot = max(now, base - (server_burst(left) - 1) * interval)
        self._tat = base + interval
        return slot - now

    def observe(self, headers: Mapping[str, str]) -> None:
        """Fold a response's X-RateLimit-* headers into the account of the server's window.

        The answer counts as ours in the window its Reset names. The server had counted
        limit − remaining when it wrote it: ours answered so far, some of ours still in flight,
        and the others'; the others' share is the least that explains it (all of ours in
        flight counted as already seen), so a lone client is never held back by its own
        requests in flight.
        """
        quota = read_quota(headers)
        if quota is None:
            return
        now = self._clock.time()
        self._turn_over(now)
        if quota.reset <= now:
            return  # an answer from a window that is over
        if self._reset is None or quota.reset > self._reset:
            self._reset, self._ours, self._others = quota.reset, 0, 0
            self._tat = now
        elif quota.reset < self._reset:
            return  # a late answer from an earlier window
        self._limit, self._quota = quota.limit, quota
        self._ours += 1
        in_flight_other = max(0, self._in_flight - 1)  # this answer's request is released later
        seen = quota.limit - quota.remaining
        self._others = max(self._others, seen - self._ours - in_flight_other)

    def release(self) -> None:
        """An attempt that took a token has ended, answered or not (refused, timed out,
        dropped, 401): it is no longer in flight. Call it exactly once per `acquire`."""
        self._in_flight = max(0, self._in_flight - 1)

    def _turn_over(self, now: float) -> None:
        """Once the server's window has ended, forget it until an answer names the next one."""
        if self._reset is not None and self._reset <= now:
            self._reset, self._quota, self._ours, self._others = None, None, 0, 0

    def pause_for(self, seconds: float, *, jitter: float = 0.0) -> float:
        """Stop every worker for `seconds` (+ up to `jitter`); returns the epoch it ends."""
        until = self._clock.time() + seconds + self._rng.uniform(0, jitter)
        self._paused_until = max(self._paused_until, until)
        return self._paused_until
