"""Several collectors on one PostgreSQL: one job, one quota, no window fetched twice.

In-process collectors (each with its own connection pool, as separate processes would have)
against the simulator on the real clock, with a server quota they must share; the leases and the
shared gate on their own with a virtual clock; and real processes, one SIGKILLed, one late.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from collector.budget.local import Rate
from collector.clock import SystemClock, VirtualClock
from collector.cooperate.gate import SharedGate, create_table
from collector.cooperate.leases import FRESH_S, Leases
from collector.core.models import Series, Window
from collector.core.streams import SESSIONS
from collector.core.units import Calendar, Unit
from collector.pipeline import collect
from collector.simulator import Faults, Segment, SimulatorConfig, Workspace, run_simulator
from collector.store.postgres import PostgresStore

from .family import NOW, make_job
from .threaded import simulator_thread

APPS = ("app-ios", "app-android")
FANOUT = {"app_id": ["", *APPS], "segment_id": ["", "vip"]}


def quota_config(limit: int, window_s: int) -> SimulatorConfig:
    return SimulatorConfig(
        workspaces=(Workspace(apps=APPS, segments=(Segment("vip"),)),),
        rate_limit=limit,
        rate_window_s=window_s,
        faults=Faults(latency_ms=20.0),
    )


def stored_points(dsn: str) -> dict[tuple, object]:
    with PostgresStore(dsn) as store:
        rows = [(p.dims, p.time, p.value) for p in store.iter_points("default", "sessions")]
    out = {r[:2]: r[2] for r in rows}
    assert len(out) == len(rows)
    return out


def usage(sim, limit: int, window_s: int) -> tuple[float, int]:
    """Share of the quota used over the server windows strictly inside the busy period, and
    the number of such windows."""
    windows = Counter(int(r.at // window_s) for r in sim.log)
    full = sorted(windows)[1:-1]
    if not full:
        return 0.0, 0
    return sum(windows[w] for w in full) / (limit * len(full)), len(full)


async def test_four_collectors_share_one_job_and_one_quota(pg_database):
    """4 collectors (each its own connection pool, as processes would have), each told 4x the
    server's quota of 60 per 3 s: an exact timeline, every window fetched once, >= 95% of the
    quota used in the busy server windows, <= 1% 429s. On a virtual clock shared with the
    simulator, so the figure measures the shared budget, not how busy the test machine is."""
    limit, window_s = 60, 3
    clock = VirtualClock(NOW)
    config = replace(quota_config(limit, window_s), faults=Faults())
    async with run_simulator(config, clock=clock) as sim:
        now = datetime.fromtimestamp(NOW, UTC)
        start = (now - timedelta(days=5500)).date()
        jobs = [
            make_job(
                sim, clock, pg_database, start=start.isoformat(), timezone="UTC",
                rate_limit=["80/s"], **FANOUT,
            )
            for _ in range(4)
        ]  # fmt: skip
        reports = await asyncio.gather(*(collect(job, clock=clock) for job in jobs))
        assert all(r.complete for r in reports), [r.series for r in reports]
        job = jobs[0]
        assert job.start is not None
        windows = 6 * math.ceil((job.end - job.start) / 100)
        data_requests = [r for r in sim.log if r.path == SESSIONS.path and r.status == 200]
        assert len(data_requests) == windows  # no window fetched twice
        rate_limited = sum(1 for r in sim.log if r.status == 429)
        assert rate_limited <= 0.01 * len(sim.log)
        share, full = usage(sim, limit, window_s)
        counts = Counter(int(r.at // window_s) for r in sim.log)
        assert full >= 3 and share >= 0.95, (share, full, sorted(counts.items()))
        end = datetime.combine(now.date(), datetime.min.time(), UTC)
        truth = {}
        for app in ("", *APPS):
            for segment in ("", "vip"):
                for instant, value in sim.truth(
                    "day",
                    datetime.combine(start, datetime.min.time(), UTC),
                    end,
                    app_id=app or None,
                    segment_id=segment or None,
                ):
                    truth[((app, segment), instant.date().isoformat())] = value
        assert stored_points(pg_database) == truth


def _window(lo: int, hi: int) -> Window:
    series = Series(SESSIONS, ("", ""), Unit.DAY, Calendar("UTC"))
    return Window(series, lo, hi, lo, hi)


async def _pool(dsn: str):
    from psycopg_pool import AsyncConnectionPool

    pool = AsyncConnectionPool(dsn, min_size=1, max_size=4, open=False)
    await pool.open(wait=True)
    return pool


async def _schema(dsn: str, schema: str) -> None:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        # leases look at coverage for backfills: the tables a store would have
        await conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".series (id bigint PRIMARY KEY, workspace text, '
            "stream text, dims text, unit text)"
        )
        await conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".coverage (series bigint, lo bigint, hi bigint)'
        )


async def test_a_slow_process_keeps_its_lease_while_its_heartbeat_lives(pg_schema):
    """A holds a window and beats; B is refused for as long as that lasts (four leases), and
    takes the window over only once A's heartbeat stops and its lease expires. Real clock: the
    heartbeat's writes are real I/O."""
    dsn, schema = pg_schema
    await _schema(dsn, schema)
    clock = SystemClock()
    pool_a, pool_b = await _pool(dsn), await _pool(dsn)
    a = Leases(pool_a, f'"{schema}"', clock, workspace="default", command="backfill", lease_s=1.5)
    b = Leases(pool_b, f'"{schema}"', clock, workspace="default", command="backfill", lease_s=1.5)
    try:
        await a.join()
        await b.join()
        window = _window(100, 200)
        assert await a.claim(window) == "ok"
        for _ in range(12):  # 12 × 0.5 s: four leases, but A keeps beating
            await clock.sleep(0.5)
            assert await b.claim(window) == "busy"
            assert await b.claim(_window(150, 250)) == "busy"  # overlapping is busy too
        assert a._beat is not None
        a._beat.cancel()  # A hangs for good (or dies): no more heartbeats
        await asyncio.gather(a._beat, return_exceptions=True)
        await clock.sleep(2)
        assert await b.claim(window) == "taken"
        assert b.report.taken_over == 1
        await b.finish(window, stored=True)
        assert await a.claim(window) == "done"  # stored in this job since A started
    finally:
        await b.leave()
        await pool_a.close()
        await pool_b.close()


