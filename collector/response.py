"""Turn a data_series body into points: strict about shape, lenient about ISO-8601 spellings.

Pure: no I/O. Anything that does not fit raises PayloadError naming the window, so nothing
wrong is ever stored.
"""

from __future__ import annotations

import json
from typing import Any

from collector.core.models import Point, Window
from collector.core.units import Unit, parse_iso
from collector.errors import PayloadError

MAX_VALUE = 2**63 - 1


def parse_body(window: Window, body: bytes) -> list[Point]:
    """The body's buckets as ordered, distinct points of `window`'s series."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(
            f"the body is not valid JSON ({len(body)} bytes)", window=window
        ) from exc
    if not isinstance(doc, dict):
        raise PayloadError("the body is not a JSON object", window=window)
    message = doc.get("message")
    if message != "success":
        raise PayloadError(f"the body's message is {message!r}, not 'success'", window=window)
    data = doc.get("data")
    if not isinstance(data, list):
        raise PayloadError("the body has no 'data' list", window=window)
    return _points(window, data)


def _points(window: Window, data: list[Any]) -> list[Point]:
    series = window.series
    cal, unit, metric = series.calendar, series.unit, series.endpoint.metric
    bucket_of = cal.bucket_of
    points: list[Point] = []
    append = points.append
    previous: int | None = None
    for entry in data:
        if not isinstance(entry, dict):
            raise PayloadError(f"a data entry is not an object: {entry!r:.80}", window=window)
        raw_time, value = entry.get("time"), entry.get(metric)
        if not isinstance(raw_time, str):
            raise PayloadError(f"a data entry has no string 'time': {entry!r:.80}", window=window)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_VALUE:
            raise PayloadError(
                f"{raw_time}: {metric!r} must be a non-negative integer, got {value!r:.40}",
                window=window,
            )
        # Fast path: a canonical time that starts the next bucket is all a healthy body holds.
        ordinal = bucket_of(unit, raw_time)
        if ordinal is not None and (previous is None or ordinal == previous + 1):
            append(Point(ordinal, value))
            previous = ordinal
            continue
        try:
            parsed = parse_iso(raw_time)
            instant = cal.instant(parsed)
            ordinal = cal.ordinal(unit, instant)
            if parsed.offset is None and previous is not None and ordinal <= previous:
                # A naive time repeated at a DST fall-back: the second one is the later hour.
                instant = cal.instant(parsed, fold=1)
                ordinal = cal.ordinal(unit, instant)
            on_boundary = cal.start(unit, ordinal) == instant
        except (ValueError, OverflowError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) else "outside years 1..9999"
            raise PayloadError(f"unreadable time {raw_time!r}: {reason}", window=window) from exc
        if (unit is Unit.HOUR or parsed.has_time) and not on_boundary:
            raise PayloadError(f"time {raw_time!r} is not the start of a {unit}", window=window)
        if previous is not None and ordinal != previous + 1:
            what = "repeated or out of order" if ordinal <= previous else "not contiguous"
            raise PayloadError(f"bucket {raw_time!r} is {what}", window=window)
        append(Point(ordinal, value))
        previous = ordinal
    return points
