"""The one place that wires the stages: config → planner → scheduler → client → store.

    report = await collect(job)

A run is: plan from what is stored; send one *probe* window alone to learn how the server reads
an on-boundary `ending_at`; then fan out the rest; then re-plan, and fetch any bucket a surprise
left uncovered (at most `MAX_REPAIR_PASSES` times). Windows that failed this run are not tried
again in the same run; the next run resumes them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from collector.budget.local import Rate, read_quota
from collector.budget.pools import Budgets
from collector.clock import Clock, SystemClock, busy_while
from collector.config import Job
from collector.cooperate.leases import Leases, LocalLeases
from collector.core.alignment import Aligner
from collector.core.models import RunReport, Series, SeriesKey, StoreOutcome, WindowResult
from collector.core.planner import Interval, Plan, merge, plan
from collector.discovery import Discovery
from collector.errors import ApiError, AuthError, ConfigError, ServerUnreachable
from collector.fanout import Fanout, fan_out
from collector.http.client import BrazeClient, ClientSettings
from collector.observe.events import (
    Event,
    Observer,
    PassStarted,
    QuotaSeen,
    RunFinished,
    WindowFailed,
)
from collector.store import exists, open_read_store, open_run_store
from collector.store.base import RunStore
from collector.work.scheduler import RunLimits, Scheduler, StopRun

MAX_REPAIR_PASSES = 2
QUOTA_EVENT_INTERVAL_S = 0.25

Ranges = list[tuple[Series, int, int]]


class _LastTimes(Protocol):
    async def last_time(self, key: SeriesKey) -> str | None: ...


async def series_ranges(job: Job, store: _LastTimes, fan: Fanout) -> Ranges:
    """The bucket range [lo, hi) each series of the job needs in this run."""
    ranges = []
    for s, bound_lo, hi in fan.ranges:
        if job.command != "sync":
            assert bound_lo is not None
            ranges.append((s, bound_lo, hi))
            continue
        last = await store.last_time(s.key)
        if last is None and job.start is None and bound_lo is None:
            raise ConfigError(
                f"{s.describe()}: nothing stored yet in {job.db}, so sync has nowhere to resume "
                "from; run backfill first, or give sync a --start"
            )
        if last is None:
            lo = job.start if job.start is not None else bound_lo
        else:
            lo = s.calendar.from_key(s.unit, last) + 1 - job.lookback_of(s.stream)
        assert lo is not None
        if bound_lo is not None:
            lo = max(lo, bound_lo)
        ranges.append((s, min(lo, hi - 1), hi))
    return ranges


@dataclass
class _Ledger:
    """What this run established or gave up on, per series, for re-planning."""

    done: defaultdict[SeriesKey, list[Interval]]
    failed: defaultdict[SeriesKey, list[Interval]]

    def record(self, event: Event) -> None:
        if isinstance(event, WindowFailed):
            w = event.window
            self.failed[w.series.key] = merge([*self.failed[w.series.key], (w.lo, w.hi)])

    def add_done(self, key: SeriesKey, interval: Interval) -> None:
        """Kept merged, so memory follows the number of holes, not the length of history."""
        self.done[key] = merge([*self.done[key], interval])


async def make_plan(
    job: Job,
    store: RunStore | None,
    ranges: Sequence[tuple[Series, int, int]],
    ledger: _Ledger,
    leases: Leases | LocalLeases | None = None,
) -> Plan:
    """Plan against stored coverage (backfill) or this job's own fetches (a sync refreshes:
    this run's, and what cooperating processes stored since it started), minus failures."""
    keys = [s.key for s, _, _ in ranges]
    if job.command != "sync":
        stored = await store.covered(keys) if store is not None else {}
    else:
        stored = await leases.done_since_start(keys) if leases is not None else {}
    covered = {k: merge([*stored.get(k, ()), *ledger.done[k], *ledger.failed[k]]) for k in keys}
    return plan(ranges, covered)


@dataclass
class PlanPreview:
    """What `plan` shows: the plan, and what fan-out could not know without sending anything."""

    plan: Plan
    fan: Fanout


