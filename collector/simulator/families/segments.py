"""`/segments/data_series` and `/segments/list`: estimated segment sizes, and the segments.

A segment's size on a day is a hashed share of the workspace MAU of that day (so never above
it), with a little daily noise; like MAU it is a snapshot, final once the day has started. An
untracked segment follows `untracked_segment`, and days before `tracking_since` are 0, as on the
other series (braze-api.md §1.7, §10). The list pages 100 segments in creation (config) order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from collector.simulator import params
from collector.simulator.buckets import Bucket, Unit
from collector.simulator.config import Segment
from collector.simulator.context import BadRequest, Context
from collector.simulator.families.kpi import MonthlyActive
from collector.simulator.families.listing import list_body, paged
from collector.simulator.routes import Filters, Route, ScalarSeries
from collector.simulator.series import SeriesQuery, segment_scope

PAGE_SIZE = 100

_SHARE_MIN, _SHARE_SPAN = 0.05, 0.55  # a segment's share of the MAU
_NOISE_MIN, _NOISE_SPAN = 0.97, 0.06  # its day-to-day estimate noise


class SegmentSize:
    """The estimated size of one segment, day by day."""

    def __init__(self, ctx: Context, segment_id: str) -> None:
        self._ctx = ctx
        self._segment = segment_id
        self._mau = MonthlyActive(ctx, ctx.workspace.apps)

    def values(self, buckets: Sequence[Bucket], now: float) -> list[int]:
        share = _SHARE_MIN + _SHARE_SPAN * self._ctx.hashed("size", self._segment)
        sizes = []
        for bucket in buckets:
            mau = self._mau.of(bucket.day)
            noise = _NOISE_MIN + _NOISE_SPAN * self._ctx.hashed("size", self._segment, bucket.day)
            sizes.append(min(mau, math.floor(mau * share * noise)))
        return sizes


def _resolve(ctx: Context, unit: Unit, filters: Filters) -> SeriesQuery:
    if filters.segment_id is None:
        raise BadRequest("segment_id is required")
    zeros_before, all_zero = segment_scope(ctx, filters.segment_id)
    source = SegmentSize(ctx, filters.segment_id)
    return SeriesQuery(ctx.workspace, ctx.zone, unit, source, zeros_before, all_zero)


def _item(segment: Segment) -> dict[str, object]:
    return {
        "id": segment.id,
        "name": segment.name or segment.id,
        "analytics_tracking_enabled": segment.analytics_tracking,
        "tags": list(segment.tags),
    }


def _list(ctx: Context, query: params.Params) -> bytes:
    page = paged(ctx, query, ctx.workspace.segments, PAGE_SIZE)
    return list_body("segments", [_item(s) for s in page])


SERIES = ScalarSeries(
    "/segments/data_series",
    "size",
    "segments.data_series",
    _resolve,
    ("segment_id",),
    units=("day",),
)
LIST = Route("/segments/list", "segments.list", "default", _list)
