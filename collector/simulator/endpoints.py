"""The endpoints the simulator serves: one table row per `data_series` path.

A sibling such as `/kpi/new_users/data_series` is one more row (its metric field, permission and
units); the metric name also salts the synthetic data, so each endpoint gets its own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from collector.simulator.buckets import Unit


@dataclass(frozen=True)
class Endpoint:
    """A `GET` path: the field its points carry, the key permission it needs, its units."""

    path: str
    field: str
    permission: str
    units: tuple[Unit, ...] = ("day", "hour")


ENDPOINTS: dict[str, Endpoint] = {
    e.path: e for e in (Endpoint("/sessions/data_series", "sessions", "sessions.data_series"),)
}
