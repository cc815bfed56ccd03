"""Day and hour buckets in a workspace time zone, and every ISO-8601 form Braze may send.

A bucket is named by an integer *ordinal* so the planner can do plain integer arithmetic:

- ``day``: the proleptic Gregorian ordinal of the calendar date in the workspace zone
  (``date.toordinal()``). DST days are 23 or 25 hours long; that is the zone's business.
- ``hour``: the number of whole hours between the epoch and the bucket start, counted on the
  zone's hour grid (a zone at UTC+05:30 starts its hours at :30 UTC). Hours are elapsed hours,
  so the repeated 01:00 of a DST fall-back is two buckets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collector.errors import ConfigError

HOUR = 3600
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
# Hour keys between these epoch seconds come from `isoformat`, which is 3× faster than
# `strftime` and spells them the same (strftime does not zero-pad years below 1000).
_FAST_KEYS = (-30_610_224_000, 253_402_300_800)  # 1000-01-01, 10000-01-01
# The canonical spellings `bucket_of` reads directly: the length of the wall-time part
# (YYYY-MM-DDTHH:MM:SS, optionally .mmm or .ffffff) → the `isoformat` timespec that writes it.
_TIMESPEC = {19: "seconds", 23: "milliseconds", 26: "microseconds"}
_fromisoformat = datetime.fromisoformat


class Unit(StrEnum):
    """The two granularities of Braze's data_series endpoints."""

    DAY = "day"
    HOUR = "hour"


