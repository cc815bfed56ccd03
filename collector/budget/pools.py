"""One budget per rate-limit pool of the workspace (braze-api.md §10.4).

Braze counts per workspace and per pool: a 429 in the list pool must not pause the series pool,
and each pool's `X-RateLimit-*` headers describe that pool only. `Budgets` routes every response's
headers to the budget of the pool its path belongs to.

The purchase series start at the list pool's 1,000/h (their pages say so) and follow their own
responses' `X-RateLimit-Limit` upwards if it announces more (the rate-limit table says default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from collector.budget.local import Rate, WorkspaceBudget, read_quota
from collector.clock import Clock
from collector.core.streams import STREAMS
from collector.discovery import DETAILS, LISTS

FOLLOWS_ANNOUNCED = frozenset({"purchases"})

POOL_OF_PATH: dict[str, str] = {
    **{s.path: s.pool for s in STREAMS.values()},
    **{spec.path: spec.pool for spec in LISTS.values()},
    **{spec.path: "default" for spec in DETAILS.values()},
}


class Budgets:
    """`budgets[pool]` for the scheduler; `observe(path, headers)` for the client."""

    def __init__(
        self,
        rates: Mapping[str, Rate],
        clock: Clock,
        on_raise: Callable[[str, Rate, Rate], None] = lambda pool, old, new: None,
        make: Callable[[str, Rate], WorkspaceBudget] | None = None,
    ) -> None:
        self._rates = dict(rates)
        self._clock = clock
        self._on_raise = on_raise
        self._make = make or (lambda pool, rate: WorkspaceBudget(rate, clock))
        self._budgets: dict[str, WorkspaceBudget] = {}

    def __getitem__(self, pool: str) -> WorkspaceBudget:
        """The budget of `pool` (made on first use: local, or shared through PostgreSQL)."""
        budget = self._budgets.get(pool)
        if budget is None:
            budget = self._budgets[pool] = self._make(pool, self._rates[pool])
        return budget

    def observe(self, path: str, headers: Mapping[str, str]) -> None:
        pool = POOL_OF_PATH.get(path, "default")
        if pool in FOLLOWS_ANNOUNCED:
            self._follow(pool, headers)
        self[pool].observe(headers)

    def _follow(self, pool: str, headers: Mapping[str, str]) -> None:
        quota = read_quota(headers)
        old = self._rates[pool]
        if quota is None or quota.limit <= old.count * 3600.0 / old.period_s:
            return
        new = Rate(float(quota.limit), 3600.0)
        self._rates[pool] = new
        self._budgets[pool] = self._make(pool, new)
        self._on_raise(pool, old, new)
