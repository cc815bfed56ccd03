"""Stored points out as CSV, JSON Lines or Parquet: sorted, filtered, streamed (memory stays
flat whatever the size of the database)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from collector.endpoints import SESSIONS, Endpoint
from collector.errors import ConfigError
from collector.store.sqlite import SQLiteStore

FORMATS = ("csv", "jsonl", "parquet")
PARQUET_BATCH_ROWS = 50_000
Row = tuple[str, str, str, str, int]


@dataclass(frozen=True)
class Selection:
    """Which points: series ids (None = all), unit, and a half-open time range [start, end).

    `start`/`end` compare with the stored time keys: days ``YYYY-MM-DD``, hours
    ``YYYY-MM-DDTHH:MM:SSZ`` (a date selects from/until that day's first hour). They are
    normalised to those forms on construction (``2024-1-10`` is ``2024-01-10``; a datetime with
    an offset becomes UTC), and anything else is a ConfigError, so a selection never silently
    compares unlike strings.
    """

    app_ids: frozenset[str] | None = None
    segment_ids: frozenset[str] | None = None
    unit: str | None = None
    start: str | None = None
    end: str | None = None

    def __post_init__(self) -> None:
        for flag in ("start", "end"):
            text = getattr(self, flag)
            if text is not None:
                object.__setattr__(self, flag, selection_time(f"--{flag}", text))

    def rows(self, store: SQLiteStore, endpoint: Endpoint = SESSIONS) -> Iterator[Row]:
        for row in store.iter_points(endpoint.name):
            app, segment, unit, time, _ = row
            if (
                (self.app_ids is None or app in self.app_ids)
                and (self.segment_ids is None or segment in self.segment_ids)
                and (self.unit is None or unit == self.unit)
                and (self.start is None or time >= self.start)
                and (self.end is None or time < self.end)
            ):
                yield row


_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def selection_time(flag: str, text: str) -> str:
    """`text` as a stored time key: a date as ``YYYY-MM-DD``, a datetime with an offset (or Z)
    as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC; else ConfigError with an example."""
    hint = (
        f"{flag} {text!r} is not a date or a datetime with an offset: use e.g. {flag} 2024-01-10 "
        f"or {flag} 2024-01-10T06:00:00Z"
    )
    value = text.strip()
    try:
        if m := _DATE.match(value):
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(hint) from exc
    if moment.tzinfo is None:
        raise ConfigError(hint + " (stored hours are UTC, so a datetime needs its offset)")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def columns(endpoint: Endpoint = SESSIONS) -> list[str]:
    return ["app_id", "segment_id", "unit", "time", endpoint.metric]


def write_text(rows: Iterable[Row], out: TextIO, fmt: str, endpoint: Endpoint = SESSIONS) -> int:
    """CSV (with a header) or JSON Lines; returns the number of rows written.

    '' is the workspace total / no segment; days are ``YYYY-MM-DD`` in the workspace zone,
    hours ``YYYY-MM-DDTHH:MM:SSZ`` in UTC.
    """
    names = columns(endpoint)
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow(row)
            count += 1
    else:
        for row in rows:
            out.write(json.dumps(dict(zip(names, row, strict=True))) + "\n")
            count += 1
    return count


def write_parquet(rows: Iterable[Row], path: Path, endpoint: Endpoint = SESSIONS) -> int:
    """Parquet in row groups of PARQUET_BATCH_ROWS; needs the `parquet` extra (pyarrow)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ConfigError(
            "Parquet export needs pyarrow: pip install 'collector[parquet]' (or use --format csv)"
        ) from exc
    names = columns(endpoint)
    schema = pa.schema([(n, pa.string()) for n in names[:4]] + [(names[4], pa.int64())])
    count = 0
    rows = iter(rows)
    with pq.ParquetWriter(path, schema) as writer:
        while batch := list(islice(rows, PARQUET_BATCH_ROWS)):
            arrays: list[Any] = [
                pa.array([r[i] for r in batch], type=schema.field(i).type) for i in range(5)
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(batch)
    return count
