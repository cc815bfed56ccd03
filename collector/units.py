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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collector.errors import ConfigError

HOUR = 3600
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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

    def is_boundary(self, unit: Unit, instant: datetime) -> bool:
        return self.start(unit, self.ordinal(unit, instant)) == instant

    def key(self, unit: Unit, ordinal: int) -> str:
        """The stored and exported name of a bucket: local date, or UTC hour start with ``Z``."""
        if unit is Unit.DAY:
            return date.fromordinal(ordinal).isoformat()
        return utc_z(self.start(unit, ordinal))

    def from_key(self, unit: Unit, key: str) -> int:
        """Inverse of `key`."""
        if unit is Unit.DAY:
            return date.fromisoformat(key).toordinal()
        return self.ordinal(unit, datetime.fromisoformat(key))

    def current(self, unit: Unit, now: datetime) -> int:
        """The bucket in progress at `now`; every bucket before it is complete."""
        return self.ordinal(unit, now)

    # --- reading times ----------------------------------------------------------------------

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


def utc_z(instant: datetime) -> str:
    """``2024-03-01T13:00:00Z``: the form collector sends and exports."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
