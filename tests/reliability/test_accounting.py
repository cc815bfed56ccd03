"""Every request is paid for and counted, and an attempt that ends without rate-limit headers
gives its place in the server's window back. The simulator runs on a loopback socket and shares
the collector's virtual clock; nothing sleeps for real.
"""

from __future__ import annotations

import asyncio

from collector.budget.local import Rate, WorkspaceBudget
from collector.budget.pools import Budgets
from collector.clock import VirtualClock
from collector.core.alignment import Aligner, Reading, Request
from collector.core.models import Point, RunReport, StoreOutcome, WindowResult
from collector.core.planner import plan
from collector.errors import TransportError
from collector.http.retry import RetryPolicy
from collector.response import Parsed
from collector.simulator import Faults, run_simulator
from collector.work.scheduler import Scheduler
from tests.integration.harness import NOW
from tests.unit.test_scheduler import START, series

from .support import FANOUT, observed_run, simulator_config


async def test_every_request_the_server_saw_was_counted_under_dropped_connections(
    tmp_path, reliability
):
    """20 % dropped connections: the server's request count equals the run's (no silent resend)."""
    clock = VirtualClock(NOW)
    config = simulator_config(faults=Faults(seed=1, drop_connection=0.2))
    async with run_simulator(config, clock=clock) as sim:
        obs = await observed_run(
            sim, clock, tmp_path / "c.db", start="2023-07-01", concurrency=8, **FANOUT
        )
    drops = sum(r.fault == "drop" for r in sim.log)
    assert obs.report.complete and drops > 0
    assert len(sim.log) == obs.report.requests, (len(sim.log), obs.report.requests, drops)
    reliability(
        section="faults",
        scenario="every request sent is paid for and counted",
        parameters="20 % dropped connections, 6 series × 350 days",
        requests=len(sim.log),
        checked=f"server's count = run's count ({drops} drops, none resent behind our back)",
    )


def quota(remaining: int, reset: float, limit: int) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }


class HeaderlessFailuresThenQuota:
    """40 attempts fail with no answer (refused); then a server with 50 left until `reset`."""

    def __init__(self, budget: WorkspaceBudget, clock: VirtualClock, reset: float) -> None:
        self.budget, self.clock, self.reset = budget, clock, reset
        self.calls = 0
        self.answered_before_reset = 0

    async def fetch(self, window, request: Request) -> Parsed:
        self.calls += 1
        await asyncio.sleep(0)
        if self.calls <= 40:
            raise TransportError("connection refused", window=window)
        if self.clock.time() < self.reset:
            self.answered_before_reset += 1
            left = 50 - self.answered_before_reset
            self.budget.observe(quota(left, self.reset, limit=100))
        return Parsed([Point(o, 1) for o in range(request.end - request.length, request.end)])


async def stored(result: WindowResult) -> StoreOutcome:
    return StoreOutcome(len(result.points), 0, 0)


async def test_attempts_without_rate_limit_headers_release_their_place(reliability):
    """After 40 header-less failures, all 50 requests the server has left are used before reset."""
    clock = VirtualClock(1_700_000_000)
    reset = clock.time() + 100
    budgets = Budgets({"default": Rate.parse("100000/s")}, clock)
    budget = budgets["default"]
    fetcher = HeaderlessFailuresThenQuota(budget, clock, reset)
    report = RunReport()
    scheduler = Scheduler(
        fetcher=fetcher,
        budgets=budgets,
        aligner=Aligner(Reading.EXCLUSIVE),
        policy=RetryPolicy.for_tests(max_retries=0),
        clock=clock,
        sink=stored,
        emit=lambda event: None,
        report=report,
        concurrency=1,
    )
    await scheduler.run(plan([(series(), START, START + 100 * 100)], {}).windows())
    assert fetcher.answered_before_reset == 50, fetcher.answered_before_reset
    reliability(
        section="faults",
        scenario="attempts with no rate-limit headers release their place in the window",
        parameters="40 refused attempts, then a server window with 50 left for 100 s",
        requests=fetcher.answered_before_reset,
        checked="all 50 are used before the reset",
    )
