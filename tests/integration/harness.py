"""Run the real pipeline against the embedded simulator on loopback, on a shared virtual clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collector.clock import VirtualClock
from collector.config import Job, build_job, settings_from
from collector.core.models import RunReport
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


def stored(db: Path, unit: str) -> dict[tuple[str, str, str], int]:
    """(app_id, segment_id, time) → value for one unit; asserts no bucket is stored twice."""
    with SQLiteStore(db, timezone=None, read_only=True) as store:
        rows = [(a, s, t, v) for a, s, u, t, v in store.iter_points("sessions") if u == unit]
    out = {(a, s, t): v for a, s, t, v in rows}
    assert len(out) == len(rows), "a bucket was stored twice"
    return out


def truth(sim: Simulator, job: Job) -> dict[tuple[str, str, str], int]:
    """What the simulator says every series of `job` holds over the job's range."""
    assert job.start is not None
    return truth_range(sim, job, job.start, job.end)


def truth_range(sim: Simulator, job: Job, lo: int, hi: int) -> dict[tuple[str, str, str], int]:
    return expected_points(sim, job.series, lo, hi)


def minimal_requests(job: Job) -> int:
    assert job.start is not None
    n = job.end - job.start
    return len(job.series) * -(-n // job.endpoint.max_length)
