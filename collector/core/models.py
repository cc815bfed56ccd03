"""Frozen value types that flow through the pipeline: Series → Window → WindowResult → RunReport."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from collector.core.streams import Stream
from collector.core.units import Calendar, Unit

DEFAULT_WORKSPACE = "default"

# (workspace, stream, dimension values as a JSON array, unit): stable, and how the store keys it
SeriesKey = tuple[str, str, str, str]

_EMPTY_MEANS = {
    "app_id": "(all apps)",
    "segment_id": "(no segment)",
    "product": "(all products)",
}


def dims_text(values: tuple[str, ...]) -> str:
    """The dimension values as the store keeps them: a JSON array, exact for any text."""
    return json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))


def describe_key(key: SeriesKey) -> str:
    """A series key as people read it: `events event=Purchase app_id=(all apps) day`."""
    from collector.core.streams import STREAMS

    workspace, stream, dims, unit = key
    names = STREAMS[stream].dimensions if stream in STREAMS else ()
    values = json.loads(dims)
    parts = [
        f"{n}={v or _EMPTY_MEANS.get(n, repr(v))}" for n, v in zip(names, values, strict=False)
    ]
    where = [] if workspace == DEFAULT_WORKSPACE else [f"[{workspace}]"]
    return " ".join([*where, stream, *parts, unit])


@dataclass(frozen=True)
class Series:
    """One timeline: a stream for one combination of its dimensions, in one unit.

    `dims` holds one value per `stream.dimensions`, in that order; `""` is "all apps", "no
    segment" or "all products".
    """

    stream: Stream
    dims: tuple[str, ...]
    unit: Unit
    calendar: Calendar
    workspace: str = DEFAULT_WORKSPACE

    def __post_init__(self) -> None:
        if len(self.dims) != len(self.stream.dimensions):
            raise ValueError(f"{self.stream.name} takes {self.stream.dimensions}, got {self.dims}")

    @property
    def key(self) -> SeriesKey:
        return (self.workspace, self.stream.name, dims_text(self.dims), self.unit.value)

    def dim(self, name: str) -> str:
        """The value of dimension `name` ("" when the stream does not fan out over it)."""
        try:
            return self.dims[self.stream.dimensions.index(name)]
        except ValueError:
            return ""

    @property
    def app_id(self) -> str:
        return self.dim("app_id")

    @property
    def segment_id(self) -> str:
        return self.dim("segment_id")

    def describe(self) -> str:
        parts = [
            f"{name}={value or _EMPTY_MEANS.get(name, repr(value))}"
            for name, value in zip(self.stream.dimensions, self.dims, strict=True)
        ]
        return " ".join([self.stream.name, *parts, f"unit={self.unit}"])


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


Value = int | Decimal


@dataclass(frozen=True)
class Point:
    """One value of a bucket: a scalar stream has one per bucket (`facet == ""`, `metric` the
    stream's field); a nested stream has one per numeric leaf, `facet` naming where it sits
    (step, variant, channel) and `metric` the leaf's field."""

    ordinal: int
    value: Value
    metric: str = ""
    facet: str = ""


@dataclass(frozen=True)
class WindowResult:
    """What one window's response established: the buckets it covers and the points in them."""

    window: Window
    covered: tuple[int, int]  # [lo, hi) the response answered for, clipped to the run's range
    points: tuple[Point, ...]
    fetched_at: datetime
    raw: tuple[tuple[int, str], ...] = ()  # nested streams: (ordinal, the day object as JSON)


@dataclass(frozen=True)
class StoreOutcome:
    """What committing one WindowResult changed."""

    inserted: int
    revised: int
    unchanged: int
    removed: int = 0  # points a re-fetched day no longer holds (a variant, step or channel gone)


@dataclass
class SeriesReport:
    """Per-series tallies for the run summary."""

    windows: int = 0
    failed_windows: int = 0
    inserted: int = 0
    revised: int = 0
    removed: int = 0
    refused: str | None = None  # a 403: the key lacks this stream's permission
    missing: int | None = None  # buckets of the run's range still uncovered (None: not known,
    # the run ended before it could look: an auth failure, a signal, an unreachable server)
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
    series: dict[SeriesKey, SeriesReport] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # not requested, and why (not a failure)
    notices: list[str] = field(default_factory=list)  # what the user should know (migrations, …)
    discovery_errors: list[str] = field(default_factory=list)  # lists that could not be read
    discovery_requests: int = 0  # list and details requests sent (the rest came from the cache)
    taken_over: int = 0  # windows whose lease had expired in a dead process, taken over here
    alignment: str = "unknown"
    duration_s: float = 0.0
    rate_limit_per_s: float = 0.0
    fatal: str | None = None
    interrupted: bool = False
    stopped: str | None = None  # a --max-requests or --deadline budget ended the run early

    def outcome(self, key: SeriesKey) -> str:
        """How one series ended in this run: complete, failed, refused, or incomplete."""
        s = self.series.get(key)
        if s is None:
            return "not run"
        if s.refused:
            return "refused"
        if s.failed_windows:
            return "failed"
        if s.missing == 0:
            return "complete"
        if s.missing is None:
            return "auth-failed" if self.fatal else "interrupted" if self.interrupted else "unknown"
        return "incomplete"

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
            and not self.discovery_errors
            and all(s.missing == 0 and s.refused is None for s in self.series.values())
        )
