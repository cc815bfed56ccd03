"""Frozen value types that flow through the pipeline: Series → Window → WindowResult → RunReport."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from collector.core.units import Calendar, Unit
from collector.endpoints import Endpoint


@dataclass(frozen=True)
class Series:
    """One timeline: an endpoint for the workspace total or one app, with or without a segment.

    `app_id == ""` is the workspace total; `segment_id == ""` is no segment.
    """

    endpoint: Endpoint
    app_id: str
    segment_id: str
    unit: Unit
    calendar: Calendar

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.endpoint.name, self.app_id, self.segment_id, self.unit.value)

    def describe(self) -> str:
        app = self.app_id or "(workspace total)"
        segment = self.segment_id or "(no segment)"
        return f"{self.endpoint.name} app={app} segment={segment} unit={self.unit}"


@dataclass(frozen=True)
class Window:
    """Buckets [lo, hi) of a series, fetched by one request; [range_lo, range_hi) is the run's range."""

    series: Series
    lo: int
    hi: int
    range_lo: int
    range_hi: int

    @property
    def units(self) -> int:
        return self.hi - self.lo

    def describe(self) -> str:
        cal, unit = self.series.calendar, self.series.unit
        first, last = cal.key(unit, self.lo), cal.key(unit, self.hi - 1)
        return f"{self.series.describe()} window {first}..{last} ({self.units} {unit}s)"


@dataclass(frozen=True)
class Point:
    """One bucket's value."""

    ordinal: int
    value: int


@dataclass(frozen=True)
class WindowResult:
    """What one window's response established: the buckets it covers and the points in them."""

    window: Window
    covered: tuple[int, int]  # [lo, hi) the response answered for, clipped to the run's range
    points: tuple[Point, ...]
    fetched_at: datetime


@dataclass(frozen=True)
class StoreOutcome:
    """What committing one WindowResult changed."""

    inserted: int
    revised: int
    unchanged: int


@dataclass
class SeriesReport:
    """Per-series tallies for the run summary."""

    windows: int = 0
    failed_windows: int = 0
    inserted: int = 0
    revised: int = 0
    missing: int = 0  # buckets of the run's range still uncovered when the run ended
    gaps: list[str] = field(default_factory=list)  # those buckets as "first..last" ranges
    errors: list[str] = field(default_factory=list)  # the last few, for the summary

    def note_error(self, message: str, keep: int = 5) -> None:
        self.errors = [*self.errors[-(keep - 1) :], message]


@dataclass
class RunReport:
    """The outcome of one run."""

    planned_windows: int = 0
    requests: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    series: dict[tuple[str, str, str, str], SeriesReport] = field(default_factory=dict)
    alignment: str = "unknown"
    duration_s: float = 0.0
    rate_limit_per_s: float = 0.0
    fatal: str | None = None
    interrupted: bool = False
    stopped: str | None = None  # a --max-requests or --deadline budget ended the run early

    def for_series(self, series: Series) -> SeriesReport:
        return self.series.setdefault(series.key, SeriesReport())

    @property
    def failed_windows(self) -> int:
        return sum(s.failed_windows for s in self.series.values())

    @property
    def inserted(self) -> int:
        return sum(s.inserted for s in self.series.values())

    @property
    def revised(self) -> int:
        return sum(s.revised for s in self.series.values())

    @property
    def achieved_rate(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def complete(self) -> bool:
        return (
            self.fatal is None
            and not self.interrupted
            and self.stopped is None
            and self.failed_windows == 0
            and all(s.missing == 0 for s in self.series.values())
        )