async def test_a_429_seen_by_one_process_pauses_the_others(pg_schema):
    dsn, schema = pg_schema
    await _schema(dsn, schema)
    await create_table_in(dsn, schema)
    clock = VirtualClock(1_700_000_000)
    pool_a, pool_b = await _pool(dsn), await _pool(dsn)
    try:
        rate = Rate.parse("10/s")
        gate_a = SharedGate(pool_a, f'"{schema}"', "default", "default", rate, clock)
        gate_b = SharedGate(pool_b, f'"{schema}"', "default", "default", rate, clock)
        await gate_a.acquire()
        until = gate_a.pause_for(30.0)
        await asyncio.sleep(0.2)  # the pause reaches PostgreSQL (real I/O)
        t0 = clock.time()
        await gate_b.acquire()
        assert clock.time() >= until - 0.01 and clock.time() - t0 >= 29
        # and the two share one pacing clock: 20 acquisitions between them take ~2 s at 10/s
        t1 = clock.time()
        await asyncio.gather(*(g.acquire() for g in (gate_a, gate_b) for _ in range(10)))
        assert 1.5 <= clock.time() - t1 <= 3.0
    finally:
        await pool_a.close()
        await pool_b.close()


async def create_table_in(dsn: str, schema: str) -> None:
    pool = await _pool(dsn)
    try:
        await create_table(pool, f'"{schema}"')
    finally:
        await pool.close()


