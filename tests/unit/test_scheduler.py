"""The worker pool with a fake fetcher: concurrency cap, retries, 429 pause, final errors."""

import asyncio
from datetime import UTC, datetime

import pytest

from collector.budget.local import Rate
from collector.budget.pools import Budgets
from collector.clock import VirtualClock
from collector.core.alignment import Aligner, Reading, Request
from collector.core.models import Point, RunReport, Series, StoreOutcome, Window
from collector.core.planner import plan
from collector.core.streams import SESSIONS
from collector.core.units import Calendar, Unit
from collector.errors import AuthError, RateLimited, RequestRejected, ServerError
from collector.http.retry import RetryPolicy
from collector.observe.events import RatePaused, RetryScheduled, WindowFailed, WindowStored
from collector.response import Parsed
from collector.work.scheduler import Scheduler

CAL = Calendar("UTC")
START = CAL.ordinal(Unit.DAY, datetime(2020, 1, 1, tzinfo=UTC))


def series(app=""):
    return Series(SESSIONS, (app, ""), Unit.DAY, CAL)


class FakeFetcher:
    """Answers like an exclusive-reading server; `script` may raise per call number."""

    def __init__(self, script=None, delay=0.0):
        self.script = script or {}
        self.calls = 0
        self.in_flight = 0
        self.peak = 0
        self.delay = delay

    async def fetch(self, window, request: Request):
        self.calls += 1
        n = self.calls
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if n in self.script:
                raise self.script[n](window)
            return answer(request)
        finally:
            self.in_flight -= 1


def answer(request: Request) -> Parsed:
    """One session per bucket, as an exclusive-reading server answers `request`."""
    lo = request.end - request.length
    return Parsed([Point(o, 1, "sessions") for o in range(lo, request.end)])


def make(fetcher, clock=None, concurrency=4, policy=None):
    clock = clock or VirtualClock(1_700_000_000)
    events, stored = [], []

    async def sink(result):
        stored.append(result)
        return StoreOutcome(len(result.points), 0, 0)

    sched = Scheduler(
        fetcher=fetcher,
        budgets=Budgets({"default": Rate.parse("100000/s")}, clock),
        aligner=Aligner(Reading.EXCLUSIVE),
        policy=policy or RetryPolicy.for_tests(max_retries=3),
        clock=clock,
        sink=sink,
        emit=events.append,
        report=RunReport(),
        concurrency=concurrency,
    )
    return sched, events, stored


async def test_no_more_than_concurrency_requests_in_flight():
    """A spy fetcher never sees more than --concurrency calls at once, and all windows run."""
    fetcher = FakeFetcher(delay=0.001)
    sched, _, stored = make(fetcher, concurrency=3)
    p = plan([(series(str(i)), START, START + 500) for i in range(4)], {})
    await sched.run(p.windows())
    assert fetcher.peak == 3
    assert len(stored) == 20 and sched.report.requests == 20


async def test_retryable_errors_are_retried_and_counted():
    """A 503 then success: one retry event, the window stored once."""
    fetcher = FakeFetcher({1: lambda w: ServerError("503", window=w, status=503)})
    sched, events, stored = make(fetcher)
    await sched.run([Window(series(), START, START + 10, START, START + 10)])
    assert [type(e) for e in events] == [RetryScheduled, WindowStored]
    assert sched.report.retries["ServerError"] == 1 and len(stored) == 1


async def test_retries_are_bounded_and_the_failure_reported():
    """After max_retries the window fails, with its attempts, and nothing is stored."""
    fetcher = FakeFetcher(
        {n: (lambda w: ServerError("503", window=w, status=503)) for n in range(1, 10)}
    )
    sched, events, stored = make(fetcher)
    await sched.run([Window(series(), START, START + 10, START, START + 10)])
    failed = [e for e in events if isinstance(e, WindowFailed)]
    assert fetcher.calls == 4 and len(failed) == 1 and failed[0].attempts == 4 and not stored
    assert sched.report.failed_windows == 1


async def test_a_429_pauses_everyone_for_the_servers_wait():
    """429 with a 60 s wait: the clock moves past it before the next attempt is sent."""
    clock = VirtualClock(1_700_000_000)
    fetcher = FakeFetcher({1: lambda w: RateLimited("429", window=w, wait=60.0)})
    sched, events, stored = make(fetcher, clock=clock)
    await sched.run([Window(series(), START, START + 10, START, START + 10)])
    assert any(isinstance(e, RatePaused) for e in events)
    assert clock.time() >= 1_700_000_060 and len(stored) == 1 and sched.report.rate_limited == 1


async def test_a_400_fails_its_series_only():
    """A rejected series skips its other windows; other series finish."""

    async def fetch(window, request):
        if window.series.app_id == "bad":
            raise RequestRejected("400 Invalid app_id", window=window, status=400)
        return answer(request)

    fetcher = FakeFetcher()
    fetcher.fetch = fetch
    sched, _, stored = make(fetcher, concurrency=1)
    p = plan([(series("bad"), START, START + 300), (series("good"), START, START + 300)], {})
    await sched.run(p.windows())
    assert len(stored) == 3 and sched.report.for_series(series("bad")).failed_windows == 3


async def test_auth_errors_end_the_run_unwrapped():
    """A 401/403 propagates as itself, not as an ExceptionGroup."""
    fetcher = FakeFetcher({1: lambda w: AuthError("401", window=w, status=401)})
    sched, _, _ = make(fetcher)
    p = plan([(series(), START, START + 1000)], {})
    with pytest.raises(AuthError):
        await sched.run(p.windows())