async def plan_only(job: Job, *, now: datetime | None = None) -> PlanPreview:
    """What a run would fetch now, without sending anything (reads the store and the cached
    discovery when the database exists)."""
    now = now or datetime.now(UTC)
    ledger = _Ledger(defaultdict(list), defaultdict(list))
    if not exists(job.db):
        fan = await fan_out(job, _nothing_listed, None, now)
        ranges = [(s, lo if lo is not None else hi - 1, hi) for s, lo, hi in fan.ranges]
        return PlanPreview(plan(ranges, {}), fan)
    reader = await asyncio.to_thread(lambda: open_read_store(job.db, schema=job.pg_schema))
    try:
        zone = reader.timezone(job.workspace)
        if zone is not None and zone != job.calendar.zone_name:
            raise ConfigError(
                f"{job.db} holds workspace {job.workspace!r} in time zone {zone!r}, not "
                f"{job.calendar.zone_name!r}: pass --timezone {zone}"
            )
        cached = _CachedLists(reader, job.workspace)
        fan = await fan_out(job, cached.listed, cached.life, now)
        store = _ReadAsRun(reader)
        ranges = await series_ranges(job, store, fan)
        return PlanPreview(await make_plan(job, store, ranges, ledger), fan)  # type: ignore[arg-type]
    finally:
        reader.close()


async def _nothing_listed(what: str) -> None:
    return None


class _CachedLists:
    def __init__(self, reader: Any, workspace: str) -> None:
        self._reader, self._workspace = reader, workspace

    async def listed(self, what: str) -> tuple[list[str], list[str]] | None:
        found = self._reader.discovered_now(self._workspace, what)
        return None if found is None else (found[0], found[1])

    async def life(self, dimension: str, entity: str) -> tuple[datetime, datetime] | None:
        from collector.discovery import DETAILS

        found = self._reader.discovered_now(self._workspace, f"{DETAILS[dimension].path}?{entity}")
        if found is None:
            raise LookupError(entity)
        dates = found[0]
        if not dates:
            return None
        return datetime.fromisoformat(dates[0]), datetime.fromisoformat(dates[1])


class _ReadAsRun:
    def __init__(self, reader: Any) -> None:
        self._reader = reader

    async def last_time(self, key: SeriesKey) -> str | None:
        result: str | None = self._reader.last_time(key)
        return result

    async def covered(self, keys: Sequence[SeriesKey]) -> dict[SeriesKey, list[Interval]]:
        result: dict[SeriesKey, list[Interval]] = self._reader.covered(keys)
        return result


async def collect(
    job: Job,
    *,
    clock: Clock | None = None,
    observers: Sequence[Observer] = (),
    rng: random.Random | None = None,
) -> RunReport:
    """Run a backfill or sync job to completion (or to a fatal error) and report."""
    clock = clock or SystemClock()
    report = RunReport(rate_limit_per_s=job.rate.per_second)
    ledger = _Ledger(defaultdict(list), defaultdict(list))

    def emit(event: Event) -> None:
        ledger.record(event)
        for observer in observers:
            observer(event)

    started = time.monotonic()
    settings = _client_settings(job)
    store = busy_while(await open_run_store(job.db, schema=job.pg_schema), clock)
    try:
        report.notices += store.notices
        await store.prepare(job.workspace, job.calendar.zone_name)
        await store.check_key(job.workspace, settings.api_key, rotated=job.key_rotated)
        run_id = await store.begin_run(job.workspace, job.command, _utc(clock))
        outcome = "interrupted"

        async def sink(result: WindowResult) -> StoreOutcome:
            stored = await store.commit(result)
            ledger.add_done(result.window.series.key, result.covered)
            return stored

        leases, make = await _cooperation(store, job, clock)
        await leases.join()
        try:
            budgets = Budgets(job.rates, clock, on_raise=_raised(report), make=make)
            async with BrazeClient(
                settings, clock=clock, on_headers=_headers_to(budgets, emit)
            ) as client:
                scheduler = Scheduler(
                    fetcher=client,
                    budgets=budgets,
                    aligner=Aligner(),
                    policy=job.retry,
                    clock=clock,
                    sink=sink,
                    emit=emit,
                    report=report,
                    concurrency=job.concurrency,
                    limits=RunLimits(
                        max_requests=job.max_requests,
                        deadline=None if job.deadline_s is None else clock.time() + job.deadline_s,
                    ),
                    rng=rng or random.Random(),
                    leases=leases,
                )
                ranges = await _fan_out(job, store, scheduler, clock, report)
                if ranges is not None:
                    await _passes(job, store, ranges, ledger, scheduler, emit, report, clock)
                    final = plan(ranges, await store.covered([s.key for s, _, _ in ranges]))
                    _note_gaps(final, report)
            outcome = (
                "complete" if report.complete else "stopped" if report.stopped else "incomplete"
            )
        except AuthError as exc:
            report.fatal = str(exc)
            outcome = "auth-failed"
        except ServerUnreachable:
            outcome = "unreachable"
            raise
        finally:
            report.duration_s = time.monotonic() - started
            report.taken_over = leases.report.taken_over
            leases.progress = (
                report.requests,
                sum(s.windows for s in report.series.values()),
                report.planned_windows,
            )
            await leases.leave("finished" if outcome != "interrupted" else "interrupted")
            await store.finish_run(run_id, _utc(clock), outcome, report)
    except asyncio.CancelledError:
        report.interrupted = True  # SIGINT/SIGTERM: what was committed stays; say so, then stop
        raise
    finally:
        await store.close()
        emit(RunFinished(report))
    return report


