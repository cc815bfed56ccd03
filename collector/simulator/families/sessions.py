"""`/sessions/data_series`: sessions per day or hour, by app and segment (braze-api.md §1)."""

from __future__ import annotations

from collector.simulator.buckets import Unit
from collector.simulator.context import Context
from collector.simulator.data import Metric
from collector.simulator.routes import Filters, ScalarSeries
from collector.simulator.series import SeriesQuery, atoms_query

SESSIONS = Metric("sessions")


def _resolve(ctx: Context, unit: Unit, filters: Filters) -> SeriesQuery:
    return atoms_query(ctx, unit, SESSIONS, filters.app_id, filters.segment_id)


SERIES = ScalarSeries(
    "/sessions/data_series",
    "sessions",
    "sessions.data_series",
    _resolve,
    ("app_id", "segment_id"),
)
