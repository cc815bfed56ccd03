"""One budget per (workspace, pool) shared by every process on one PostgreSQL.

A row of `budgets` is a shared pacing clock (GCRA): `next_slot` is the earliest instant the next
request of the pool may be sent by *any* process. A process reserves a few slots at a time in one
UPDATE (`next_slot = greatest(next_slot, now, paused_until) + k × interval`) and sleeps until each.
The interval is the larger of the configured rate's and what the server's headers say is left:
`(reset − now) / remaining`, with `remaining` counted down by every reservation and lowered by
every response's `X-RateLimit-Remaining`, so N processes together neither exceed the quota nor
leave it idle. A 429 seen by one process moves `paused_until` (and `next_slot`) for all.

Reservations are small (about a fifth of a second's worth of requests), so a process that dies
strands at most that much of the quota.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from typing import Any

from collector.budget.local import RESET_MARGIN_S, Rate, read_quota
from collector.clock import Clock, busy
from collector.store.reconnect import again

BATCH_S = 0.2

_TABLE = """
CREATE TABLE IF NOT EXISTS {s}.budgets (
    workspace text NOT NULL, pool text NOT NULL, next_slot double precision NOT NULL,
    paused_until double precision NOT NULL, reset_at double precision NOT NULL,
    remaining double precision NOT NULL, limit_told bigint NOT NULL,
    sent_blind double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace, pool)
)
"""


async def create_table(pool: Any, schema_sql: str) -> None:
    async with pool.connection() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (schema_sql + ".coop",))
        await conn.execute(_TABLE.format(s=schema_sql))


class SharedGate:
    """The budget interface the scheduler uses (`acquire`, `release`, `observe`, `pause_for`),
    kept in PostgreSQL for every process of the workspace."""

    def __init__(
        self, pool: Any, schema_sql: str, workspace: str, name: str, rate: Rate, clock: Clock
    ) -> None:
        self._pool = pool
        self._s = schema_sql
        self._workspace = workspace
        self._name = name
        self.rate = rate
        self._clock = clock
        self._slots: deque[float] = deque()
        self._paused_until = 0.0
        self._told: Any = None
        self._flush: asyncio.Task[None] | None = None
        self._reserve_lock = asyncio.Lock()
        self.acquired = 0
        self.quota: Any = None
        self._interval = 1.0 / rate.per_second

    def __repr__(self) -> str:
        return f"<SharedGate {self._workspace}/{self._name} rate={self.rate}>"

    @property
    def paused_until(self) -> float:
        return self._paused_until

    async def acquire(self) -> None:
        while True:
            if not self._slots:
                async with self._reserve_lock:
                    if not self._slots:
                        await again("reserving requests from the shared budget", self._reserve)
            slot = self._slots.popleft()
            wait = max(slot, self._paused_until) - self._clock.time()
            if wait > 0:
                await self._clock.sleep(wait)
            if self._paused_until <= self._clock.time():
                self.acquired += 1
                return

    async def _reserve(self) -> None:
        count = max(1, int(self.rate.per_second * BATCH_S))
        now = self._clock.time()
        floor_interval = 1.0 / self.rate.per_second
        async with busy(self._clock), self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                f"INSERT INTO {self._s}.budgets VALUES (%s, %s, 0, 0, 0, 0, 0, 0) "
                "ON CONFLICT DO NOTHING",
                (self._workspace, self._name),
            )
            cur = await conn.execute(
                f"SELECT next_slot, paused_until, reset_at, remaining FROM {self._s}.budgets "
                "WHERE workspace = %s AND pool = %s FOR UPDATE",
                (self._workspace, self._name),
            )
            row = await cur.fetchone()
            assert row is not None
            next_slot, paused_until, reset_at, remaining = (float(v) for v in row)
            start = max(next_slot, now, paused_until)
            interval = floor_interval
            blind = 0
            if reset_at <= start:
                count = blind = 1  # the server's account is unknown (or over): one until told
            elif remaining < 1:  # the server's window is spent: wait for its reset, then
                start = reset_at + RESET_MARGIN_S  # one at a time until the next is told
                remaining = float("inf")
                count = blind = 1
            else:
                interval = max(interval, (reset_at - start) / remaining)
                count = max(1, min(count, int(remaining)))
            slots = [start + i * interval for i in range(count)]
            self._interval = interval
            await conn.execute(
                f"UPDATE {self._s}.budgets SET next_slot = %s, remaining = %s, "
                "sent_blind = sent_blind + %s WHERE workspace = %s AND pool = %s",
                (
                    start + count * interval,
                    remaining - count if remaining != float("inf") else 0.0,
                    blind,
                    self._workspace,
                    self._name,
                ),
            )
        self._paused_until = max(self._paused_until, paused_until)
        self._slots.extend(slots)

    def release(self) -> None:
        return None

    def allowed_rate(self) -> float:
        """Requests per second the shared clock paced its last reservation at (for all
        processes together: in-flight sizing needs no more than that)."""
        return 1.0 / self._interval if self._interval > 0 else self.rate.per_second

    def observe(self, headers: Mapping[str, str]) -> None:
        """Fold the server's account into the shared row (coalesced: one write in flight)."""
        quota = read_quota(headers)
        if quota is None:
            return
        self.quota = quota
        told = self._told
        if (
            told is None
            or quota.reset > told.reset
            or (quota.reset == told.reset and quota.remaining < told.remaining)
        ):
            self._told = quota
        if self._flush is None or self._flush.done():
            self._flush = asyncio.get_running_loop().create_task(self._write_told())

    async def _write_told(self) -> None:
        while (quota := self._told) is not None:
            self._told = None
            try:
                async with busy(self._clock), self._pool.connection() as conn:
                    await conn.execute(
                        f"UPDATE {self._s}.budgets SET "
                        # A new window's first account misses what was sent blind since it
                        # began (all but the request that carried it): count those out.
                        "remaining = CASE WHEN %s > reset_at THEN %s - greatest(sent_blind - 1, 0) "
                        "ELSE least(remaining, %s) END, "
                        "sent_blind = CASE WHEN %s > reset_at THEN 0 ELSE sent_blind END, "
                        "reset_at = greatest(reset_at, %s), "
                        "limit_told = %s WHERE workspace = %s AND pool = %s",
                        (
                            quota.reset,
                            float(quota.remaining),
                            float(quota.remaining),
                            quota.reset,
                            quota.reset,
                            quota.limit,
                            self._workspace,
                            self._name,
                        ),
                    )
            except Exception:  # the next response tells us again
                return

    def pause_for(self, seconds: float, *, jitter: float = 0.0) -> float:
        until = self._clock.time() + seconds + jitter / 2
        self._paused_until = max(self._paused_until, until)
        self._slots.clear()
        asyncio.get_running_loop().create_task(self._write_pause(self._paused_until))
        return self._paused_until

    async def _write_pause(self, until: float) -> None:
        try:
            async with busy(self._clock), self._pool.connection() as conn:
                await conn.execute(
                    f"UPDATE {self._s}.budgets SET paused_until = greatest(paused_until, %s), "
                    "next_slot = greatest(next_slot, %s) WHERE workspace = %s AND pool = %s",
                    (until, until, self._workspace, self._name),
                )
        except Exception:  # this process still honours its own pause
            return

    async def close(self) -> None:
        if self._flush is not None:
            await asyncio.gather(self._flush, return_exceptions=True)
