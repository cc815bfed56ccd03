"""Fault matrix: each fault kind alone at 20 %, all mixed, a 429 storm, a server quota a tenth of
the configured rate, rate-limit headers missing, both alignment readings, every hour-string form.

Every case runs the real pipeline and HTTP client against the embedded simulator on a loopback
socket, on a virtual clock shared with the simulator (backoff and rate-limit windows cost no real
time; latency and hangs are real and kept tiny). Each case checks: the stored timeline equals the
simulator's truth exactly, no bucket is stored twice, the run is complete (the CLI's exit 0), no
request reaches the server during a 429 pause, and the server saw no more requests than the
case's stated bound.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collector.clock import VirtualClock
from collector.simulator import Faults, run_simulator
from tests.integration.harness import NOW, minimal_requests, stored, truth

from .support import FANOUT, observed_run, sent_during, simulator_config

SEED = 1  # of the simulator's fault dice
RUNS = 3  # consecutive runs per case, each into a fresh database, on one simulator
DAYS = 350  # 4 windows per series: 24 requests minimum over the 6 series
CONCURRENCY = 8
TIMEOUT_S = 0.3  # per request, real time; hangs last 1 s


@dataclass(frozen=True)
class Case:
    """One row of the matrix: simulator switches, collector flags, the range and the bound."""

    name: str
    parameters: str
    sim: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)
    bound: str = "2x"  # "min": exactly the minimum; "2x": twice it; "storm": see bound()
    expect_trouble: bool = True  # the case must provoke retries or 429s, or it proves nothing
    unit: str = "day"
    timezone: str = "UTC"
    span: tuple[str, str] | None = None  # [start, end); default: the DAYS before today
    series: dict[str, Any] = field(default_factory=lambda: FANOUT)
    first_try_slack: int | None = None  # requests - retries may exceed the minimum by this

    def faults(self, seed: int) -> Faults:
        spec = dict(self.sim.get("faults", {}))
        if not spec:
            return Faults()
        if "uniform" in spec:
            rate = spec.pop("uniform")
            return Faults.uniform(rate, seed=seed, **spec)
        return Faults(seed=seed, **spec)

    @property
    def id(self) -> str:
        return self.name.replace(" ", "-").replace(",", "")


def at20(kind: str) -> dict[str, Any]:
    return {"faults": {kind: 0.2}}


UNIFORM_20 = {"faults": {"uniform": 0.2}}

FAULTS = [
    Case("500 Internal Server Error", "20 % of requests", at20("error_500")),
    Case("502 with an HTML body", "20 %", at20("error_502_html")),
    Case("503 Service Unavailable", "20 %", at20("error_503")),
    Case("504 with an empty body", "20 %", at20("error_504_empty")),
    Case(
        "dropped connection",
        "20 % (each drop is a TransportError and a counted, paid-for retry; aiohttp resends nothing)",
        at20("drop_connection"),
    ),
    Case("truncated JSON on a 200", "20 %", at20("truncated_json")),
    Case(
        "latency spikes",
        "20 % of requests delayed 0.05 s (--timeout 2 s, far above) + exponential latency, "
        "mean 2 ms",
        {
            "faults": {
                "hang": 0.2,
                "hang_seconds": 0.05,
                "latency_ms": 2.0,
                "latency_distribution": "exponential",
            }
        },
        flags={"timeout": 2.0},
        bound="min",
        expect_trouble=False,
    ),
    Case(
        "hangs past the timeout",
        "20 % of requests hang 1 s; --timeout 0.3 s",
        {"faults": {"hang": 0.2, "hang_seconds": 1.0}},
    ),
    Case(
        "all of them mixed",
        "500/502/503/504/drop/truncated 20 % in all + 3 % hangs of 1 s + exponential latency",
        {
            "faults": {
                "uniform": 0.2,
                "hang": 0.03,
                "hang_seconds": 1.0,
                "latency_ms": 2.0,
                "latency_distribution": "exponential",
            }
        },
    ),
    Case(
        "429 storm",
        "server quota 10 per 60 s, no X-RateLimit-* headers (nothing to pace by), "
        "X-RateLimit-Retry-After on each 429; told 100/s",
        {
            "rate_limit": 10,
            "rate_window_s": 60,
            "omit_ratelimit_headers_probability": 1.0,
            "emit_x_ratelimit_retry_after": True,
        },
        flags={"rate_limit": "100/s"},
        bound="storm",
    ),
    Case(
        "server quota a tenth of the configured rate",
        "told 100/s; the server allows 10 per 1 s window (headers on every response); "
        "no 429 and never over 10 in a server window",
        {"rate_limit": 10, "rate_window_s": 1},
        flags={"rate_limit": "100/s"},
        bound="min",
        expect_trouble=False,
    ),
    Case(
        "rate-limit headers missing on some responses",
        "server quota 10 per 1 s; X-RateLimit-* absent on 30 % of responses; told 100/s",
        {"rate_limit": 10, "rate_window_s": 1, "omit_ratelimit_headers_probability": 0.3},
        flags={"rate_limit": "100/s"},
        bound="storm",
        expect_trouble=False,
    ),
]

ALIGNMENT = [
    Case(
        f"ending_at read {reading}, with faults",
        f"simulator alignment={reading}; 500/502/503/504/drop/truncated 20 % in all",
        {**UNIFORM_20, "alignment": reading},
        first_try_slack=0,
    )
    for reading in ("exclusive", "inclusive", "floor_exclusive")
]

HOUR_FORMS = [
    Case(
        f"hour strings as {form}, with faults",
        f"hour_time_format={form} ({example}); America/New_York hours across the 2023-11-05 "
        "fall-back (25 h day); faults 20 % in all",
        {**UNIFORM_20, "hour_time_format": form},
        unit="hour",
        timezone="America/New_York",
        span=("2023-10-26", "2023-11-15"),
        series={"app_id": ["", "app-ios"], "segment_id": ["", "vip"]},
        first_try_slack=0,
    )
    for form, example in (
        ("offset", "2023-11-05T01:00:00-04:00"),
        ("z", "2023-11-05T05:00:00Z"),
        ("naive", "2023-11-05T01:00:00, twice"),
        ("fractional", "2023-11-05T01:00:00.000-04:00"),
    )
]


def bound(case: Case, minimum: int, limit: int) -> int:
    """The most requests the server may see for `case` with `minimum` planned windows."""
    if case.bound == "min":
        return minimum
    if case.bound == "storm":
        # Each server window may 429 at most the requests in flight when its quota ran out.
        return minimum + (math.ceil(minimum / limit) + 1) * CONCURRENCY
    return 2 * minimum


@dataclass
class Tally:
    """Figures over the runs of one case."""

    runs: int = 0
    pauses: int = 0
    worst: int = 0
    worst_bound: int = 0
    minimum: int = 0
    retries: int = 0
    rate_limited: int = 0
    statuses: Counter[int | None] = field(default_factory=Counter)


async def run_case(tmp_path: Path, case: Case) -> Tally:
    """RUNS consecutive runs of `case` on one simulator (its seeded dice roll on), each into a
    fresh database; asserts as it goes."""
    tally = Tally()
    clock = VirtualClock(NOW)
    sim_kw = {k: v for k, v in case.sim.items() if k != "faults"}
    config = simulator_config(case.timezone, faults=case.faults(SEED), **sim_kw)
    async with run_simulator(config, clock=clock) as sim:
        for n in range(RUNS):
            db = tmp_path / f"run{n}.db"
            start, end = case.span or (_days_before_today(clock, DAYS), None)
            flags = {"start": start, "unit": case.unit, "timezone": case.timezone}
            if end is not None:
                flags["end"] = end
            if n:  # each run starts in a fresh server window, as runs hours apart would
                clock.advance(config.rate_window_s)
            first = len(sim.log)
            obs = await observed_run(
                sim,
                clock,
                db,
                **{
                    "concurrency": CONCURRENCY,
                    "timeout": TIMEOUT_S,
                    **flags,
                    **case.series,
                    **case.flags,
                },
            )
            log = sim.log[first:]
            report = obs.report
            minimum = minimal_requests(obs.job)
            limit = config.rate_limit
            retries = sum(report.retries.values())
            tally.runs += 1
            tally.minimum = minimum
            tally.worst_bound = bound(case, minimum, limit)
            tally.worst = max(tally.worst, len(log))
            tally.retries += retries
            tally.rate_limited += report.rate_limited
            tally.statuses.update(r.status for r in log)

            assert report.complete, (report.fatal, [s.errors for s in report.series.values()])
            assert stored(db, case.unit) == truth(sim, obs.job)  # also fails on a duplicate
            pauses = obs.pauses()
            assert sent_during(log, pauses) == []
            assert bool(pauses) == bool(report.rate_limited)  # every 429 paused everyone
            tally.pauses += len(pauses)
            assert len(log) <= tally.worst_bound, (len(log), tally.worst_bound)
            if case.first_try_slack is not None:
                # Every request beyond the minimum was a retry: no window was fetched twice.
                assert report.requests - retries <= minimum + case.first_try_slack
            if case.bound == "min" and config.rate_limit < 1000:
                per_window = Counter(int(r.at // config.rate_window_s) for r in log)
                assert max(per_window.values()) <= limit
                assert report.rate_limited == 0
    if case.expect_trouble:
        assert tally.retries + tally.rate_limited > 0, "the case injected nothing"
    return tally


def record(reliability: Any, case: Case, tally: Tally, what: str) -> None:
    reliability(
        section="faults",
        scenario=case.name,
        parameters=f"{case.parameters}; {what}, concurrency {CONCURRENCY}, fault seed {SEED}",
        runs=tally.runs,
        requests=tally.worst,
        minimum=tally.minimum,
        bound=tally.worst_bound,
        retries=tally.retries,
        rate_limited=tally.rate_limited,
        checked="exact timeline, no bucket twice, complete (exit 0)"
        + (
            f"; none sent during any of {tally.pauses} 429 pauses"
            if tally.pauses
            else "; no 429, so no pause"
        )
        + ("; requests − retries = minimum" if case.first_try_slack == 0 else "")
        + "; server answered "
        + _statuses(tally.statuses),
    )


@pytest.mark.parametrize("case", FAULTS, ids=lambda c: c.id)
async def test_fault_matrix(tmp_path, reliability, case):
    """Each fault alone, mixed, a 429 storm, a low server quota, missing headers: exact, bounded."""
    tally = await run_case(tmp_path, case)
    record(reliability, case, tally, f"6 series × {DAYS} days")


@pytest.mark.parametrize("case", ALIGNMENT, ids=lambda c: c.id)
async def test_both_readings_of_ending_at_under_faults(tmp_path, reliability, case):
    """Either reading of an on-boundary ending_at, learned under 20 % faults: exact, no refetch."""
    tally = await run_case(tmp_path, case)
    record(reliability, case, tally, f"6 series × {DAYS} days")


@pytest.mark.parametrize("case", HOUR_FORMS, ids=lambda c: c.id)
async def test_every_hour_string_form_under_faults(tmp_path, reliability, case):
    """Offset, Z, naive and fractional hour strings over a DST fall-back, under faults: exact."""
    tally = await run_case(tmp_path, case)
    record(reliability, case, tally, "4 series × 481 hours")


def _days_before_today(clock: VirtualClock, days: int) -> str:
    today = datetime.fromtimestamp(clock.time(), UTC).date()
    return (today - timedelta(days=days)).isoformat()


def _statuses(counter: Counter[int | None]) -> str:
    return ", ".join(
        f"{'dropped' if k is None else k}×{v}" for k, v in sorted(counter.items(), key=str)
    )
