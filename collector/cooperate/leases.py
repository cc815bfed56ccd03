"""Cooperating processes on one PostgreSQL: each window is claimed by one process with a lease.

Tables (in the store's schema, created on first use under an advisory lock):
    processes  one row per collector process that joined: host, pid, job, heartbeat, lease,
               state (running, finished, lost) and its progress (requests, windows)
    claims     (series key, lo, hi) → owner, lease expiry, state (live or done), when done

Claiming serialises per series with a transaction-scoped advisory lock, so two processes never
both hold overlapping windows. A claim overlapping a *live* claim of another process is refused
(`busy`); one overlapping only *expired* claims takes them over (`taken`); one whose buckets are
already covered (a backfill) or stored by the job since shortly before this process started
(a sync: up to FRESH_S before) is `done`.
A heartbeat renews every live claim of the process every `lease_s / 3` seconds, so a process
that is slow (not dead) keeps its windows; a SIGKILLed one loses them when its lease expires.

Time is the process clock (epoch seconds): hosts are expected to be NTP-synchronised, and a
skew of a few seconds only shortens or lengthens a lease by as much.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from collector.clock import Clock, busy
from collector.core.models import SeriesKey, Window
from collector.store.reconnect import again

DEFAULT_LEASE_S = 30.0
# A window another process of the job stored this long before this one started is fresh: a
# sync started a moment after its peers (cron on several hosts) must not re-read what they
# just refreshed.
FRESH_S = 300.0
Verdict = Literal["ok", "taken", "busy", "done"]

_TABLES = """
CREATE TABLE IF NOT EXISTS {s}.processes (
    id text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, workspace text NOT NULL,
    command text NOT NULL, started_at double precision NOT NULL,
    heartbeat_at double precision NOT NULL, lease_s double precision NOT NULL,
    state text NOT NULL, requests bigint NOT NULL DEFAULT 0, windows bigint NOT NULL DEFAULT 0,
    planned bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS {s}.claims (
    series_key text NOT NULL, lo bigint NOT NULL, hi bigint NOT NULL, owner text NOT NULL,
    expires_at double precision NOT NULL, state text NOT NULL, done_at double precision,
    PRIMARY KEY (series_key, lo, hi)
);
CREATE INDEX IF NOT EXISTS claims_owner ON {s}.claims (owner, state);
"""


def key_text(key: SeriesKey) -> str:
    return json.dumps(list(key), ensure_ascii=False, separators=(",", ":"))


@dataclass
class LeaseReport:
    """What this process's claims came to, for the run report."""

    claimed: int = 0
    taken_over: int = 0


class Leases:
    """Claims, heartbeat and the processes table for one collector process."""

    def __init__(
        self,
        pool: Any,  # psycopg_pool.AsyncConnectionPool
        schema_sql: str,
        clock: Clock,
        *,
        workspace: str,
        command: str,
        lease_s: float = DEFAULT_LEASE_S,
    ) -> None:
        self._pool = pool
        self._s = schema_sql
        self._clock = clock
        self.workspace = workspace
        self.command = command
        self.lease_s = lease_s
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.started_at = clock.time()
        self.fresh_since = self.started_at - FRESH_S
        self.report = LeaseReport()
        self._beat: asyncio.Task[None] | None = None
        self.progress = (0, 0, 0)  # requests, windows stored, windows planned

    shared = True

    async def join(self) -> None:
        now = self._clock.time()
        async with busy(self._clock), self._pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._s + ".coop",))
            for statement in _TABLES.format(s=self._s).split(";"):
                if statement.strip():
                    await conn.execute(statement)
            await conn.execute(
                f"INSERT INTO {self._s}.processes (id, host, pid, workspace, command, started_at, "
                "heartbeat_at, lease_s, state) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'running')",
                (
                    self.id,
                    socket.gethostname(),
                    os.getpid(),
                    self.workspace,
                    self.command,
                    now,
                    now,
                    self.lease_s,
                ),
            )
            # Done claims older than a day serve nobody: a job that long has other records.
            await conn.execute(
                f"DELETE FROM {self._s}.claims WHERE state = 'done' AND done_at < %s",
                (now - 86400,),
            )
            await conn.execute(
                f"UPDATE {self._s}.processes SET state = 'lost' WHERE state = 'running' "
                "AND heartbeat_at + lease_s < %s",
                (now,),
            )
        self._beat = asyncio.create_task(self._heartbeat(), name="collector-heartbeat")

    async def leave(self, state: str = "finished") -> None:
        if self._beat is not None:
            self._beat.cancel()
            await asyncio.gather(self._beat, return_exceptions=True)
        await again("leaving the job", lambda: self._leave(state))

    async def _leave(self, state: str) -> None:
        async with busy(self._clock), self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                f"DELETE FROM {self._s}.claims WHERE owner = %s AND state = 'live'", (self.id,)
            )
            await self._progress(conn, state)

    async def _progress(self, conn: Any, state: str) -> None:
        requests, windows, planned = self.progress
        await conn.execute(
            f"UPDATE {self._s}.processes SET heartbeat_at = %s, state = %s, requests = %s, "
            "windows = %s, planned = %s WHERE id = %s",
            (self._clock.time(), state, requests, windows, planned, self.id),
        )

    async def _heartbeat(self) -> None:
        while True:
            await self._clock.sleep(self.lease_s / 3)
            try:
                async with busy(self._clock), self._pool.connection() as conn, conn.transaction():
                    await conn.execute(
                        f"UPDATE {self._s}.claims SET expires_at = %s WHERE owner = %s "
                        "AND state = 'live'",
                        (self._clock.time() + self.lease_s, self.id),
                    )
                    await self._progress(conn, "running")
            except Exception:  # a lost connection: the next beat tries again
                continue

    async def claim(self, window: Window) -> Verdict:
        """Try to take `window` for this process (see the module docstring)."""
        return await again("claiming a window", lambda: self._claim(window))

    async def _claim(self, window: Window) -> Verdict:
        key = window.series.key
        text = key_text(key)
        now = self._clock.time()
        async with busy(self._clock), self._pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (text,))
            cur = await conn.execute(
                f"SELECT owner, expires_at, state, done_at FROM {self._s}.claims "
                "WHERE series_key = %s AND lo < %s AND hi > %s",
                (text, window.hi, window.lo),
            )
            overlapping = await cur.fetchall()
            done_here = any(
                state == "done" and done_at is not None and done_at >= self.fresh_since
                for _, _, state, done_at in overlapping
            )
            if done_here or await self._covered(conn, key, window):
                return "done"
            live = [o for o, exp, state, _ in overlapping if state == "live" and exp > now]
            if any(owner != self.id for owner in live):
                return "busy"
            expired = [
                o
                for o, exp, state, _ in overlapping
                if state == "live" and exp <= now and o != self.id
            ]
            await conn.execute(
                f"DELETE FROM {self._s}.claims WHERE series_key = %s AND lo < %s AND hi > %s "
                "AND state = 'live'",
                (text, window.hi, window.lo),
            )
            await conn.execute(
                f"INSERT INTO {self._s}.claims (series_key, lo, hi, owner, expires_at, state) "
                "VALUES (%s, %s, %s, %s, %s, 'live') ON CONFLICT (series_key, lo, hi) DO UPDATE "
                "SET owner = excluded.owner, expires_at = excluded.expires_at, state = 'live', "
                "done_at = NULL",
                (text, window.lo, window.hi, self.id, now + self.lease_s),
            )
        self.report.claimed += 1
        if expired:
            self.report.taken_over += 1
            return "taken"
        return "ok"

    async def _covered(self, conn: Any, key: SeriesKey, window: Window) -> bool:
        if self.command == "sync":
            return False  # a sync re-reads covered buckets on purpose
        workspace, stream, dims, unit = key
        cur = await conn.execute(
            f"SELECT 1 FROM {self._s}.coverage c JOIN {self._s}.series x ON x.id = c.series "
            "WHERE x.workspace = %s AND x.stream = %s AND x.dims = %s AND x.unit = %s "
            "AND c.lo <= %s AND c.hi >= %s LIMIT 1",
            (workspace, stream, dims, unit, window.lo, window.hi),
        )
        return await cur.fetchone() is not None

    async def finish(self, window: Window, *, stored: bool) -> None:
        """The window was stored (done for this job) or given up (free for others)."""
        await again("releasing a window", lambda: self._finish(window, stored))

    async def _finish(self, window: Window, stored: bool) -> None:
        text = key_text(window.series.key)
        async with busy(self._clock), self._pool.connection() as conn:
            if stored:
                await conn.execute(
                    f"UPDATE {self._s}.claims SET state = 'done', done_at = %s WHERE "
                    "series_key = %s AND lo = %s AND hi = %s AND owner = %s",
                    (self._clock.time(), text, window.lo, window.hi, self.id),
                )
            else:
                await conn.execute(
                    f"DELETE FROM {self._s}.claims WHERE series_key = %s AND lo = %s AND hi = %s "
                    "AND owner = %s AND state = 'live'",
                    (text, window.lo, window.hi, self.id),
                )

    async def done_since_start(
        self, keys: Sequence[SeriesKey]
    ) -> dict[SeriesKey, list[tuple[int, int]]]:
        """Windows other processes stored in this job since this one started (for a sync's
        re-planning: coverage alone cannot tell a refreshed bucket from an old one)."""
        return await again("re-planning", lambda: self._done_since_start(keys))

    async def _done_since_start(
        self, keys: Sequence[SeriesKey]
    ) -> dict[SeriesKey, list[tuple[int, int]]]:
        out: dict[SeriesKey, list[tuple[int, int]]] = {}
        by_text = {key_text(k): k for k in keys}
        async with busy(self._clock), self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT series_key, lo, hi FROM {self._s}.claims WHERE state = 'done' "
                "AND done_at >= %s AND series_key = ANY(%s)",
                (self.fresh_since, list(by_text)),
            )
            for text, lo, hi in await cur.fetchall():
                out.setdefault(by_text[text], []).append((int(lo), int(hi)))
        return out

    async def others_hold(self) -> bool:
        """Whether another live process still holds a live claim (worth waiting for)."""
        return await again("waiting for other processes", self._others_hold)

    async def _others_hold(self) -> bool:
        async with busy(self._clock), self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT 1 FROM {self._s}.claims WHERE state = 'live' AND owner <> %s LIMIT 1",
                (self.id,),
            )
            return await cur.fetchone() is not None


class LocalLeases:
    """One process on an embedded store: every claim succeeds, nothing is shared."""

    shared = False

    def __init__(self) -> None:
        self.report = LeaseReport()
        self.progress = (0, 0, 0)
        self.lease_s = DEFAULT_LEASE_S

    async def join(self) -> None:
        return None

    async def leave(self, state: str = "finished") -> None:
        return None

    async def claim(self, window: Window) -> Verdict:
        return "ok"

    async def finish(self, window: Window, *, stored: bool) -> None:
        return None

    async def done_since_start(
        self, keys: Sequence[SeriesKey]
    ) -> dict[SeriesKey, list[tuple[int, int]]]:
        return {}

    async def others_hold(self) -> bool:
        return False
