"""Stored points out as CSV, JSON Lines or Parquet: one stream at a time, sorted, filtered,
streamed (memory stays flat whatever the size of the database).

Columns (`''` is "all apps", "no segment", "all products", or a level that does not apply):
    scalar streams   <its dimensions>, unit, time, <its value field>
                     e.g. sessions: app_id, segment_id, unit, time, sessions
    campaign_stats   campaign_id, time, channel, variant_id, metric, value
    canvas_stats     canvas_id, time, step_id, variant_id, channel, metric, value
    send_stats       campaign_id, send_id, time, channel, variant_id, metric, value
Days are `YYYY-MM-DD` in the workspace zone, hours `YYYY-MM-DDTHH:MM:SSZ` in UTC. Decimals
(revenue) are the literal digits Braze sent.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from collector.core.models import Value
from collector.core.streams import Stream
from collector.errors import ConfigError
from collector.response import facet_of
from collector.store.base import ReadStore, StoredPoint

FORMATS = ("csv", "jsonl", "parquet")
PARQUET_BATCH_ROWS = 50_000
PARQUET_DECIMAL = (38, 9)  # precision, scale: cents and the fractions Braze's floats carry
Row = tuple[Any, ...]

_NESTED_COLUMNS = {
    "campaign": ("time", "channel", "variant_id", "metric", "value"),
    "send": ("time", "channel", "variant_id", "metric", "value"),
    "canvas": ("time", "step_id", "variant_id", "channel", "metric", "value"),
}


_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def normalise_time(flag: str, text: str | None) -> str | None:
    """A --start/--end as the stored keys compare: a date as `YYYY-MM-DD` (`2024-1-10` is
    `2024-01-10`), a datetime with an offset (or Z) as `YYYY-MM-DDTHH:MM:SSZ` in UTC; anything
    else is a ConfigError with an example, so a selection never silently compares unlike strings.
    """
    if text is None:
        return None
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


@dataclass(frozen=True)
class Selection:
    """Which points: dimension values (absent = all), unit, and a half-open range [start, end).

    `start`/`end` are normalised stored keys: days `YYYY-MM-DD`, hours `YYYY-MM-DDTHH:MM:SSZ`
    (a date selects from/until that day's first hour).
    """

    dims: Mapping[str, frozenset[str]] = field(default_factory=dict)
    unit: str | None = None
    start: str | None = None
    end: str | None = None

    @classmethod
    def of(
        cls,
        dims: Mapping[str, list[str] | None],
        unit: str | None,
        start: str | None,
        end: str | None,
    ) -> Selection:
        return cls(
            {k: frozenset(v) for k, v in dims.items() if v is not None},
            unit,
            normalise_time("--start", start),
            normalise_time("--end", end),
        )

    def points(self, store: ReadStore, workspace: str, stream: Stream) -> Iterator[StoredPoint]:
        wanted = [(i, self.dims[d]) for i, d in enumerate(stream.dimensions) if d in self.dims]
        for p in store.iter_points(workspace, stream.name):
            if (
                all(p.dims[i] in values for i, values in wanted)
                and (self.unit is None or p.unit == self.unit)
                and (self.start is None or p.time >= self.start)
                and (self.end is None or p.time < self.end)
            ):
                yield p

    def rows(self, store: ReadStore, workspace: str, stream: Stream) -> Iterator[Row]:
        return rows_of(stream, self.points(store, workspace, stream))


def columns(stream: Stream) -> list[str]:
    if stream.nested:
        return [*stream.dimensions, *_NESTED_COLUMNS[stream.shape]]
    return [*stream.dimensions, "unit", "time", stream.metric]


def rows_of(stream: Stream, points: Iterable[StoredPoint]) -> Iterator[Row]:
    if not stream.nested:
        for p in points:
            yield (*p.dims, p.unit, p.time, p.value)
        return
    canvas = stream.shape == "canvas"
    for p in points:
        step, variant, channel = facet_of(p.facet)
        if canvas:
            yield (*p.dims, p.time, step, variant, channel, p.metric, p.value)
        else:
            yield (*p.dims, p.time, channel, variant, p.metric, p.value)


def write_text(rows: Iterable[Row], out: TextIO, fmt: str, stream: Stream) -> int:
    """CSV (with a header) or JSON Lines; returns the number of rows written."""
    names = columns(stream)
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow(row)
            count += 1
    else:
        keys = [json.dumps(n) for n in names]
        for row in rows:
            fields = ", ".join(f"{k}: {_json(v)}" for k, v in zip(keys, row, strict=True))
            out.write("{" + fields + "}\n")
            count += 1
    return count


def write_raw(store: ReadStore, workspace: str, stream: Stream, out: TextIO) -> int:
    """One line per stored day object, with the stream's ids beside it."""
    count = 0
    for dims, time, body in store.iter_raw(workspace, stream.name):
        ids = ", ".join(
            f"{json.dumps(n)}: {json.dumps(v, ensure_ascii=False)}"
            for n, v in zip(stream.dimensions, dims, strict=True)
        )
        out.write("{" + ids + f', "time": {json.dumps(time)}, "day": {body}' + "}\n")
        count += 1
    return count


def names(store: ReadStore, workspace: str, stream: Stream) -> Iterator[Row]:
    """The names of a nested stream's variants and steps, as its days gave them (the latest
    day wins): (ids…, kind, id, name), sorted."""
    from collector.core import nested

    read = nested.canvas_day if stream.shape == "canvas" else nested.campaign_day
    found: dict[tuple[Any, ...], str] = {}
    for dims, _, body in store.iter_raw(workspace, stream.name):
        for kind, ident, name in read(json.loads(body, parse_float=Decimal)).names:
            found[(*dims, kind, ident)] = name
    for key in sorted(found):
        yield (*key, found[key])


def name_columns(stream: Stream) -> list[str]:
    return [*stream.dimensions, "kind", "id", "name"]


def write_names(store: ReadStore, workspace: str, stream: Stream, out: TextIO) -> int:
    """The names dimension as CSV: one row per variant or step."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(name_columns(stream))
    count = 0
    for row in names(store, workspace, stream):
        writer.writerow(row)
        count += 1
    return count


def _json(value: object) -> str:
    if isinstance(value, Decimal | int):
        return str(value)  # the literal digits, as a JSON number
    return json.dumps(value, ensure_ascii=False)


def write_parquet(rows: Iterable[Row], path: Path, stream: Stream, unit: str) -> int:
    """Parquet in row groups of PARQUET_BATCH_ROWS, typed: `time` date32 (days) or
    timestamp[us, UTC] (hours), counts int64, decimals decimal128. Needs pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ConfigError(
            "Parquet export needs pyarrow: pip install 'collector[parquet]' (or use --format csv)"
        ) from exc
    names = columns(stream)
    decimal_type = pa.decimal128(*PARQUET_DECIMAL)
    value_type = decimal_type if stream.decimal or stream.nested else pa.int64()
    time_type = pa.date32() if unit == "day" else pa.timestamp("us", tz="UTC")
    types = [
        time_type if n == "time" else value_type if i == len(names) - 1 else pa.string()
        for i, n in enumerate(names)
    ]
    schema = pa.schema(list(zip(names, types, strict=True)))
    time_at = names.index("time")
    count = 0
    rows = iter(rows)
    with pq.ParquetWriter(path, schema) as writer:
        while batch := list(islice(rows, PARQUET_BATCH_ROWS)):
            arrays: list[Any] = []
            for i, t in enumerate(types):
                column = [r[i] for r in batch]
                if i == time_at:
                    column = [_time_value(v, unit) for v in column]
                elif t == decimal_type:
                    column = [_fit(v) for v in column]
                arrays.append(pa.array(column, type=t))
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(batch)
    return count


def _time_value(key: str, unit: str) -> date | datetime:
    if unit == "day":
        return date.fromisoformat(key)
    return datetime.strptime(key, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _fit(value: Value) -> Decimal:
    d = Decimal(value)
    scale = PARQUET_DECIMAL[1]
    if d.as_tuple().exponent < -scale:  # type: ignore[operator]
        raise ConfigError(
            f"the value {value} has more than {scale} decimal places, more than Parquet's "
            "decimal column holds: export it as csv or jsonl (literal digits)"
        )
    return d
