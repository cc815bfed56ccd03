"""Streams × dimension values → the series of a run, each with the bucket range it needs.

`'*'` expands through `Discovery` (or, for `plan`, through what an earlier run cached); untracked
segments, campaigns that never sent and sends past Braze's 14-day retention are *skipped*: listed
with the reason, never requested, never a failure. A campaign or Canvas is bounded by its life:
no window before it first sent (entered) or after its last activity plus the lookback.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from collector.config import Job
from collector.core.models import Series
from collector.core.streams import SEND_RETENTION_DAYS, Stream
from collector.core.units import Unit
from collector.discovery import DETAILS, LIST_OF_DIMENSION

# list name → (names to collect, names skipped as untracked); None when unknown (plan, no cache)
Lister = Callable[[str], Awaitable[tuple[list[str], list[str]] | None]]
# (dimension, id) → (first, last) activity; None: never sent; raises LookupError when unknown
Lifer = Callable[[str, str], Awaitable[tuple[datetime, datetime] | None]]


@dataclass
class Fanout:
    """The run's series with the range [lo, hi) each may need, before what is stored."""

    ranges: list[tuple[Series, int | None, int]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # '*' a plan could not expand
    saved_by_life: int = 0  # requests life bounds saved (windows never planned)


async def fan_out(job: Job, lister: Lister, lifer: Lifer | None, now: datetime) -> Fanout:
    out = Fanout()
    for stream in job.streams:
        if stream.name == "send_stats":
            combos = [tuple(v.split(":", 1)) for v in job.selectors["send_id"]]
        else:
            values = [await _values(job, stream, dim, lister, out) for dim in stream.dimensions]
            combos = list(itertools.product(*values))
        for dims in combos:
            bounds: tuple[int | None, int] | None
            series = Series(stream, tuple(dims), job.unit, job.calendar, job.workspace)
            if stream.name == "send_stats":
                bounds = _send_bounds(job, series, now, out)
            elif lifer is not None and stream.nested:
                bounds = await _life_bounds(job, stream, series, lifer, out)
            else:
                bounds = (job.start, job.end)
            if bounds is None:
                continue
            b_lo, b_hi = bounds
            out.ranges.append((series, b_lo, b_hi))
    return out


def _windows(buckets: int, max_length: int) -> int:
    return -(-buckets // max_length)


async def _values(job: Job, stream: Stream, dim: str, lister: Lister, out: Fanout) -> list[str]:
    asked = job.selectors[dim]
    values = [v for v in asked if v != "*"]
    if "*" in asked:
        listed = await lister(LIST_OF_DIMENSION[dim])
        if listed is None:
            out.unresolved.append(f"{stream.name}: {dim} '*' (not listed yet)")
        else:
            items, skipped = listed
            values += [i for i in items if i not in values]
            for name in skipped if dim == "segment_id" else ():
                why = f"segment {name!r}: analytics tracking is off, so Braze has no series for it"
                if why not in out.skipped:
                    out.skipped.append(why)
    if stream.required and dim in stream.required:
        values = [v for v in values if v]
    return values


def _send_bounds(job: Job, series: Series, now: datetime, out: Fanout) -> tuple[int, int] | None:
    """Braze keeps send analytics 14 days: older days are not requested, and the user is told."""
    cal = job.calendar
    oldest = cal.ordinal(Unit.DAY, now - timedelta(days=SEND_RETENTION_DAYS)) + 1
    lo = job.start if job.start is not None else oldest
    if lo < oldest:
        out.skipped.append(
            f"send {series.dims[1]!r}: days before {cal.key(Unit.DAY, oldest)} are past "
            f"Braze's {SEND_RETENTION_DAYS}-day retention of send analytics, not requested"
        )
        lo = oldest
    if lo >= job.end:
        return None
    return lo, job.end


async def _life_bounds(
    job: Job, stream: Stream, series: Series, lifer: Lifer, out: Fanout
) -> tuple[int | None, int] | None:
    dim = stream.dimensions[0]
    entity = series.dims[0]
    if dim not in DETAILS:
        return job.start, job.end
    try:
        life = await lifer(dim, entity)
    except LookupError:
        return job.start, job.end  # plan without a cached life: the whole range
    kind = "campaign" if dim == "campaign_id" else "Canvas"
    whole = 0 if job.start is None else _windows(job.end - job.start, stream.max_length)
    if life is None:
        out.skipped.append(f"{kind} {entity!r}: never sent, no series requested")
        out.saved_by_life += whole
        return None
    cal = job.calendar
    first = cal.ordinal(Unit.DAY, life[0])
    last = cal.ordinal(Unit.DAY, life[1]) + 1 + job.lookback_of(stream)
    lo = first if job.start is None else max(job.start, first)
    hi = min(job.end, last)
    out.saved_by_life += max(0, whole - _windows(max(0, hi - lo), stream.max_length))
    if lo >= hi:
        out.skipped.append(f"{kind} {entity!r}: no activity within the range")
        return None
    return lo, hi
