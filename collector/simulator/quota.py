"""The rate limits: one request counter per (workspace, pool) over fixed epoch-aligned windows.

Windows are `[k·window, (k+1)·window)` in epoch seconds, read from the simulator's clock, so the
hourly default resets on the top of the UTC hour (braze-api.md §9 rules 14–17). Each pool has
its own limit and window (§10.4); a request only ever counts in, and reports, one pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import get_args

from collector.simulator.config import Pool, SimulatorConfig


@dataclass(frozen=True)
class QuotaState:
    """A workspace's budget after (or without) counting a request."""

    limit: int
    count: int
    reset: int  # window end, epoch seconds
    now: float

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window resets, rounded up, at least 1."""
        return max(1, math.ceil(self.reset - self.now))

    def headers(self) -> dict[str, str]:
        """The `X-RateLimit-*` headers every non-401 response carries."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class RateCounter:
    """Counts requests per workspace in fixed windows of `window_s` seconds."""

    def __init__(self, limit: int, window_s: int) -> None:
        self._limit = limit
        self._window_s = window_s
        self._windows: dict[str, tuple[int, int]] = {}  # workspace -> (window index, count)

    def _state(self, workspace: str, now: float, add: int) -> QuotaState:
        index = math.floor(now / self._window_s)
        current, count = self._windows.get(workspace, (index, 0))
        count = (count if current == index else 0) + add
        self._windows[workspace] = (index, count)
        return QuotaState(self._limit, count, (index + 1) * self._window_s, now)

    def charge(self, workspace: str, now: float) -> QuotaState:
        """Count one request against `workspace` and return the budget after it."""
        return self._state(workspace, now, 1)

    def peek(self, workspace: str, now: float) -> QuotaState:
        """The budget of `workspace` without counting anything."""
        return self._state(workspace, now, 0)

    def __repr__(self) -> str:
        return f"RateCounter(limit={self._limit}, window_s={self._window_s}, live={self._windows})"


class Quota:
    """The rate counters of every pool, each per workspace."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._counters = {}
        for pool in get_args(Pool):
            budget = config.pool_limit(pool)
            self._counters[pool] = RateCounter(budget.limit, budget.window_s)

    def charge(self, workspace: str, pool: Pool, now: float) -> QuotaState:
        """Count one request against `workspace` in `pool`; the budget after it."""
        return self._counters[pool].charge(workspace, now)

    def peek(self, workspace: str, pool: Pool, now: float) -> QuotaState:
        """The budget of `workspace` in `pool`, without counting anything."""
        return self._counters[pool].peek(workspace, now)

    def __repr__(self) -> str:
        return f"Quota({self._counters})"
