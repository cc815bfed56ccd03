"""Synthetic counts: deterministic, internally consistent, and optionally still arriving late.

The atom is one app's final value of one `Metric` for one UTC hour, a seeded blake2b hash of
(seed, metric salt, workspace, app, hour start) shaped by a daily cycle in the workspace's local
time, scaled by the metric and by its factor. A segment's value is `floor(app value ×
fraction)`, the fraction hashed the same way with the segment id, so it never exceeds the
unsegmented value. A metric with a split `path` takes one leaf of a hashed binary split of the
atom (`split`): the leaves of one split add up to the atom exactly, so a stream can be divided
(purchases into products) at O(depth) cost per leaf. Everything larger is a sum: a workspace
total over its apps, a day over its hours. With late data, each atom is scaled by the ramp
*before* splitting and summing, so those sums stay exact at every instant. The ramp starts at
the metric's `late_share` when a bucket ends and moves to 1.0 over the settle period: up from
0.7 for most streams, down from above 1 for new users (merged profiles, braze-api.md §10.5).

Per (metric, workspace, app, segment, local day) the hourly vectors are cached (bounded LRU), and a
settled day is answered from its cached total, so a long series costs a few lookups per day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
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


def unit_hash(*parts: object) -> float:
    """A uniform number in [0, 1) determined by `parts`."""
    digest = blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _daily_cycle(local_hour: int) -> float:
    """Relative activity by local hour: lowest at 03:00, highest at 15:00."""
    wave = (1 - math.cos(2 * math.pi * (local_hour - 3) / 24)) / 2
    return _CYCLE_MIN + (1 - _CYCLE_MIN) * wave


def visible_share(
    start: float, end: float, now: float, at_end: float, settle: float
) -> float | None:
    """The share of a started bucket's final value seen at `now`; None once it has settled.

    In progress: `at_end` × the elapsed share; then from `at_end` to 1.0 over `settle` seconds.
    """
    if now < end:
        return at_end * (now - start) / (end - start)
    if settle > 0 and now - end < settle:
        return at_end + (1 - at_end) * (now - end) / settle
    return None


# One step down a split: the fraction of the value that goes left, and whether to go left.
SplitStep = tuple[float, bool]


def split(value: int, path: tuple[SplitStep, ...]) -> int:
    """The leaf of `value` at the end of `path`: each step keeps floor(v × f) or the rest."""
    for fraction, left in path:
        part = math.floor(value * fraction)
        value = part if left else value - part
    return value


@dataclass(frozen=True)
class Metric:
    """A stream of hashed hour atoms: hash salt, level scale, factor, split path, late shape.

    Its hash is computed once: a metric keys the day-vector cache on every lookup.
    """

    salt: str
    scale: float = 1.0
    factor: float = 1  # atoms are floor(count × factor) (revenue: an average price in cents)
    path: tuple[SplitStep, ...] = ()  # the leaf of the atoms this metric is; () the whole
    late_share: float = LATE_FLOOR  # share of the final value seen when a bucket ends
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = (self.salt, self.scale, self.factor, self.path, self.late_share)
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:
        return self._hash


@dataclass(frozen=True)
class DayVectors:
    """The hourly atoms of one local day per app, the leaf `path` taken of them, and the sums."""

    hour_starts: tuple[int, ...]
    hour_ends: tuple[int, ...]
    per_app: tuple[tuple[int, ...], ...]  # whole atoms, before the split
    totals: tuple[int, ...]  # per hour, the sum over apps of the leaf
    total: int
    late_share: float
    path: tuple[SplitStep, ...] = ()

    @classmethod
    def of(
        cls,
        hour_starts: tuple[int, ...],
        hour_ends: tuple[int, ...],
        per_app: list[tuple[int, ...]],
        late_share: float,
        path: tuple[SplitStep, ...] = (),
    ) -> DayVectors:
        leaves = [tuple(split(v, path) for v in app) for app in per_app] if path else per_app
        totals = tuple(map(sum, zip(*leaves, strict=True))) if leaves else (0,) * len(hour_starts)
        return cls(hour_starts, hour_ends, tuple(per_app), totals, sum(totals), late_share, path)


class Dataset:
    """Final and as-seen values for any (metric, workspace, apps, segment, bucket)."""

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
        metric: Metric,
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
        metric: Metric,
        workspace: str,
        zone: ZoneInfo,
        apps: tuple[str, ...],
        segment: str | None,
        day: date,
    ) -> DayVectors:
        hours = hours_of(zone, day)
        starts = tuple(h.start for h in hours)
        ends = tuple(h.end for h in hours)
        late = metric.late_share
        if metric.path:
            whole = self.day(replace(metric, path=()), workspace, zone, apps, segment, day)
            return DayVectors.of(starts, ends, list(whole.per_app), late, metric.path)
        if len(apps) != 1:
            parts = [self.day(metric, workspace, zone, (a,), segment, day) for a in apps]
            return DayVectors.of(starts, ends, [p.per_app[0] for p in parts], late)
        key = (self._seed, metric.salt, workspace, apps[0])
        if segment is None:
            return DayVectors.of(starts, ends, [self._app_hours(key, metric, zone, starts)], late)
        unsegmented = self.day(metric, workspace, zone, apps, None, day).per_app[0]
        within = self._segment_hours(key, segment, unsegmented, starts)
        return DayVectors.of(starts, ends, [within], late)

    @staticmethod
    def _app_hours(
        key: tuple[object, ...], metric: Metric, zone: ZoneInfo, starts: tuple[int, ...]
    ) -> tuple[int, ...]:
        """One app's hourly values: its level × the local daily cycle × hashed noise, whole
        counts, times the metric's factor (rounded down)."""
        level = (_BASE_MIN + _BASE_SPAN * unit_hash(*key)) * metric.scale
        return tuple(
            math.floor(
                math.floor(
                    level
                    * _daily_cycle(datetime.fromtimestamp(s, zone).hour)
                    * (0.75 + 0.5 * unit_hash(*key, s))
                )
                * metric.factor
            )
            for s in starts
        )

    @staticmethod
    def _segment_hours(
        key: tuple[object, ...], segment: str, unsegmented: tuple[int, ...], starts: tuple[int, ...]
    ) -> tuple[int, ...]:
        """One app's hourly values within `segment`: a hashed share in [0, 1] of the app's."""
        typical = _SEGMENT_MIN + _SEGMENT_SPAN * unit_hash(*key, segment)
        return tuple(
            math.floor(value * min(1.0, typical * (0.8 + 0.4 * unit_hash(*key, segment, s))))
            for value, s in zip(unsegmented, starts, strict=True)
        )

    def hour_seen(self, vectors: DayVectors, index: int, now: float) -> int:
        """Hour `index` of `vectors` as a fetch at `now` reports it (0 if it has not started)."""
        start, end = vectors.hour_starts[index], vectors.hour_ends[index]
        if start > now:
            return 0
        if not self._late:
            return vectors.totals[index]
        share = visible_share(start, end, now, vectors.late_share, self._settle)
        if share is None:
            return vectors.totals[index]
        if vectors.path:
            return sum(split(math.floor(a[index] * share), vectors.path) for a in vectors.per_app)
        return sum(math.floor(app[index] * share) for app in vectors.per_app)

    def day_seen(self, vectors: DayVectors, now: float) -> int:
        """The whole day of `vectors` as a fetch at `now` reports it: the sum of its hours."""
        settled_at = vectors.hour_ends[-1] + (self._settle if self._late else 0)
        if now >= settled_at:
            return vectors.total
        return sum(self.hour_seen(vectors, i, now) for i in range(len(vectors.hour_starts)))
