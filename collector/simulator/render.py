"""Writing bodies: the fast scalar-series writer, JSON for everything else, money and instants.

Money is an integer number of cents, written as the shortest decimal that reads back exactly with
at least one decimal digit (1200 → 12.0, 1705 → 17.05, 1710 → 17.1): the `repr` of `cents / 100`,
a correctly rounded float, which is exact for any amount below 10^13 units.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from collector.simulator.buckets import Bucket, Unit
from collector.simulator.config import HourTimeFormat
from collector.simulator.timetext import format_day, format_hour


def money(cents: int) -> float:
    """`cents` as the float JSON writes as its decimal amount."""
    return cents / 100


def money_text(cents: int) -> str:
    """`cents` as JSON text: `12.0`, `17.05`."""
    return repr(cents / 100)


def instant_text(when: datetime) -> str:
    """A datetime as Braze writes them in lists and details: `2022-11-29T14:59:02+00:00`."""
    return when.astimezone(UTC).isoformat(timespec="seconds")


def json_body(obj: Any) -> bytes:
    """`obj` as a UTF-8 JSON body (non-ASCII raw, control characters escaped)."""
    return json.dumps(obj, ensure_ascii=False).encode()


def series_body(
    field_name: str,
    unit: Unit,
    zone: ZoneInfo,
    reported: list[tuple[Bucket, int]],
    hour_format: HourTimeFormat,
    text: Callable[[int], str] = str,
) -> bytes:
    """The success body: `{"data": [{"time": …, field: n}, …], "message": "success"}`.

    Written by hand (4× faster than `json.dumps` on 100 points): the time labels are plain ASCII
    digits and punctuation, values go through `text`, the field name through `json.dumps`.
    """
    key = json.dumps(field_name)
    if unit == "day":
        times = [format_day(b.day) for b, _ in reported]
    else:
        times = [format_hour(b.start, zone, hour_format) for b, _ in reported]
    items = ", ".join(
        [f'{{"time": "{t}", {key}: {text(v)}}}' for t, (_, v) in zip(times, reported, strict=True)]
    )
    return f'{{"data": [{items}], "message": "success"}}'.encode()
