"""Run the real pipeline against the embedded simulator on loopback, on a shared virtual clock."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collector.clock import VirtualClock
from collector.config import Job, build_job, settings_from
from collector.core.models import DEFAULT_WORKSPACE, RunReport, Series, SeriesKey, dims_text
from collector.core.streams import SESSIONS
from collector.core.units import Unit
from collector.demo import expected_points
from collector.http.retry import RetryPolicy
from collector.pipeline import collect
from collector.simulator import Simulator
from collector.store.sqlite import SQLiteStore

KEY = "sim-key"
# 2024-06-15T10:30:00Z: mid-hour, so the current hour and day are partial.
NOW = datetime(2024, 6, 15, 10, 30, tzinfo=UTC).timestamp()


def make_job(
    sim: Simulator, clock: VirtualClock, db: Path, command: str = "backfill", **flags: Any
) -> Job:
    flags.setdefault("rate_limit", "100000/s")
    settings = settings_from({}, {"endpoint": sim.url, "db": db, **flags})
    job = build_job(
        command,  # type: ignore[arg-type]
        settings,
        env={"BRAZE_API_KEY": flags.pop("key", KEY)},
        now=datetime.fromtimestamp(clock.time(), UTC),
    )
    return replace(
        job,
        retry=RetryPolicy.for_tests(max_retries=settings.max_retries),
        timeout_s=settings.timeout,
    )


async def run(
    sim: Simulator, clock: VirtualClock, db: Path, command: str = "backfill", **flags: Any
) -> RunReport:
    return await collect(make_job(sim, clock, db, command, **flags), clock=clock)


def sessions_key(app: str = "", segment: str = "", unit: str = "day") -> SeriesKey:
    """The report/store key of one sessions series of the default workspace."""
    return (DEFAULT_WORKSPACE, SESSIONS.name, dims_text((app, segment)), Unit(unit).value)


def stored(db: Path, unit: str) -> dict[tuple[str, str, str], int]:
    """(app_id, segment_id, time) → sessions value for one unit; asserts no bucket is stored
    twice and that every point is a scalar sessions point."""
    with SQLiteStore(db, read_only=True) as store:
        points = [p for p in store.iter_points("default", "sessions") if p.unit == unit]
    assert all((p.facet, p.metric) == ("", "sessions") for p in points), points[:3]
    out = {(*p.dims, p.time): p.value for p in points}
    assert len(out) == len(points), "a bucket was stored twice"
    return out  # type: ignore[return-value]


def job_series(job: Job) -> list[Series]:
    """The sessions series a job without '*' fans out to: every app × every segment."""
    assert [s.name for s in job.streams] == ["sessions"], job.streams
    values = [job.selectors[d] for d in SESSIONS.dimensions]
    assert not any("*" in v for v in values), "these tests name every id"
    return [
        Series(SESSIONS, dims, job.unit, job.calendar, job.workspace)
        for dims in itertools.product(*values)
    ]


def truth(sim: Simulator, job: Job) -> dict[tuple[str, str, str], int]:
    """What the simulator says every series of `job` holds over the job's range."""
    assert job.start is not None
    return truth_range(sim, job, job.start, job.end)


def truth_range(sim: Simulator, job: Job, lo: int, hi: int) -> dict[tuple[str, str, str], int]:
    """(app_id, segment_id, time) → the simulator's sessions value for buckets [lo, hi)."""
    expected = expected_points(sim, job_series(job), lo, hi)
    return {(*dims, t): v for (_stream, dims, t), v in expected.items()}


def minimal_requests(job: Job) -> int:
    assert job.start is not None
    n = job.end - job.start
    return len(job_series(job)) * -(-n // SESSIONS.max_length)