_ISO = re.compile(
    r"""^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})
    (?:[Tt ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?
    (?P<tz>[Zz]|[+-]\d{1,2}(?::?\d{2})?)?$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class IsoTime:
    """A parsed ISO-8601 string: wall time, its offset if it had one, and whether it had a time."""

    wall: datetime  # naive
    offset: timedelta | None
    has_time: bool


def parse_iso(text: str) -> IsoTime:
    """Parse a date or datetime: ``Z``, ``±HH:MM``, ``±H:MM``, ``±HHMM``, no offset, fractions."""
    m = _ISO.match(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not an ISO-8601 date or datetime")
    frac = (m["f"] or "0")[:6].ljust(6, "0")
    wall = datetime(
        int(m["y"]),
        int(m["mo"]),
        int(m["d"]),
        int(m["h"] or 0),
        int(m["mi"] or 0),
        int(m["s"] or 0),
        int(frac),
    )
    return IsoTime(wall=wall, offset=_offset(m["tz"]), has_time=m["h"] is not None)


def _offset(tz: str | None) -> timedelta | None:
    if tz is None:
        return None
    if tz in "Zz":
        return timedelta(0)
    sign = -1 if tz[0] == "-" else 1
    body = tz[1:].replace(":", "")
    hours, minutes = (body[:-2], body[-2:]) if len(body) > 2 else (body, "0")
    if int(minutes) >= 60 or int(hours) > 23:
        raise ValueError(f"UTC offset {tz!r} is out of range")
    return sign * timedelta(hours=int(hours), minutes=int(minutes))


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or a ConfigError that says how to name one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {name!r}: use an IANA name such as 'UTC', 'Europe/Berlin' "
            "or 'America/New_York' (the workspace time zone in Braze's settings)"
        ) from exc


@dataclass(frozen=True)
class Calendar:
    """Bucket arithmetic for one workspace time zone."""

    zone_name: str = "UTC"
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _hour_phase: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        zone = load_zone(self.zone_name)
        phases = {
            int(zone.utcoffset(datetime(year, month, 1)).total_seconds()) % HOUR  # type: ignore[union-attr]
            for year in (2000, 2024)
            for month in (1, 7)
        }
        object.__setattr__(self, "zone", zone)
        object.__setattr__(self, "_hour_phase", phases.pop() if len(phases) == 1 else -1)

    # --- ordinals -------------------------------------------------------------------------

    def ordinal(self, unit: Unit, instant: datetime) -> int:
        """The bucket containing `instant` (aware)."""
        if unit is Unit.DAY:
            return instant.astimezone(self.zone).date().toordinal()
        self._require_hour_grid()
        seconds = int((instant - EPOCH).total_seconds() // 1)
        return (seconds - self._hour_phase) // HOUR

    def start(self, unit: Unit, ordinal: int) -> datetime:
        """The aware UTC instant at which bucket `ordinal` starts."""
        if unit is Unit.DAY:
            local = datetime.combine(date.fromordinal(ordinal), datetime.min.time(), self.zone)
            return local.astimezone(UTC)
        self._require_hour_grid()
        return EPOCH + timedelta(seconds=ordinal * HOUR + self._hour_phase)

    def key(self, unit: Unit, ordinal: int) -> str:
        """The stored and exported name of a bucket: local date, or UTC hour start with ``Z``."""
        if unit is Unit.DAY:
            return date.fromordinal(ordinal).isoformat()
        self._require_hour_grid()
        seconds = ordinal * HOUR + self._hour_phase
        if _FAST_KEYS[0] <= seconds < _FAST_KEYS[1]:
            return _hour_key(seconds)
        return utc_z(self.start(unit, ordinal))

    def keys(self, unit: Unit, ordinals: Iterable[int]) -> list[str]:
        """`key` of each ordinal, for a window's points at once: hours are spelled from a
        per-day date string and the time of day, not a datetime each (a third of a commit)."""
        if unit is Unit.DAY:
            return [date.fromordinal(o).isoformat() for o in ordinals]
        self._require_hour_grid()
        if self._hour_phase:
            return [self.key(unit, o) for o in ordinals]
        low, high = _FAST_KEYS[0] // HOUR, _FAST_KEYS[1] // HOUR
        days: dict[int, str] = {}
        out: list[str] = []
        append = out.append
        for ordinal in ordinals:
            if not low <= ordinal < high:
                append(self.key(unit, ordinal))
                continue
            day, hour = divmod(ordinal, 24)
            text = days.get(day)
            if text is None:
                text = days[day] = (_EPOCH_NAIVE.date() + timedelta(days=day)).isoformat()
            append(text + _HOUR_SUFFIX[hour])
        return out

    def from_key(self, unit: Unit, key: str) -> int:
        """Inverse of `key`."""
        if unit is Unit.DAY:
            return date.fromisoformat(key).toordinal()
        return self.ordinal(unit, datetime.fromisoformat(key))

    def current(self, unit: Unit, now: datetime) -> int:
        """The bucket in progress at `now`; every bucket before it is complete."""
        return self.ordinal(unit, now)

    # --- reading times ----------------------------------------------------------------------

    def bucket_of(self, unit: Unit, text: str) -> int | None:
        """The bucket that `text` starts, read fast from the canonical spellings, else None.

        Read here: a plain date `YYYY-MM-DD` (unit day, in the workspace zone), and for unit hour
        an ISO-8601 extended datetime with `Z` or `±HH:MM` (and optionally `.mmm` or `.ffffff`)
        that starts an hour of the grid. Anything else returns None: the caller then goes the
        general way (`parse_iso`, `instant`, `ordinal`, `start`), which reads every other form
        and explains what is wrong. Where this answers, it answers what that way would.
        """
        if unit is Unit.DAY:
            if len(text) != 10:
                return None
            try:
                day = date.fromisoformat(text)
            except ValueError:
                return None
            if day.isoformat() != text:
                return None
            return self.ordinal(unit, self.localize(datetime(day.year, day.month, day.day)))
        phase = self._hour_phase
        seconds = _whole_seconds(text)
        if seconds is None or phase < 0:
            return None
        ordinal, off_grid = divmod(seconds - phase, HOUR)
        return None if off_grid else ordinal

    def localize(self, wall: datetime, *, fold: int = 0) -> datetime:
        """A naive wall time read in the workspace zone, as an aware UTC instant."""
        return wall.replace(tzinfo=self.zone, fold=fold).astimezone(UTC)

    def instant(self, parsed: IsoTime, *, fold: int = 0) -> datetime:
        """The instant a parsed string names; no offset means the workspace zone."""
        if parsed.offset is None:
            return self.localize(parsed.wall, fold=fold)
        return parsed.wall.replace(tzinfo=timezone(parsed.offset)).astimezone(UTC)

    def _require_hour_grid(self) -> None:
        if self._hour_phase < 0:
            raise ConfigError(
                f"time zone {self.zone_name!r} changes its offset by a fraction of an hour, so its "
                "hourly buckets are not a fixed grid; collect unit 'day' for this workspace"
            )


# Every series of a run is fetched over the same hours, so the same few hundred time strings
# recur from window to window: both conversions are pure, and a small cache makes a repeat
# cost a dict lookup. Bounded, so memory does not grow with history.
_CACHED_TIMES = 4096
_HOUR_SUFFIX = tuple(f"T{h:02d}:00:00Z" for h in range(24))


@lru_cache(maxsize=_CACHED_TIMES)
def _whole_seconds(text: str) -> int | None:
    """Epoch seconds of a canonical aware datetime on a whole second, else None.

    Canonical: what `isoformat` writes (seconds, milliseconds or microseconds) with `±HH:MM`,
    or the same with `Z` for +00:00; the round trip rules out every other spelling that
    `fromisoformat` would accept, so the answer is the one `parse_iso` + `instant` give.
    """
    zulu = text[-1:] == "Z"
    wall_length = len(text) - (1 if zulu else 6)
    timespec = _TIMESPEC.get(wall_length)
    if timespec is None:
        return None
    try:
        instant = _fromisoformat(text)
        if instant.tzinfo is None or instant.microsecond:
            return None
        spelled = instant.isoformat(timespec=timespec)
        if (spelled[:wall_length] + "Z" if zulu else spelled) != text:
            return None  # not canonical (e.g. -00:00, a space, other digits): the long way
        return int(instant.timestamp())
    except (ValueError, OverflowError):
        return None


@lru_cache(maxsize=_CACHED_TIMES)
def _hour_key(seconds: int) -> str:
    """`utc_z` of the epoch second `seconds` (between `_FAST_KEYS`), without strftime."""
    return (_EPOCH_NAIVE + timedelta(seconds=seconds)).isoformat() + "Z"


def utc_z(instant: datetime) -> str:
    """``2024-03-01T13:00:00Z``: the form collector sends and exports."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
