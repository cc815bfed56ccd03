"""The one place that wires the stages: config → planner → scheduler → client → store.

    report = await collect(job)

A run is: plan from what is stored; send one *probe* window alone to learn how the server reads
an on-boundary `ending_at`; then fan out the rest; then re-plan, and fetch any bucket a surprise
left uncovered (at most `MAX_REPAIR_PASSES` times). Windows that failed this run are not tried
again in the same run; the next run resumes them.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from collector.budget.local import WorkspaceBudget, read_quota
from collector.clock import Clock, SystemClock
from collector.config import Job
from collector.core.alignment import Aligner
from collector.core.models import RunReport, Series, StoreOutcome, WindowResult
from collector.core.planner import Interval, Plan, merge, plan
from collector.errors import AuthError, ConfigError, ServerUnreachable
from collector.http.client import BrazeClient, ClientSettings
from collector.observe.events import (
    Event,
    Observer,
    PassStarted,
    QuotaSeen,
    RunFinished,
    WindowFailed,
)
from collector.store.sqlite import SeriesKey, SQLiteStore, Store
from collector.work.scheduler import RunLimits, Scheduler

MAX_REPAIR_PASSES = 2
QUOTA_EVENT_INTERVAL_S = 0.25


def series_ranges(job: Job, store: Store) -> list[tuple[Series, int, int]]:
    """The bucket range [lo, hi) each series of the job needs in this run."""
    if job.command != "sync":
        assert job.start is not None
        return [(s, job.start, job.end) for s in job.series]
    ranges = []
    for s in job.series:
        last = store.last_time(s.key)
        if last is None and job.start is None:
            raise ConfigError(
                f"{s.describe()}: nothing stored yet in {job.db}, so sync has nowhere to resume "
                "from; run backfill first, or give sync a --start"
            )
        if last is None:
            assert job.start is not None
            lo = job.start
        else:
            lo = s.calendar.from_key(s.unit, last) + 1 - job.lookback
        ranges.append((s, min(lo, job.end - 1), job.end))
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


def make_plan(
    job: Job, store: Store, ranges: Sequence[tuple[Series, int, int]], ledger: _Ledger
) -> Plan:
    """Plan against stored coverage (backfill) or this run's own (sync refreshes), minus failures."""
    keys = [s.key for s, _, _ in ranges]
    stored = store.covered(keys) if job.command != "sync" else {}
    covered = {k: merge([*stored.get(k, ()), *ledger.done[k], *ledger.failed[k]]) for k in keys}
    return plan(ranges, covered)


def plan_only(job: Job) -> tuple[Plan, list[tuple[Series, int, int]]]:
    """What a run would fetch now, without sending anything (reads the store if it exists)."""
    ledger = _Ledger(defaultdict(list), defaultdict(list))
    if not job.db.exists():
        return plan([(s, job.start or job.end, job.end) for s in job.series], {}), []
    with SQLiteStore(job.db, timezone=job.calendar.zone_name, read_only=True) as store:
        ranges = series_ranges(job, store)
        return make_plan(job, store, ranges, ledger), ranges


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
    with SQLiteStore(job.db, timezone=job.calendar.zone_name) as store:
        ranges = series_ranges(job, store)
        for s, _, _ in ranges:
            report.for_series(s)
        run_id = store.begin_run(job.command, _utc(clock))
        outcome = "interrupted"

        def sink(result: WindowResult) -> StoreOutcome:
            stored = store.commit(result)
            ledger.add_done(result.window.series.key, result.covered)
            return stored

        try:
            budget = WorkspaceBudget(job.rate, clock)
            async with BrazeClient(
                _client_settings(job), clock=clock, on_headers=_headers_to(budget, emit)
            ) as client:
                scheduler = Scheduler(
                    fetcher=client,
                    budget=budget,
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
                )
                await _passes(job, store, ranges, ledger, scheduler, emit, report)
            _note_gaps(plan(ranges, store.covered([s.key for s, _, _ in ranges])), report)
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
            store.finish_run(
                run_id,
                _utc(clock),
                outcome,
                requests=report.requests,
                inserted=report.inserted,
                revised=report.revised,
            )
    emit(RunFinished(report))
    return report


async def _passes(
    job: Job,
    store: Store,
    ranges: list[tuple[Series, int, int]],
    ledger: _Ledger,
    scheduler: Scheduler,
    emit: Observer,
    report: RunReport,
) -> None:
    first = make_plan(job, store, ranges, ledger)
    report.planned_windows = first.requests
    probe = first.probe()
    if probe is None:
        return
    emit(PassStarted("probe", 1, probe.units))
    await scheduler.run([probe])
    for n in range(1 + MAX_REPAIR_PASSES):
        current = make_plan(job, store, ranges, ledger)
        if current.requests == 0 or report.stopped:
            return
        emit(PassStarted("main" if n == 0 else f"repair {n}", current.requests, current.missing))
        await scheduler.run(current.windows())


def _headers_to(budget: WorkspaceBudget, emit: Observer) -> Callable[[Mapping[str, str]], None]:
    """Feed every response's headers to the budget; tell observers the quota a few times a second."""
    last = [0.0]

    def on_headers(headers: Mapping[str, str]) -> None:
        budget.observe(headers)
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
