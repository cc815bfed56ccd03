"""What a series holds: which buckets are reported and the value of each, at a given `now`.

Shared by the HTTP endpoint and `Simulator.truth`, so the truth is the served answer by
construction. Rules (braze-api.md §9 rules 11, 12, 18, 21):

- buckets starting before the workspace's `history_start` are left out;
- buckets starting after `now` are 0, or left out with `omit_future`;
- an unknown app (with `unknown_app="zeros"`) or an untracked segment (with
  `untracked_segment="zeros"`) gives an all-zero series;
- a segment's buckets starting before its `tracking_since` are 0 (nothing is backfilled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from collector.simulator.buckets import Bucket, Unit
from collector.simulator.config import SimulatorConfig, Workspace
from collector.simulator.data import Dataset


class InvalidFilter(ValueError):
    """`app_id` or `segment_id` names nothing the workspace serves; the text is the 400 message."""


@dataclass(frozen=True)
class SeriesQuery:
    """One series: a metric of a workspace in a unit, optionally for one app and one segment."""

    metric: str
    workspace: Workspace
    zone: ZoneInfo
    unit: Unit
    apps: tuple[str, ...]
    segment: str | None
    zeros_before: float | None  # epoch; buckets starting earlier are 0 (tracking_since)
    all_zero: bool


def resolve(
    config: SimulatorConfig,
    workspace: Workspace,
    metric: str,
    unit: Unit,
    app_id: str | None,
    segment_id: str | None,
) -> SeriesQuery:
    """The query for these filters; `InvalidFilter` when the switches make them an error."""
    all_zero = False
    apps = workspace.apps
    if app_id is not None:
        apps = (app_id,)
        if app_id not in workspace.apps:
            if config.unknown_app == "error":
                raise InvalidFilter("Invalid app_id")
            all_zero = True
    zeros_before = None
    if segment_id is not None:
        segment = next((s for s in workspace.segments if s.id == segment_id), None)
        if segment is None:
            raise InvalidFilter("Invalid segment_id")
        if not segment.analytics_tracking:
            if config.untracked_segment == "error":
                raise InvalidFilter("Invalid segment_id: analytics tracking is not enabled")
            all_zero = True
        if segment.tracking_since is not None:
            zeros_before = segment.tracking_since.timestamp()
    return SeriesQuery(
        metric,
        workspace,
        ZoneInfo(workspace.timezone),
        unit,
        apps,
        segment_id,
        zeros_before,
        all_zero,
    )


def points(
    config: SimulatorConfig,
    data: Dataset,
    query: SeriesQuery,
    buckets: Sequence[Bucket],
    now: float,
) -> list[tuple[Bucket, int]]:
    """The reported `(bucket, value)` pairs of `buckets` as a fetch at `now` sees them."""
    history = query.workspace.history_start
    first = history.timestamp() if history is not None else None
    zeros_before = query.zeros_before
    reported = []
    vectors, vectors_day = None, None
    for bucket in buckets:
        if first is not None and bucket.start < first:
            continue
        if bucket.start > now:
            if not config.omit_future:
                reported.append((bucket, 0))
            continue
        if query.all_zero or (zeros_before is not None and bucket.start < zeros_before):
            reported.append((bucket, 0))
            continue
        if vectors is None or vectors_day != bucket.day:
            vectors_day = bucket.day
            vectors = data.day(
                query.metric, query.workspace.id, query.zone, query.apps, query.segment, bucket.day
            )
        if query.unit == "day":
            reported.append((bucket, data.day_seen(vectors, now)))
        else:
            reported.append((bucket, data.hour_seen(vectors, bucket.position, now)))
    return reported
