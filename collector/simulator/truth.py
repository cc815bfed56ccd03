"""The truth for tests: what a fault-free 200 reports at the clock's now, as Python values.

Computed by the same code the endpoints run, so it equals the served answer by construction.
Revenue comes as `Decimal` with the digits the body has; nested days come JSON-decoded from the
body text itself, floats as `Decimal`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from collector.simulator import buckets
from collector.simulator.context import Context
from collector.simulator.endpoints import SCALAR, STATS
from collector.simulator.render import json_body, money_text
from collector.simulator.routes import FILTER_NAMES, Filters
from collector.simulator.series import points


def _epochs(start: datetime, end: datetime) -> tuple[float, float]:
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValueError("truth() needs timezone-aware start and end")
    return start.timestamp(), end.timestamp()


def _known(path: str, table: Mapping[str, object]) -> None:
    if path not in table:
        raise ValueError(f"no such series {path!r}; known: {', '.join(sorted(table))}")


def _unused(path: str, given: Mapping[str, str | None], taken: tuple[str, ...]) -> None:
    extra = sorted(name for name, value in given.items() if value is not None and name not in taken)
    if extra:
        raise ValueError(f"{path} takes no {', '.join(extra)}")


def series_truth(
    ctx: Context, path: str, unit: str, start: datetime, end: datetime, filters: Filters
) -> list[tuple[datetime, int | Decimal]]:
    """Every bucket of `path` starting in `[start, end)` with the value a 200 reports now."""
    lo, hi = _epochs(start, end)
    _known(path, SCALAR)
    series = SCALAR[path]
    chosen = next((u for u in series.units if u == unit), None)
    if chosen is None:
        units = " or ".join(map(repr, series.units))
        raise ValueError(f"unit must be {units} for {path}, got {unit!r}")
    _unused(path, {name: getattr(filters, name) for name in FILTER_NAMES}, series.filters)
    query = series.resolve(ctx, chosen, filters)
    span = buckets.starting_between(chosen, ctx.zone, lo, hi)
    reported = points(ctx.config, query, span, ctx.now)
    if not series.money:
        return [(datetime.fromtimestamp(b.start, UTC), v) for b, v in reported]
    text = money_text if ctx.config.revenue_format == "decimal" else str
    return [(datetime.fromtimestamp(b.start, UTC), Decimal(text(v))) for b, v in reported]


def days_truth(
    ctx: Context, path: str, start: datetime, end: datetime, ids: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """The day objects of `path` for days starting in `[start, end)`, as a 200 reports them."""
    lo, hi = _epochs(start, end)
    _known(path, STATS)
    stats = STATS[path]
    _unused(path, ids, stats.ids)
    days = stats.days(ctx, ids, buckets.starting_between("day", ctx.zone, lo, hi))
    decoded: list[dict[str, Any]] = json.loads(json_body(days), parse_float=Decimal)
    return decoded
