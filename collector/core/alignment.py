"""Which bucket does an on-boundary `ending_at` end with? Braze does not say (braze-api.md §1.4).

Two readings exist. EXCLUSIVE: the last bucket is the one before `ending_at`. INCLUSIVE: the last
bucket is the one that starts at `ending_at`. The `Aligner` starts UNKNOWN and asks, while it
does not know, for one bucket more than the window needs (when the window has room), which
covers the window under both readings. Every response's last bucket tells the reading; once
known, each window is asked for exactly under that reading, and a response that fits only the
other reading is refused (its times would be shifted by one bucket). Coverage is always derived
from what the response shows, never from what was hoped, so a wrong guess costs a request, not
data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from collector.core.models import Point, Window
from collector.errors import SeriesMismatch


class Reading(StrEnum):
    UNKNOWN = "unknown"
    EXCLUSIVE = "exclusive"
    INCLUSIVE = "inclusive"


@dataclass(frozen=True)
class Request:
    """`ending_at` is the start of bucket `end`; `length` buckets are asked for."""

    end: int
    length: int


class Aligner:
    """The run's knowledge of the server's reading, shared by every worker."""

    def __init__(self, reading: Reading = Reading.UNKNOWN) -> None:
        self.reading = reading

    def __repr__(self) -> str:
        return f"Aligner(reading={self.reading.value})"

    def request_for(self, window: Window) -> Request:
        if self.reading is Reading.INCLUSIVE:
            return Request(end=window.hi - 1, length=window.units)
        if self.reading is Reading.UNKNOWN and window.units < window.series.stream.max_length:
            return Request(end=window.hi, length=window.units + 1)
        return Request(end=window.hi, length=window.units)

    def covered(self, window: Window, request: Request, points: list[Point]) -> tuple[int, int]:
        """The buckets the response answered for, clipped to the run's range; learns the reading.

        An empty series means no history in the asked-for span (a series starts at its first
        data); the span is answered under the reading assumed when it was asked for.
        """
        if points:
            last = points[-1].ordinal
            shift = last - (request.end - 1)
            if shift not in (0, 1) or len(points) > request.length:
                raise SeriesMismatch(
                    f"asked for {request.length} buckets ending before bucket {request.end}, got "
                    f"{len(points)} ending at {last}; that fits neither reading of ending_at",
                    window=window,
                )
            reading = Reading.INCLUSIVE if shift else Reading.EXCLUSIVE
            if self.reading is not Reading.UNKNOWN and reading is not self.reading:
                series = window.series
                raise SeriesMismatch(
                    f"the buckets end at {series.calendar.key(series.unit, last)}, which reads "
                    f"ending_at as {reading.value}, but this server has read it as "
                    f"{self.reading.value}: the times look shifted by one bucket, so none of "
                    "them is stored",
                    window=window,
                )
            self.reading = reading
            lo, hi = last - request.length + 1, last + 1
        else:
            hi = request.end + (1 if request.end < window.hi else 0)
            lo = hi - request.length
        return max(lo, window.range_lo), min(hi, window.range_hi)