def _backfill(sim, dsn: str, *extra: str) -> subprocess.Popen[str]:
    start = (datetime.now(UTC) - timedelta(days=3000)).date().isoformat()
    args = [sys.executable, "-m", "collector", "backfill", "--endpoint", sim.url, "--db", dsn,
            "--start", start, "--no-progress", "--log-format", "json", "--lease", "3",
            "--concurrency", "4", "--rate-limit", "100/s"]  # fmt: skip
    for app in ("", *APPS):
        args += ["--app-id", app]
    args += ["--segment-id", "", "--segment-id", "vip", *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTOR_", "BRAZE_"))}
    return subprocess.Popen(
        args, env={**env, "BRAZE_API_KEY": "sim-key"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _summary(stderr: str) -> dict:
    lines = [json.loads(x) for x in stderr.splitlines() if x.startswith("{")]
    return next(x for x in reversed(lines) if x.get("event") == "summary")


@pytest.mark.slow
def test_processes_one_killed_one_late_finish_the_job_exactly(pg_database):
    """Three processes start; the first to hold a lease is SIGKILLed; a fourth starts late. The
    survivors exit 0 with an exact timeline; requests beyond the minimum are at most the windows
    whose leases expired (taken over)."""
    config = quota_config(60, 1)
    with simulator_thread(config) as sim:
        procs = [_backfill(sim, pg_database) for _ in range(3)]
        deadline = time.monotonic() + 60
        victim = None
        while victim is None:
            assert time.monotonic() < deadline, "no process claimed a window"
            with psycopg.connect(pg_database) as conn:
                try:
                    row = conn.execute(
                        "SELECT owner FROM braze.claims WHERE state = 'live' LIMIT 1"
                    ).fetchone()
                except psycopg.Error:
                    row = None
            if row is not None:
                pid = int(row[0].split(":")[1])
                victim = next((p for p in procs if p.pid == pid), None)
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        late = _backfill(sim, pg_database)
        survivors = [p for p in procs if p is not victim] + [late]
        summaries = []
        for p in survivors:
            _, err = p.communicate(timeout=180)
            assert p.returncode == 0, err[-2000:]
            summaries.append(_summary(err))
        data = [r for r in sim.log if r.path == SESSIONS.path and r.status == 200]
        start = (datetime.now(UTC) - timedelta(days=3000)).date()
        days = (datetime.now(UTC).date() - start).days
        minimum = 6 * math.ceil(days / 100)
        taken = sum(s["taken_over"] for s in summaries)
        assert minimum <= len(data) <= minimum + taken + 4  # + the victim's answered-not-stored
        assert len(stored_points(pg_database)) == 6 * days
        time.sleep(3.5)  # past the victim's lease
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTOR_", "BRAZE_"))}
        shown = subprocess.run(
            [sys.executable, "-m", "collector", "status", "--db", pg_database, "--format", "json"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        coop = json.loads(shown.stdout)["cooperation"]
        states = Counter(p["state"] for p in coop["processes"])
        assert states == {"finished": 3, "lost (no heartbeat)": 1}, states
        assert sum(p["windows_stored"] for p in coop["processes"]) >= minimum - 4
        assert [b["pool"] for b in coop["budgets"]] == ["default"]


async def test_connections_cut_mid_run_reconnect_and_finish_exactly(pg_database):
    """Every connection of the database is terminated twice mid-run (what a server restart
    does to clients): the collector reconnects and finishes; the timeline is exact."""
    async with run_simulator(quota_config(100_000, 1)) as sim:
        clock = SystemClock()
        start = (datetime.now(UTC) - timedelta(days=3000)).date().isoformat()
        job = make_job(
            sim, clock, pg_database, start=start, timezone="UTC", rate_limit=["60/s"], **FANOUT
        )
        run = asyncio.ensure_future(collect(job, clock=clock))
        cuts = 0
        while cuts < 2:
            await asyncio.sleep(0.3)
            assert not run.done(), run.result()
            async with await psycopg.AsyncConnection.connect(pg_database, autocommit=True) as c:
                cur = await c.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                row = await cur.fetchone()
                cuts += 1 if row and row[0] else 0
        report = await run
        assert report.complete, report
        days = (datetime.now(UTC).date() - date.fromisoformat(start)).days
        assert len(stored_points(pg_database)) == 6 * days


async def test_a_sync_started_just_after_its_peer_does_not_refetch_what_the_peer_stored(
    pg_schema,
):
    """Found by the cron recipe (two hosts, one sync): B started 1 s after A stored a window,
    and re-read it because 'done since I started' excluded it. Stored up to FRESH_S before
    B started is fresh: done."""
    dsn, schema = pg_schema
    await _schema(dsn, schema)
    clock = VirtualClock(1_700_000_000)
    pool_a, pool_b = await _pool(dsn), await _pool(dsn)
    try:
        a = Leases(pool_a, f'"{schema}"', clock, workspace="default", command="sync")
        await a.join()
        window = _window(100, 200)
        assert await a.claim(window) == "ok"
        await a.finish(window, stored=True)
        clock.advance(1)
        b = Leases(pool_b, f'"{schema}"', clock, workspace="default", command="sync")
        await b.join()
        assert await b.claim(window) == "done"
        assert await b.done_since_start([window.series.key]) == {window.series.key: [(100, 200)]}
        clock.advance(FRESH_S + 10)
        c = Leases(pool_b, f'"{schema}"', clock, workspace="default", command="sync")
        await c.join()
        assert await c.claim(window) == "ok"  # a later night's sync refreshes it again
        await c.leave()
        await b.leave()
        await a.leave()
    finally:
        await pool_a.close()
        await pool_b.close()