async def _cooperation(
    store: RunStore, job: Job, clock: Clock
) -> tuple[Leases | LocalLeases, Callable[[str, Rate], Any] | None]:
    """On PostgreSQL: leases on windows and one budget per pool shared with every process of
    the workspace. On SQLite: one process, nothing shared."""
    share = getattr(store, "share", None)
    if share is None:
        return LocalLeases(), None
    from collector.cooperate.gate import SharedGate, create_table

    pool, schema_sql = share()
    await create_table(pool, schema_sql)
    leases = Leases(
        pool, schema_sql, clock, workspace=job.workspace, command=job.command, lease_s=job.lease_s
    )

    def make(name: str, rate: Rate) -> Any:
        return SharedGate(pool, schema_sql, job.workspace, name, rate, clock)

    return leases, make


async def discover(
    job: Job, *, clock: Clock | None = None
) -> dict[str, tuple[list[str], list[str]]]:
    """Fetch (or read from the cache) every list the job's streams' '*' would use."""
    from collector.discovery import LIST_OF_DIMENSION

    clock = clock or SystemClock()
    report = RunReport()
    settings = _client_settings(job)
    store = busy_while(await open_run_store(job.db, schema=job.pg_schema), clock)
    try:
        await store.check_key(job.workspace, settings.api_key, rotated=job.key_rotated)
        budgets = Budgets(job.rates, clock)
        async with BrazeClient(settings, clock=clock, on_headers=budgets.observe) as client:
            scheduler = Scheduler(
                fetcher=client,
                budgets=budgets,
                aligner=Aligner(),
                policy=job.retry,
                clock=clock,
                sink=_no_sink,
                emit=lambda event: None,
                report=report,
            )
            discovery = Discovery(
                scheduler.get_json, store, job.workspace, job.discovery_ttl_s, clock.time
            )
            wanted = dict.fromkeys(
                LIST_OF_DIMENSION[d]
                for s in job.streams
                for d in s.dimensions
                if d in LIST_OF_DIMENSION and "*" in job.selectors[d]
            )
            return {what: await discovery.listed(what) for what in wanted}
    finally:
        await store.close()


async def _no_sink(result: WindowResult) -> StoreOutcome:
    raise AssertionError("discover stores no windows")


