"""Helpers for the family end-to-end tests: run a job against the simulator on a virtual clock and
read back what was stored, with expected values computed from the simulator's own truth and
bucket keys computed with zoneinfo directly (not with the collector's Calendar)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from collector.clock import VirtualClock
from collector.config import Job, build_job, settings_from
from collector.core.models import RunReport
from collector.http.retry import RetryPolicy
from collector.pipeline import collect
from collector.simulator import Simulator
from collector.store import open_read_store

KEY = "sim-key"
ZONE = "America/New_York"  # the simulated workspace's zone in these tests
NOW = datetime(2024, 6, 15, 10, 30, tzinfo=UTC).timestamp()  # mid-hour: the current hour is partial
DAY = timedelta(days=1)


def make_job(
    sim: Simulator, clock: VirtualClock, db: Path, command: str = "backfill", **flags: Any
) -> Job:
    flags.setdefault("rate_limit", ["100000/s", "export-lists=1000/s", "purchases=1000/s"])
    flags.setdefault("timezone", ZONE)
    key = flags.pop("key", KEY)
    settings = settings_from({}, {"endpoint": sim.url, "db": str(db), **flags}, env={})
    job = build_job(
        command,  # type: ignore[arg-type]
        settings,
        env={"BRAZE_API_KEY": key},
        now=datetime.fromtimestamp(clock.time(), UTC),
    )
    return replace(job, retry=RetryPolicy.for_tests(max_retries=settings.max_retries))


async def run(
    sim: Simulator, clock: VirtualClock, db: Path, command: str = "backfill", **flags: Any
) -> RunReport:
    return await collect(make_job(sim, clock, db, command, **flags), clock=clock)


def day_key(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).date().isoformat()


def hour_key(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone_start(day: str, zone: str) -> datetime:
    """The instant day `day` (YYYY-MM-DD) starts in `zone`."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), ZoneInfo(zone))


def stored(db: Path | str, stream: str, workspace: str = "default") -> dict[tuple[Any, ...], Any]:
    """(dims, unit, time, facet, metric) → value; asserts nothing is stored twice."""
    with open_read_store(str(db)) as store:
        rows = [
            ((*p.dims,), p.unit, p.time, p.facet, p.metric, p.value)
            for p in store.iter_points(workspace, stream)
        ]
    out = {r[:5]: r[5] for r in rows}
    assert len(out) == len(rows), "a point was stored twice"
    return out


def scalar_truth(
    sim: Simulator,
    path: str,
    metric: str,
    dims: dict[str, str],
    unit: str,
    start: datetime,
    end: datetime,
    zone: str,
) -> dict[tuple[Any, ...], Any]:
    """The simulator's truth for one scalar series, keyed like `stored`."""
    filters = {k: v or None for k, v in dims.items()}
    out = {}
    for instant, value in sim.truth(unit, start, end, path=path, **filters):  # type: ignore[call-overload]
        key = day_key(instant, zone) if unit == "day" else hour_key(instant)
        out[(tuple(dims.values()), unit, key, "", metric)] = value
    return out


def leaves(obj: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every numeric leaf of a JSON value as (dotted path, value), for counting."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return []
    if isinstance(obj, int | Decimal):
        return [(prefix, obj)]
    if isinstance(obj, dict):
        return [x for k, v in obj.items() for x in leaves(v, f"{prefix}.{k}")]
    if isinstance(obj, list):
        return [x for i, v in enumerate(obj) for x in leaves(v, f"{prefix}[{i}]")]
    raise TypeError(type(obj))


def raw_days(db: Path | str, stream: str, workspace: str = "default") -> dict[tuple[Any, ...], Any]:
    """(dims, time) → the stored day object (floats decoded as Decimal)."""
    with open_read_store(str(db)) as store:
        return {
            (dims, t): json.loads(body, parse_float=Decimal)
            for dims, t, body in store.iter_raw(workspace, stream)
        }
