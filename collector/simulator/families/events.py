"""`/events/data_series` and `/events/list`: custom event counts and names (braze-api.md §10).

Each event is an additive hour-atom stream salted by its name, with a hashed popularity, so
events differ from each other and from sessions; filters `app_id` and `segment_id` combine. The
list pages 250 names at a time in code-point order (`Workspace.event_names`).
"""

from __future__ import annotations

from collector.simulator import params
from collector.simulator.buckets import Unit
from collector.simulator.context import BadRequest, Context
from collector.simulator.data import Metric
from collector.simulator.families.listing import list_body, paged
from collector.simulator.routes import Filters, Route, ScalarSeries
from collector.simulator.series import SeriesQuery, atoms_query

PAGE_SIZE = 250

_SCALE_MIN, _SCALE_SPAN = 0.02, 0.6  # an event's level as a share of the sessions level


def metric(ctx: Context, name: str) -> Metric:
    """The hour-atom stream of event `name`."""
    return Metric(f"event|{name}", _SCALE_MIN + _SCALE_SPAN * ctx.hashed("event-scale", name))


def _resolve(ctx: Context, unit: Unit, filters: Filters) -> SeriesQuery:
    if filters.event is None:
        raise BadRequest("event is required")
    if not ctx.workspace.has_event(filters.event):
        raise BadRequest("Invalid event")
    return atoms_query(ctx, unit, metric(ctx, filters.event), filters.app_id, filters.segment_id)


def _list(ctx: Context, query: params.Params) -> bytes:
    return list_body("events", paged(ctx, query, ctx.workspace.event_names, PAGE_SIZE))


SERIES = ScalarSeries(
    "/events/data_series",
    "count",
    "events.data_series",
    _resolve,
    ("event", "app_id", "segment_id"),
)
LIST = Route("/events/list", "events.list", "export-lists", _list)
