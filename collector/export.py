"""Stored points out as CSV or JSON Lines, sorted, streamed row by row (memory stays flat)."""

from __future__ import annotations

import csv
import json
from typing import TextIO

from collector.endpoints import SESSIONS, Endpoint
from collector.store import SQLiteStore

FORMATS = ("csv", "jsonl")


def export(store: SQLiteStore, out: TextIO, fmt: str, endpoint: Endpoint = SESSIONS) -> int:
    """Write every point of `endpoint`; returns the number of rows written.

    Columns: app_id, segment_id, unit, time, <metric>; '' is the workspace total / no segment;
    days are ``YYYY-MM-DD`` in the workspace zone, hours ``YYYY-MM-DDTHH:MM:SSZ`` in UTC.
    """
    columns = ["app_id", "segment_id", "unit", "time", endpoint.metric]
    rows = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in store.iter_points(endpoint.name):
            writer.writerow(row)
            rows += 1
    else:
        for row in store.iter_points(endpoint.name):
            out.write(json.dumps(dict(zip(columns, row, strict=True))) + "\n")
            rows += 1
    return rows
