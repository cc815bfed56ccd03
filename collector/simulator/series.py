"""What a scalar series holds: which buckets are reported and the value of each, at a given `now`.

Shared by every `{time, <field>}` endpoint and by `Simulator.truth`, so the truth is the served
answer by construction. Rules (braze-api.md §9 rules 11, 12, 18, 21):

- buckets starting before the workspace's `history_start` are left out;
- buckets starting after `now` are 0, or left out with `omit_future`;
- an unknown app (with `unknown_app="zeros"`) or an untracked segment (with
  `untracked_segment="zeros"`) gives an all-zero series;
- a segment's buckets starting before its `tracking_since` are 0 (nothing is backfilled).

A `Source` gives the values of the buckets that are neither left out nor forced to 0; `Atoms` is
the source of every additive stream (sums of hashed hour atoms, see `data`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from collector.simulator.buckets import Bucket, Unit
from collector.simulator.config import SimulatorConfig, Workspace
from collector.simulator.context import BadRequest, Context
from collector.simulator.data import Dataset, Metric


class Source(Protocol):
    """The values of started buckets (ascending), as a fetch at `now` sees them."""

    def values(self, buckets: Sequence[Bucket], now: float) -> list[int]: ...


@dataclass(frozen=True)
class SeriesQuery:
    """One series: a source of values in a workspace and unit, and what forces its zeros."""

    workspace: Workspace
    zone: ZoneInfo
    unit: Unit
    source: Source
    zeros_before: float | None = None  # epoch; buckets starting earlier are 0 (tracking_since)
    all_zero: bool = False


def points(
    config: SimulatorConfig, query: SeriesQuery, buckets: Sequence[Bucket], now: float
) -> list[tuple[Bucket, int]]:
    """The reported `(bucket, value)` pairs of `buckets` as a fetch at `now` sees them."""
    history = query.workspace.history_start
    first = history.timestamp() if history is not None else None
    zeros_before = query.zeros_before
    kept: list[tuple[Bucket, int | None]] = []  # None: the source's value
    for bucket in buckets:
        if first is not None and bucket.start < first:
            continue
        if bucket.start > now:
            if not config.omit_future:
                kept.append((bucket, 0))
            continue
        if query.all_zero or (zeros_before is not None and bucket.start < zeros_before):
            kept.append((bucket, 0))
            continue
        kept.append((bucket, None))
    values = iter(query.source.values([b for b, v in kept if v is None], now))
    return [(b, next(values) if v is None else v) for b, v in kept]


def app_scope(ctx: Context, app_id: str | None) -> tuple[tuple[str, ...], bool]:
    """The apps `app_id` selects (all without it), and whether the series is all zero (§9 r. 11)."""
    if app_id is None:
        return ctx.workspace.apps, False
    if app_id not in ctx.workspace.apps:
        if ctx.config.unknown_app == "error":
            raise BadRequest("Invalid app_id")
        return (app_id,), True
    return (app_id,), False


def segment_scope(ctx: Context, segment_id: str | None) -> tuple[float | None, bool]:
    """Until when a segment's buckets are 0, and whether it is all zero (§9 rule 12)."""
    if segment_id is None:
        return None, False
    segment = ctx.workspace.segment(segment_id)
    if segment is None:
        raise BadRequest("Invalid segment_id")
    all_zero = False
    if not segment.analytics_tracking:
        if ctx.config.untracked_segment == "error":
            raise BadRequest("Invalid segment_id: analytics tracking is not enabled")
        all_zero = True
    since = segment.tracking_since
    return (since.timestamp() if since is not None else None), all_zero


def atoms_query(
    ctx: Context,
    unit: Unit,
    metric: Metric,
    app_id: str | None,
    segment_id: str | None = None,
) -> SeriesQuery:
    """The series summing `metric` over the apps and segment the filters select."""
    apps, unknown_app = app_scope(ctx, app_id)
    zeros_before, untracked = segment_scope(ctx, segment_id)
    source = Atoms(ctx.data, metric, ctx.workspace.id, ctx.zone, unit, apps, segment_id)
    return SeriesQuery(
        ctx.workspace, ctx.zone, unit, source, zeros_before, unknown_app or untracked
    )


class Atoms:
    """The sum of a metric's hour atoms over apps (and a segment): a day or one of its hours."""

    def __init__(
        self,
        data: Dataset,
        metric: Metric,
        workspace: str,
        zone: ZoneInfo,
        unit: Unit,
        apps: tuple[str, ...],
        segment: str | None,
    ) -> None:
        self._data = data
        self._metric = metric
        self._workspace = workspace
        self._zone = zone
        self._unit = unit
        self._apps = apps
        self._segment = segment

    def values(self, buckets: Sequence[Bucket], now: float) -> list[int]:
        data = self._data
        values = []
        vectors, day = None, None
        for bucket in buckets:
            if vectors is None or day != bucket.day:
                day = bucket.day
                vectors = data.day(
                    self._metric, self._workspace, self._zone, self._apps, self._segment, day
                )
            if self._unit == "day":
                values.append(data.day_seen(vectors, now))
            else:
                values.append(data.hour_seen(vectors, bucket.position, now))
        return values
