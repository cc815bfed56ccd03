"""Pure window planning: series × range × what is already stored → windows.

Never awaits, never sees HTTP or the clock. A range of N uncovered buckets costs ceil(N / max)
windows; windows are yielded newest first and interleaved across series so that every series
makes progress, and lazily so memory does not grow with the length of history.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from collector.core.models import Series, Window

Interval = tuple[int, int]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping, non-adjacent union of half-open intervals."""
    merged: list[Interval] = []
    for lo, hi in sorted(i for i in intervals if i[0] < i[1]):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def gaps(lo: int, hi: int, covered: Iterable[Interval]) -> list[Interval]:
    """The parts of [lo, hi) that no interval of `covered` contains, oldest first."""
    out: list[Interval] = []
    cursor = lo
    for c_lo, c_hi in merge(covered):
        if c_hi <= cursor:
            continue
        if c_lo >= hi:
            break
        if c_lo > cursor:
            out.append((cursor, c_lo))
        cursor = max(cursor, c_hi)
    if cursor < hi:
        out.append((cursor, hi))
    return out


def tile(lo: int, hi: int, max_length: int) -> Iterator[Interval]:
    """[lo, hi) in pieces of at most `max_length`, newest first; only the oldest may be short."""
    end = hi
    while end > lo:
        start = max(lo, end - max_length)
        yield (start, end)
        end = start


@dataclass(frozen=True)
class SeriesPlan:
    """What one series still needs within the run's range."""

    series: Series
    lo: int
    hi: int
    gaps: tuple[Interval, ...]

    @property
    def max_length(self) -> int:
        return self.series.stream.max_length

    @property
    def requests(self) -> int:
        m = self.max_length
        return sum(-(-(b - a) // m) for a, b in self.gaps)

    @property
    def missing(self) -> int:
        return sum(b - a for a, b in self.gaps)

    def windows(self) -> Iterator[Window]:
        """Newest gap first, each tiled newest first."""
        for a, b in reversed(self.gaps):
            for w_lo, w_hi in tile(a, b, self.max_length):
                yield Window(self.series, w_lo, w_hi, self.lo, self.hi)


@dataclass(frozen=True)
class Plan:
    """Every series' gaps; windows come out lazily."""

    series: tuple[SeriesPlan, ...]

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.series)

    @property
    def missing(self) -> int:
        return sum(s.missing for s in self.series)

    def windows(self) -> Iterator[Window]:
        """Round-robin over series, each newest first."""
        active = [s.windows() for s in self.series]
        while active:
            still = []
            for it in active:
                window = next(it, None)
                if window is not None:
                    yield window
                    still.append(it)
            active = still

    def probe(self) -> Window | None:
        """The window to learn the server's alignment with: one with room for an extra bucket.

        A window shorter than the endpoint's maximum can ask for one bucket more, which covers
        it under either reading of `ending_at`; only the oldest window of a gap can be short.
        """
        first: Window | None = None
        for sp in self.series:
            for a, b in sp.gaps:
                window = Window(sp.series, *next(tile(a, b, sp.max_length)), sp.lo, sp.hi)
                first = first or window
                short = (b - a) % sp.max_length
                if short:
                    return Window(sp.series, a, a + short, sp.lo, sp.hi)
        return first


def plan(
    ranges: Sequence[tuple[Series, int, int]],
    covered: Mapping[tuple[str, str, str, str], Sequence[Interval]],
) -> Plan:
    """For each (series, lo, hi), the gaps of [lo, hi) that `covered` (by series key) leaves."""
    return Plan(
        tuple(
            SeriesPlan(series, lo, hi, tuple(gaps(lo, hi, covered.get(series.key, ()))))
            for series, lo, hi in ranges
        )
    )
