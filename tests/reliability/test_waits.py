"""Waiting is not failing, and every wait honours --deadline. The real pipeline and HTTP client
run against the embedded simulator on loopback, sharing a virtual clock: an hour-long server
window costs no real time.
"""

from __future__ import annotations

from dataclasses import replace

from collector.clock import VirtualClock
from collector.http.retry import RetryPolicy
from collector.pipeline import collect
from collector.simulator import Faults, run_simulator
from tests.integration.harness import NOW, make_job, stored, truth

from .support import simulator_config

HOUR = 3600


async def test_an_hourly_server_window_does_not_use_up_a_windows_retry_time(tmp_path, reliability):
    """10 requests per hour and 20 % 500s: windows wait hours for resets, yet none gives up."""
    clock = VirtualClock(NOW)
    config = simulator_config(
        rate_limit=10, rate_window_s=HOUR, faults=Faults(seed=3, error_500=0.2)
    )
    async with run_simulator(config, clock=clock) as sim:
        job = make_job(sim, clock, tmp_path / "w.db", start="2018-01-01", concurrency=4)
        job = replace(job, retry=replace(job.retry, max_total_s=900.0))
        began = clock.time()
        report = await collect(job, clock=clock)
    hours = (clock.time() - began) / HOUR
    assert hours > 2, "the case must span several server windows"
    assert report.complete, [s.errors for s in report.series.values()]
    assert stored(tmp_path / "w.db", "day") == truth(sim, job)
    assert max(len(sim.log) - report.requests, report.requests - len(sim.log)) == 0
    reliability(
        section="faults",
        scenario="an hourly server window: waiting is not failing",
        parameters="server quota 10 per hour, 500s at 20 %, 1 series × 6.5 years, max_total_s 900",
        requests=len(sim.log),
        retries=sum(report.retries.values()),
        checked=f"complete after {hours:.1f} virtual hours of waiting for resets",
    )


async def test_a_windows_failing_time_is_bounded_on_the_injected_clock(tmp_path, reliability):
    """Every request 500s, backoff 10-60 s: the window gives up after max_total_s of virtual time."""
    clock = VirtualClock(NOW)
    config = simulator_config(faults=Faults(seed=3, error_500=1.0))
    policy = RetryPolicy(max_retries=1000, max_total_s=300.0, backoff_base_s=10.0)
    async with run_simulator(config, clock=clock) as sim:
        job = make_job(sim, clock, tmp_path / "b.db", start="2024-05-01", concurrency=1)
        report = await collect(replace(job, retry=policy), clock=clock)
    assert report.failed_windows == 1 and not report.complete
    assert len(sim.log) < 50, f"{len(sim.log)} attempts: the time bound did not hold"
    reliability(
        section="faults",
        scenario="a window's retry time runs on the injected clock",
        parameters="every request 500s; max_retries 1000, max_total_s 300, backoff base 10 s",
        requests=len(sim.log),
        checked="the window fails after ~300 virtual seconds, not 1001 attempts",
    )


async def test_deadline_cuts_a_wait_for_an_hourly_server_window(tmp_path, reliability):
    """--deadline 30s while the server's hourly quota is spent: stop at 30 s, send nothing later."""
    clock = VirtualClock(NOW)
    config = simulator_config(rate_limit=5, rate_window_s=HOUR)
    async with run_simulator(config, clock=clock) as sim:
        job = make_job(
            sim, clock, tmp_path / "d.db", start="2021-01-01", concurrency=4, deadline="30s"
        )
        began = clock.time()
        report = await collect(job, clock=clock)
        ended = clock.time()
    assert report.stopped == "--deadline reached"
    assert ended - began <= 30 + 1e-6, f"ended {ended - began:.0f} s after the start"
    late = [r.at - began for r in sim.log if r.at >= began + 30]
    assert late == [], f"requests sent after the deadline at +{late} s"
    assert len(sim.log) == report.requests
    reliability(
        section="faults",
        scenario="--deadline honoured by the wait for a server window's reset",
        parameters="server quota 5 per hour, --deadline 30s",
        requests=len(sim.log),
        checked=f"stopped {ended - began:.0f} s after the start; nothing sent after the deadline",
    )


async def test_deadline_cuts_a_retry_backoff(tmp_path, reliability):
    """Every request 500s with 60 s backoffs and --deadline 30s: the run stops at 30 s, exit 75."""
    clock = VirtualClock(NOW)
    config = simulator_config(faults=Faults(seed=3, error_500=1.0))
    policy = RetryPolicy(max_retries=8, backoff_base_s=120.0, backoff_cap_s=120.0)
    async with run_simulator(config, clock=clock) as sim:
        job = make_job(
            sim, clock, tmp_path / "r.db", start="2024-05-01", concurrency=1, deadline="30s"
        )
        began = clock.time()
        report = await collect(replace(job, retry=policy), clock=clock)
    assert report.stopped == "--deadline reached" and report.failed_windows == 0
    assert clock.time() - began <= 30 + 1e-6
    assert all(r.at < began + 30 for r in sim.log)
    reliability(
        section="faults",
        scenario="--deadline honoured by a retry backoff",
        parameters="every request 500s, backoff up to 120 s, --deadline 30s",
        requests=len(sim.log),
        checked="stopped at the deadline; the window is left for the next run, not failed",
    )
