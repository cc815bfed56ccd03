"""One descriptor per Braze data_series endpoint. Only sessions is wired today; the KPI and
event series are a new `Endpoint(...)` line each (see braze-api.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

from collector.core.units import Unit

DEFAULT_MAX_LENGTH = 100


@dataclass(frozen=True)
class Endpoint:
    """What differs between the family's endpoints."""

    name: str  # stored with every point; stable
    path: str
    metric: str  # the value's field name in each `data` entry
    permission: str  # the REST key permission Braze checks
    units: frozenset[Unit]
    max_length: int = DEFAULT_MAX_LENGTH

    def __str__(self) -> str:
        return self.name


SESSIONS = Endpoint(
    name="sessions",
    path="/sessions/data_series",
    metric="sessions",
    permission="sessions.data_series",
    units=frozenset({Unit.DAY, Unit.HOUR}),
)

ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in (SESSIONS,)}