async def _fan_out(
    job: Job, store: RunStore, scheduler: Scheduler, clock: Clock, report: RunReport
) -> Ranges | None:
    """The run's series and ranges; lists and details a '*' needs are fetched (or read from the
    cache). A list that cannot be read fails the streams that need it, not the run."""
    discovery = Discovery(scheduler.get_json, store, job.workspace, job.discovery_ttl_s, clock.time)

    async def listed(what: str) -> tuple[list[str], list[str]] | None:
        try:
            return await discovery.listed(what)
        except (ApiError, AuthError) as exc:
            if isinstance(exc, AuthError) and exc.status != 403:
                raise
            report.discovery_errors.append(f"listing {what}: {exc}")
            return [], []

    async def life(dimension: str, entity: str) -> tuple[datetime, datetime] | None:
        try:
            return await discovery.life(dimension, entity)
        except (ApiError, AuthError) as exc:
            if isinstance(exc, AuthError) and exc.status != 403:
                raise
            report.discovery_errors.append(f"details of {entity!r}: {exc}")
            raise LookupError(entity) from exc

    try:
        fan = await fan_out(job, listed, life, _utc(clock))
    except StopRun:
        return None
    report.skipped = fan.skipped
    report.discovery_requests = discovery.requests
    ranges = await series_ranges(job, store, fan)
    for s, _, _ in ranges:
        report.for_series(s)
    return ranges


async def _passes(
    job: Job,
    store: RunStore,
    ranges: Ranges,
    ledger: _Ledger,
    scheduler: Scheduler,
    emit: Observer,
    report: RunReport,
    clock: Clock,
) -> None:
    leases = scheduler.leases
    first = await make_plan(job, store, ranges, ledger, leases)
    report.planned_windows = first.requests
    probe = first.probe()
    if probe is None:
        return
    emit(PassStarted("probe", 1, probe.units))
    await scheduler.run([probe])
    for n in range(1 + MAX_REPAIR_PASSES):
        current = await make_plan(job, store, ranges, ledger, leases)
        if current.requests == 0 or report.stopped:
            return
        emit(PassStarted("main" if n == 0 else f"repair {n}", current.requests, current.missing))
        await scheduler.run(current.windows())
    while leases.shared:
        # Only windows other processes hold are left: wait for them to be stored, or for their
        # leases to expire and take them over. Ends when the job is complete.
        current = await make_plan(job, store, ranges, ledger, leases)
        if current.requests == 0 or report.stopped:
            return
        claimed = leases.report.claimed
        await scheduler.run(current.windows())
        if leases.report.claimed == claimed:
            if not await leases.others_hold():
                return  # nothing claimable and nobody holding: what is left failed here
            await clock.sleep(min(1.0, leases.lease_s / 6))


def _raised(report: RunReport) -> Callable[[str, Rate, Rate], None]:
    def note(pool: str, old: Rate, new: Rate) -> None:
        report.notices.append(
            f"the {pool} pool's responses announce X-RateLimit-Limit {new.count:g}/h, more than "
            f"the {old} it started at: following the announced limit"
        )

    return note


def _headers_to(budgets: Budgets, emit: Observer) -> Callable[[str, Mapping[str, str]], None]:
    """Feed every response's headers to its pool's budget; tell observers the quota a few times
    a second."""
    last = [0.0]

    def on_headers(path: str, headers: Mapping[str, str]) -> None:
        budgets.observe(path, headers)
        now = time.monotonic()
        if now - last[0] >= QUOTA_EVENT_INTERVAL_S and (quota := read_quota(headers)) is not None:
            last[0] = now
            emit(QuotaSeen(quota.limit, quota.remaining, quota.reset))

    return on_headers


def _note_gaps(final: Plan, report: RunReport) -> None:
    """What each series still lacks after the run, for the summary."""
    for sp in final.series:
        s = report.for_series(sp.series)
        cal, unit = sp.series.calendar, sp.series.unit
        s.missing = sp.missing
        s.gaps = [f"{cal.key(unit, a)}..{cal.key(unit, b - 1)}" for a, b in sp.gaps]


def _client_settings(job: Job) -> ClientSettings:
    if job.base_url is None or job.api_key is None:
        raise ConfigError("a run needs an endpoint and an API key")
    return ClientSettings(
        endpoint=job.base_url,
        api_key=job.api_key.get_secret_value(),
        timeout_s=job.timeout_s,
        max_connections=job.concurrency,
    )


def _utc(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock.time(), UTC)
