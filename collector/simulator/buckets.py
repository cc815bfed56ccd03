"""Day and hour buckets of a workspace time zone, and which of them a request's series covers.

A day is a calendar day of the zone (23 or 25 hours on DST days). Hours are real elapsed hours
counted from the start of their day, so the two local 01:00 hours of a fall-back day are separate
buckets. Instants are UTC epoch seconds; bucket boundaries are whole seconds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from collector.simulator.config import Alignment

Unit = Literal["day", "hour"]

HOUR_S = 3600
_ONE_DAY = timedelta(days=1)
_CACHED_DAYS = 65_536


class Bucket(NamedTuple):
    """A bucket: `[start, end)` in epoch seconds, its local `day`, its position in that day."""

    start: int
    end: int
    day: date
    position: int  # hour of the day counted from 0; 0 for day buckets


@lru_cache(maxsize=_CACHED_DAYS)
def day_start(zone: ZoneInfo, day: date) -> int:
    """The first instant of the calendar `day` in `zone` (after the gap if midnight is skipped)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())


@lru_cache(maxsize=_CACHED_DAYS)
def hours_of(zone: ZoneInfo, day: date) -> tuple[Bucket, ...]:
    """The hour buckets of `day`: 24, or 23/25 on DST days; the last is cut at the day's end."""
    start, end = day_start(zone, day), day_start(zone, day + _ONE_DAY)
    return tuple(
        Bucket(s, min(s + HOUR_S, end), day, i) for i, s in enumerate(range(start, end, HOUR_S))
    )


def _adjacent_day(zone: ZoneInfo, day: date, step: int) -> date:
    """The calendar day after (`step` 1) or before (-1) `day` that exists in `zone`.

    A zone can skip a whole date (Pacific/Apia skipped 2011-12-30); such a date has no buckets.
    """
    day += step * _ONE_DAY
    while day_start(zone, day) == day_start(zone, day + _ONE_DAY):
        day += step * _ONE_DAY
    return day


def day_bucket(zone: ZoneInfo, day: date) -> Bucket:
    """The bucket of the whole calendar `day`."""
    return Bucket(day_start(zone, day), day_start(zone, day + _ONE_DAY), day, 0)


def containing(unit: Unit, zone: ZoneInfo, instant: float) -> Bucket:
    """The bucket of `unit` that contains `instant`."""
    day = datetime.fromtimestamp(instant, zone).date()
    if unit == "day":
        return day_bucket(zone, day)
    hours = hours_of(zone, day)
    return hours[int(instant - hours[0].start) // HOUR_S]


def previous(unit: Unit, zone: ZoneInfo, bucket: Bucket) -> Bucket:
    """The bucket just before `bucket`."""
    if unit == "day":
        return day_bucket(zone, _adjacent_day(zone, bucket.day, -1))
    if bucket.position > 0:
        return hours_of(zone, bucket.day)[bucket.position - 1]
    return hours_of(zone, _adjacent_day(zone, bucket.day, -1))[-1]


def following(unit: Unit, zone: ZoneInfo, bucket: Bucket) -> Bucket:
    """The bucket just after `bucket`."""
    if unit == "day":
        return day_bucket(zone, _adjacent_day(zone, bucket.day, 1))
    hours = hours_of(zone, bucket.day)
    if bucket.position + 1 < len(hours):
        return hours[bucket.position + 1]
    return hours_of(zone, _adjacent_day(zone, bucket.day, 1))[0]


def last_bucket(unit: Unit, zone: ZoneInfo, ending_at: float, alignment: Alignment) -> Bucket:
    """The last bucket of a series ending at `ending_at` under `alignment` (braze-api.md §1.4).

    exclusive: the bucket holding the instant just before `ending_at` (a boundary is excluded);
    inclusive: the bucket holding `ending_at`; floor_exclusive: the bucket before that one.
    """
    holding = containing(unit, zone, ending_at)
    if alignment == "inclusive" or (alignment == "exclusive" and holding.start != ending_at):
        return holding
    return previous(unit, zone, holding)


def ending_series(
    unit: Unit, zone: ZoneInfo, ending_at: float, length: int, alignment: Alignment
) -> tuple[Bucket, ...]:
    """The `length` consecutive buckets ending with `last_bucket(...)`, ascending."""
    return _series_to(unit, zone, last_bucket(unit, zone, ending_at, alignment), length)


@lru_cache(maxsize=_CACHED_DAYS)
def _series_to(unit: Unit, zone: ZoneInfo, last: Bucket, length: int) -> tuple[Bucket, ...]:
    bucket = last
    series = [bucket]
    for _ in range(length - 1):
        bucket = previous(unit, zone, bucket)
        series.append(bucket)
    return tuple(reversed(series))


def starting_between(unit: Unit, zone: ZoneInfo, start: float, end: float) -> list[Bucket]:
    """Every bucket whose start lies in `[start, end)`, ascending."""
    bucket = containing(unit, zone, start)
    if bucket.start < start:
        bucket = following(unit, zone, bucket)
    series = []
    while bucket.start < end:
        series.append(bucket)
        bucket = following(unit, zone, bucket)
    return series
