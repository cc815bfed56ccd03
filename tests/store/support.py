"""Both stores behind one face, so a store test runs against SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from collector.core.models import Point, Series, Window, WindowResult
from collector.core.streams import CAMPAIGN_STATS, PURCHASE_REVENUE, SESSIONS
from collector.core.units import Calendar, Unit
from collector.store import open_copy_store, open_read_store, open_run_store
from collector.store.base import CopyStore, ReadStore, RunStore

CAL = Calendar("UTC")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 1, 2, tzinfo=UTC)
BASE = CAL.from_key(Unit.DAY, "2020-01-01")
S = Series(SESSIONS, ("app", ""), Unit.DAY, CAL)
REVENUE = Series(PURCHASE_REVENUE, ("", "app"), Unit.DAY, CAL)
CAMPAIGN = Series(CAMPAIGN_STATS, ("c1",), Unit.DAY, CAL)


@dataclass(frozen=True)
class Stores:
    """One database of either engine: its --db, and the three ways to open it."""

    kind: str
    location: str
    schema: str = "braze"

    async def run(self) -> RunStore:
        return await open_run_store(self.location, schema=self.schema)

    def read(self) -> ReadStore:
        return open_read_store(self.location, schema=self.schema)

    def copy(self, *, create: bool = True) -> CopyStore:
        return open_copy_store(self.location, schema=self.schema, create=create)


def window(series: Series, lo: int, hi: int) -> Window:
    return Window(series, BASE + lo, BASE + hi, 0, 10**7)


def result(
    series: Series,
    lo: int,
    hi: int,
    values: dict[int, int | Decimal] | int | Decimal = 1,
    *,
    covered: tuple[int, int] | None = None,
    at: datetime = T0,
    raw: tuple[tuple[int, str], ...] = (),
) -> WindowResult:
    """Days [lo, hi) after BASE, each with `values[day]` (or one value for all)."""
    pick = values if isinstance(values, dict) else dict.fromkeys(range(lo, hi), values)
    points = tuple(Point(BASE + d, v, series.stream.metric) for d, v in sorted(pick.items()))
    cov = covered or (lo, hi)
    return WindowResult(window(series, lo, hi), (BASE + cov[0], BASE + cov[1]), points, at, raw)
