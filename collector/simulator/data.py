"""Synthetic counts: deterministic, internally consistent, and optionally still arriving late.

The atom is one app's final value for one UTC hour, a seeded blake2b hash of (seed, metric,
workspace, app, hour start) shaped by a daily cycle in the workspace's local time. A segment's
value is `floor(app value × fraction)`, the fraction hashed the same way with the segment id, so
it never exceeds the unsegmented value. Everything larger is a sum: a workspace total over its apps,
a day over its hours. With late data, each (app, hour) atom is scaled by the ramp *before*
summing, so those sums stay exact at every instant.

Per (metric, workspace, app, segment, local day) the hourly vectors are cached (bounded LRU), and a
settled day is answered from its cached total, so a long series costs a few lookups per day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from hashlib import blake2b
from zoneinfo import ZoneInfo

from collector.simulator.buckets import hours_of

DEFAULT_CACHED_DAY_VECTORS = 32_768
LATE_FLOOR = 0.7  # share of a bucket's final value visible when it ends (late data)

_BASE_MIN, _BASE_SPAN = 80.0, 1500.0  # an app's peak-hour level, before noise
_CYCLE_MIN = 0.2  # quietest hour (03:00 local) as a share of the busiest (15:00 local)
_SEGMENT_MIN, _SEGMENT_SPAN = 0.05, 0.55  # a segment's typical share of an app


def _unit_hash(*parts: object) -> float:
    """A uniform number in [0, 1) determined by `parts`."""
    digest = blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _daily_cycle(local_hour: int) -> float:
    """Relative activity by local hour: lowest at 03:00, highest at 15:00."""
    wave = (1 - math.cos(2 * math.pi * (local_hour - 3) / 24)) / 2
    return _CYCLE_MIN + (1 - _CYCLE_MIN) * wave


@dataclass(frozen=True)
class DayVectors:
    """The final hourly values of one local day, per app, plus their sums."""

    hour_starts: tuple[int, ...]
    hour_ends: tuple[int, ...]
    per_app: tuple[tuple[int, ...], ...]
    totals: tuple[int, ...]
    total: int

    @classmethod
    def of(
        cls,
        hour_starts: tuple[int, ...],
        hour_ends: tuple[int, ...],
        per_app: list[tuple[int, ...]],
    ) -> DayVectors:
        totals = tuple(map(sum, zip(*per_app, strict=True))) if per_app else (0,) * len(hour_starts)
        return cls(hour_starts, hour_ends, tuple(per_app), totals, sum(totals))


class Dataset:
    """Final and as-seen values for any (metric, workspace, app, segment, bucket)."""

    def __init__(
        self,
        seed: int,
        *,
        late_data: bool,
        settle_period_s: float,
        cached_day_vectors: int = DEFAULT_CACHED_DAY_VECTORS,
    ) -> None:
        self._seed = seed
        self._late = late_data
        self._settle = settle_period_s
        self._cached_day = lru_cache(maxsize=cached_day_vectors)(self._day)

    def day(
        self,
        metric: str,
        workspace: str,
        zone: ZoneInfo,
        apps: tuple[str, ...],
        segment: str | None,
        day: date,
    ) -> DayVectors:
        """The final hourly values of `day` per app of `apps`, within `segment` if given."""
        return self._cached_day(metric, workspace, zone, apps, segment, day)

    def _day(
        self,
        metric: str,
        workspace: str,
        zone: ZoneInfo,
        apps: tuple[str, ...],
        segment: str | None,
        day: date,
    ) -> DayVectors:
        hours = hours_of(zone, day)
        starts = tuple(h.start for h in hours)
        ends = tuple(h.end for h in hours)
        if len(apps) != 1:
            parts = [self.day(metric, workspace, zone, (a,), segment, day) for a in apps]
            return DayVectors.of(starts, ends, [p.per_app[0] for p in parts])
        key = (self._seed, metric, workspace, apps[0])
        if segment is None:
            return DayVectors.of(starts, ends, [self._app_hours(key, zone, starts)])
        unsegmented = self.day(metric, workspace, zone, apps, None, day).per_app[0]
        return DayVectors.of(starts, ends, [self._segment_hours(key, segment, unsegmented, starts)])

    @staticmethod
    def _app_hours(
        key: tuple[object, ...], zone: ZoneInfo, starts: tuple[int, ...]
    ) -> tuple[int, ...]:
        """One app's hourly values: its level × the local daily cycle × hashed noise."""
        level = _BASE_MIN + _BASE_SPAN * _unit_hash(*key)
        return tuple(
            math.floor(
                level
                * _daily_cycle(datetime.fromtimestamp(s, zone).hour)
                * (0.75 + 0.5 * _unit_hash(*key, s))
            )
            for s in starts
        )

    @staticmethod
    def _segment_hours(
        key: tuple[object, ...], segment: str, unsegmented: tuple[int, ...], starts: tuple[int, ...]
    ) -> tuple[int, ...]:
        """One app's hourly values within `segment`: a hashed share in [0, 1] of the app's."""
        typical = _SEGMENT_MIN + _SEGMENT_SPAN * _unit_hash(*key, segment)
        return tuple(
            math.floor(value * min(1.0, typical * (0.8 + 0.4 * _unit_hash(*key, segment, s))))
            for value, s in zip(unsegmented, starts, strict=True)
        )

    def hour_seen(self, vectors: DayVectors, index: int, now: float) -> int:
        """Hour `index` of `vectors` as a fetch at `now` reports it (0 if it has not started)."""
        start, end = vectors.hour_starts[index], vectors.hour_ends[index]
        if start > now:
            return 0
        if not self._late:
            return vectors.totals[index]
        if now < end:
            share = LATE_FLOOR * (now - start) / (end - start)
        elif self._settle > 0 and now - end < self._settle:
            share = LATE_FLOOR + (1 - LATE_FLOOR) * (now - end) / self._settle
        else:
            return vectors.totals[index]
        return sum(math.floor(app[index] * share) for app in vectors.per_app)

    def day_seen(self, vectors: DayVectors, now: float) -> int:
        """The whole day of `vectors` as a fetch at `now` reports it: the sum of its hours."""
        settled_at = vectors.hour_ends[-1] + (self._settle if self._late else 0)
        if now >= settled_at:
            return vectors.total
        return sum(self.hour_seen(vectors, i, now) for i in range(len(vectors.hour_starts)))
