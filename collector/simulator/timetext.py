"""Time as text: reading `ending_at` as leniently as Braze's examples need, writing `time` fields.

Accepted `ending_at` forms (braze-api.md §9 rule 10): `YYYY-MM-DD` or
`YYYY-MM-DDTHH:MM[:SS[.f…]]`, each optionally followed by `Z`, `±HH:MM`, `±H:MM` (the docs' own
`-5:00`) or `±HHMM`. Anything else, such as `…T00:00:00 01:00` (an unencoded `+`), is rejected.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from collector.simulator.config import HourTimeFormat

_ENDING_AT = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?)?"
    r"(?:(?P<z>Z)|(?P<sign>[+-])(?:(?P<oh>\d{1,2}):(?P<om>\d{2})|(?P<oh4>\d{2})(?P<om4>\d{2})))?",
    re.ASCII,
)


def parse_ending_at(text: str, naive_zone: tzinfo) -> datetime:
    """The aware instant `text` names; a value without an offset is read in `naive_zone`.

    Raises `ValueError` for anything outside the accepted forms or out of range.
    """
    m = _ENDING_AT.fullmatch(text)
    if m is None:
        raise ValueError(f"unrecognised ending_at {text!r}")
    day = date.fromisoformat(m["date"])
    fraction = (m["fraction"] or "0")[:6].ljust(6, "0")
    wall = datetime(
        day.year,
        day.month,
        day.day,
        int(m["hour"] or 0),
        int(m["minute"] or 0),
        int(m["second"] or 0),
        int(fraction),
    )
    if m["z"]:
        return wall.replace(tzinfo=UTC)
    if m["sign"]:
        hours, minutes = int(m["oh"] or m["oh4"]), int(m["om"] or m["om4"])
        if hours > 23 or minutes > 59:
            raise ValueError(f"offset out of range in ending_at {text!r}")
        offset = timedelta(hours=hours, minutes=minutes)
        return wall.replace(tzinfo=timezone(-offset if m["sign"] == "-" else offset))
    return wall.replace(tzinfo=naive_zone)


def format_day(day: date) -> str:
    """The `time` field of a day bucket: `YYYY-MM-DD`."""
    return day.isoformat()


@lru_cache(maxsize=65_536)
def format_hour(start: int, zone: tzinfo, style: HourTimeFormat) -> str:
    """The `time` field of the hour bucket starting at epoch second `start`, in `style`."""
    if style == "z":
        return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    local = datetime.fromtimestamp(start, zone)
    if style == "naive":
        return local.replace(tzinfo=None).isoformat(timespec="seconds")
    if style == "fractional":
        return local.isoformat(timespec="milliseconds")
    return local.isoformat(timespec="seconds")
