"""Turn a data_series body into points: strict about shape, lenient about ISO-8601 spellings.

Pure: no I/O. Anything that does not fit raises PayloadError naming the window, so nothing
wrong is ever stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from collector.core.models import Point, Window
from collector.core.units import Unit, parse_iso
from collector.errors import PayloadError

MAX_VALUE = 2**63 - 1


@dataclass(frozen=True)
class Parsed:
    """A body's points, and (nested streams) each day's raw object as JSON text."""

    points: list[Point]
    raw: tuple[tuple[int, str], ...] = ()

    @property
    def buckets(self) -> list[Point]:
        """One point per bucket answered, for alignment (a nested day holds many points)."""
        return [Point(o, 0) for o, _ in self.raw] if self.raw else self.points


def parse_body(window: Window, body: bytes) -> Parsed:
    """The body's buckets as ordered, distinct points of `window`'s series."""
    stream = window.series.stream
    try:
        if stream.decimal or stream.nested:
            doc = json.loads(body, parse_float=Decimal, parse_constant=_no_constant)
        else:
            doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PayloadError(
            f"the body is not valid JSON ({len(body)} bytes)", window=window
        ) from exc
    if not isinstance(doc, dict):
        raise PayloadError("the body is not a JSON object", window=window)
    message = doc.get("message")
    if message != "success":
        raise PayloadError(f"the body's message is {message!r:.80}, not 'success'", window=window)
    data = doc.get("data")
    if stream.shape == "canvas":
        return _nested(window, data)
    if not isinstance(data, list):
        raise PayloadError("the body has no 'data' list", window=window)
    if stream.nested:
        return _nested(window, data)
    return Parsed(_scalar(window, data))


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def _scalar(window: Window, data: list[Any]) -> list[Point]:
    stream = window.series.stream
    metric, decimal = stream.metric, stream.decimal
    points: list[Point] = []
    append = points.append
    for ordinal, entry in _days(window, data):
        value = entry.get(metric)
        if not (_count(value) or (decimal and _money(value))):
            kind = "a non-negative decimal" if decimal else "a non-negative integer"
            raise PayloadError(
                f"{entry.get('time')}: {metric!r} must be {kind}, got {value!r:.40}",
                window=window,
            )
        append(Point(ordinal, value, metric))  # type: ignore[arg-type]  # checked above
    return points


def _count(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_VALUE


def _money(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and 0 <= value <= MAX_VALUE


def _nested(window: Window, data: Any) -> Parsed:
    from collector.core import nested

    stream = window.series.stream
    try:
        days = nested.canvas_days(data) if stream.shape == "canvas" else data
        read = nested.canvas_day if stream.shape == "canvas" else nested.campaign_day
        points: list[Point] = []
        raw: list[tuple[int, str]] = []
        for ordinal, entry in _days(window, days):
            leaves = read(entry)
            points.extend(
                Point(ordinal, value, metric, facet_text(facet))
                for facet, metric, value in leaves.points
            )
            raw.append((ordinal, json.dumps(entry, default=_json_number, ensure_ascii=False)))
    except nested.NestedError as exc:
        raise PayloadError(str(exc), window=window) from exc
    return Parsed(points, tuple(raw))


def facet_text(facet: tuple[str, str, str]) -> str:
    """(step_id, variant_id, channel) as the store keeps it; "" for a total."""
    if not any(facet):
        return ""
    return json.dumps(list(facet), ensure_ascii=False, separators=(",", ":"))


def facet_of(text: str) -> tuple[str, str, str]:
    if not text:
        return ("", "", "")
    step, variant, channel = json.loads(text)
    return (step, variant, channel)


def _json_number(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)  # shortest round-trip repr: 17.05 and 12.0 come back as sent
    raise TypeError(f"{type(value).__name__} is not JSON")


def _days(window: Window, data: list[Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each data entry with its bucket ordinal: contiguous, ordered, on unit boundaries."""
    series = window.series
    cal, unit = series.calendar, series.unit
    bucket_of = cal.bucket_of
    previous: int | None = None
    for entry in data:
        if not isinstance(entry, dict):
            raise PayloadError(f"a data entry is not an object: {entry!r:.80}", window=window)
        raw_time = entry.get("time")
        if not isinstance(raw_time, str):
            raise PayloadError(f"a data entry has no string 'time': {entry!r:.80}", window=window)
        # Fast path: a canonical time that starts the next bucket is all a healthy body holds.
        ordinal = bucket_of(unit, raw_time)
        if ordinal is not None and (previous is None or ordinal == previous + 1):
            previous = ordinal
            yield ordinal, entry
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
            raise PayloadError(
                f"unreadable time {raw_time!r:.60}: {reason}", window=window
            ) from exc
        if (unit is Unit.HOUR or parsed.has_time) and not on_boundary:
            raise PayloadError(f"time {raw_time!r:.60} is not the start of a {unit}", window=window)
        if previous is not None and ordinal != previous + 1:
            what = "repeated or out of order" if ordinal <= previous else "not contiguous"
            raise PayloadError(f"bucket {raw_time!r:.60} is {what}", window=window)
        previous = ordinal
        yield ordinal, entry
