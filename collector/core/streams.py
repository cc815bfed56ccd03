"""One descriptor per Braze data_series endpoint: the whole family, described once (braze-api.md §10).

A stream says what differs between endpoints: its path, the value field(s) of each day, the units
it accepts, the longest window, the dimensions it fans out over (each one a query parameter), its
rate-limit pool, the permission a key needs for it, and how far back a nightly sync re-reads.

Shapes:
    scalar    `data: [{time, <metric>}]`: one value per bucket (sessions, KPIs, events, …)
    campaign  `data: [{time, <totals>, messages: {channel: [variant objects]}}]`
    canvas    `data: {name, stats: [{time, total_stats, variant_stats, step_stats}]}`
    send      like campaign

Lookbacks (days unless the unit is hour), chosen from braze-api.md §10.5:
    sessions, events, purchases, dau: 3 days (48 hours): late device flushes grow recent buckets
    mau: 1 day: a snapshot that never changes retroactively; re-read yesterday only
    new_users: 7 days: merges of anonymous profiles lower it for days after
    uninstalls: 7 days: detected from later pushes, so recent days grow for about a week
    segment_size: 3 days: an estimate recomputed daily
    campaign, canvas, send stats: 14 days: conversions are credited to the send or entry date
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from collector.core.units import Unit

DEFAULT_MAX_LENGTH = 100
CANVAS_MAX_LENGTH = 14
SEND_RETENTION_DAYS = 14

Shape = Literal["scalar", "campaign", "canvas", "send"]
Pool = str  # "default", "export-lists", "campaigns", "purchases"

DIMENSIONS = ("event", "product", "campaign_id", "canvas_id", "send_id", "app_id", "segment_id")
DIMENSION_FLAGS = {d: "--" + d.replace("_", "-") for d in DIMENSIONS}


@dataclass(frozen=True)
class Stream:
    """What differs between the family's endpoints."""

    name: str  # stored with every point; stable
    path: str
    metric: str  # the value field of a scalar day ("" for nested shapes)
    permission: str
    units: frozenset[Unit]
    dimensions: tuple[str, ...]  # query parameters it fans out over, in export column order
    required: tuple[str, ...] = ()  # dimensions that must be non-empty
    pool: Pool = "default"
    shape: Shape = "scalar"
    max_length: int = DEFAULT_MAX_LENGTH
    decimal: bool = False  # values are decimals kept exactly as sent (revenue)
    lookback_days: int = 3
    extra_params: tuple[tuple[str, str], ...] = ()  # sent with every request

    def __str__(self) -> str:
        return self.name

    @property
    def nested(self) -> bool:
        return self.shape != "scalar"

    @property
    def daily_only(self) -> bool:
        return self.units == frozenset({Unit.DAY})

    def lookback(self, unit: Unit) -> int:
        """The default sync lookback, in `unit`s."""
        return self.lookback_days * (24 if unit is Unit.HOUR else 1)


_DAY_HOUR = frozenset({Unit.DAY, Unit.HOUR})
_DAY = frozenset({Unit.DAY})


def _kpi(name: str, lookback_days: int) -> Stream:
    return Stream(
        name=name,
        path=f"/kpi/{name}/data_series",
        metric=name,
        permission=f"kpi.{name}.data_series",
        units=_DAY,
        dimensions=("app_id",),
        lookback_days=lookback_days,
    )


SESSIONS = Stream(
    name="sessions",
    path="/sessions/data_series",
    metric="sessions",
    permission="sessions.data_series",
    units=_DAY_HOUR,
    dimensions=("app_id", "segment_id"),
)
DAU = _kpi("dau", 3)
MAU = _kpi("mau", 1)
NEW_USERS = _kpi("new_users", 7)
UNINSTALLS = _kpi("uninstalls", 7)
EVENTS = Stream(
    name="events",
    path="/events/data_series",
    metric="count",
    permission="events.data_series",
    units=_DAY_HOUR,
    dimensions=("event", "app_id", "segment_id"),
    required=("event",),
)
PURCHASE_QUANTITY = Stream(
    name="purchase_quantity",
    path="/purchases/quantity_series",
    metric="purchase_quantity",
    permission="purchases.quantity_series",
    units=_DAY_HOUR,
    dimensions=("product", "app_id"),
    pool="purchases",
)
PURCHASE_REVENUE = Stream(
    name="purchase_revenue",
    path="/purchases/revenue_series",
    metric="revenue",
    permission="purchases.revenue_series",
    units=_DAY_HOUR,
    dimensions=("product", "app_id"),
    pool="purchases",
    decimal=True,
)
SEGMENT_SIZE = Stream(
    name="segment_size",
    path="/segments/data_series",
    metric="size",
    permission="segments.data_series",
    units=_DAY,
    dimensions=("segment_id",),
    required=("segment_id",),
)
CAMPAIGN_STATS = Stream(
    name="campaign_stats",
    path="/campaigns/data_series",
    metric="",
    permission="campaigns.data_series",
    units=_DAY,
    dimensions=("campaign_id",),
    required=("campaign_id",),
    pool="campaigns",
    shape="campaign",
    lookback_days=14,
)
CANVAS_STATS = Stream(
    name="canvas_stats",
    path="/canvas/data_series",
    metric="",
    permission="canvas.data_series",
    units=_DAY,
    dimensions=("canvas_id",),
    required=("canvas_id",),
    shape="canvas",
    max_length=CANVAS_MAX_LENGTH,
    lookback_days=14,
    extra_params=(("include_variant_breakdown", "true"), ("include_step_breakdown", "true")),
)
SEND_STATS = Stream(
    name="send_stats",
    path="/sends/data_series",
    metric="",
    permission="sends.data_series",
    units=_DAY,
    dimensions=("campaign_id", "send_id"),
    required=("campaign_id", "send_id"),
    shape="send",
    lookback_days=14,
)

STREAMS: dict[str, Stream] = {
    s.name: s
    for s in (
        SESSIONS,
        DAU,
        MAU,
        NEW_USERS,
        UNINSTALLS,
        EVENTS,
        PURCHASE_QUANTITY,
        PURCHASE_REVENUE,
        SEGMENT_SIZE,
        CAMPAIGN_STATS,
        CANVAS_STATS,
        SEND_STATS,
    )
}

# Default quota of each pool (braze-api.md §10.4); `--rate-limit POOL=N/h` overrides one.
POOL_RATES: dict[Pool, str] = {
    "default": "250000/h",
    "export-lists": "1000/h",
    "campaigns": "50000/m",
    # The purchase series' pages say 1,000/h, the rate-limit table says default: start at the
    # smaller, follow their own responses' X-RateLimit-Limit if it announces more.
    "purchases": "1000/h",
}
