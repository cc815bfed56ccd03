"""How endpoints are declared: a `Route` per path, and the descriptors families build them from.

A `Route` is what `Api` dispatches on: the permission it checks, the rate-limit pool it charges
(`purchases` stands for wherever the `purchases_pool` switch puts the purchase series) and the
handler that turns a validated request into a 200 body or raises `BadRequest`.

`ScalarSeries` declares a `{time, <field>}` endpoint: its units (`("day",)` means daily only,
`unit` ignored), the filters it reads, and how they resolve to a `SeriesQuery`. `DayStats`
declares a nested day-stats endpoint for `Simulator.truth_days`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from collector.simulator import params
from collector.simulator.buckets import Bucket, Unit
from collector.simulator.config import Pool
from collector.simulator.context import Context
from collector.simulator.render import money_text, series_body
from collector.simulator.series import SeriesQuery, points

Handler = Callable[[Context, params.Params], bytes]


@dataclass(frozen=True)
class Route:
    """A `GET` path: the key permission it needs, the pool it counts in, its handler."""

    path: str
    permission: str
    pool: Pool
    handle: Handler


@dataclass(frozen=True)
class Filters:
    """The filter parameters of a scalar series (None: absent)."""

    app_id: str | None = None
    segment_id: str | None = None
    event: str | None = None
    product: str | None = None


FILTER_NAMES = ("app_id", "segment_id", "event", "product")

Resolver = Callable[[Context, Unit, Filters], SeriesQuery]


@dataclass(frozen=True)
class ScalarSeries:
    """A `{time, <field>}` series endpoint."""

    path: str
    field: str
    permission: str
    resolve: Resolver  # raises BadRequest for a missing or unknown subject or filter
    filters: tuple[str, ...]  # the names in FILTER_NAMES it reads
    units: tuple[Unit, ...] = ("day", "hour")
    pool: Pool = "default"
    money: bool = False  # values are cents, written as decimals unless revenue_format="int"

    def answer(self, ctx: Context, query: params.Params) -> bytes:
        """The 200 body for `query`."""
        unit, span = params.span(ctx, query, self.units)
        filters = Filters(**{name: query.get(name) for name in self.filters})
        reported = points(ctx.config, self.resolve(ctx, unit, filters), span, ctx.now)
        text = money_text if self.money and ctx.config.revenue_format == "decimal" else str
        return series_body(self.field, unit, ctx.zone, reported, ctx.config.hour_time_format, text)

    @property
    def route(self) -> Route:
        return Route(self.path, self.permission, self.pool, self.answer)


DaysOf = Callable[[Context, Mapping[str, str | None], Sequence[Bucket]], list[dict[str, Any]]]


@dataclass(frozen=True)
class DayStats:
    """A nested day-stats endpoint, for the truth: the ids it takes and its day objects.

    `days` looks the subject up from the ids (BadRequest as the endpoint would) and returns the
    day objects of `buckets` exactly as a 200 holds them (Canvas with both breakdowns).
    """

    path: str
    ids: tuple[str, ...]
    days: DaysOf
