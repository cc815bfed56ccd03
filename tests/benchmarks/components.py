"""Where the collector's CPU goes per window, measured in-process on real simulator bodies.

    python -m tests.benchmarks.components --endpoint URL --apps a,b,… [--windows N]

Fetches one 100-hour body per app from the simulator, then times, per window of 100 points:
`json.loads` alone, `parse_body` (decode + validate + points; the apps' bodies in turn, as in a
run, so the time-string caches see what they see in a run), and `SQLiteStore.commit` into a
fresh database (newest window first, as the planner orders them). The commit figure is also the
store's write capacity in points per second. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from collector.core.models import Point, Series, Window, WindowResult
from collector.core.streams import SESSIONS
from collector.core.units import Calendar, Unit
from collector.response import parse_body
from collector.store.sqlite import SQLiteStore

POINTS = 100


def _body(endpoint: str, app: str, ending_at: str) -> bytes:
    query = f"length={POINTS}&unit=hour&ending_at={ending_at}&app_id={app}"
    request = urllib.request.Request(
        f"{endpoint}/sessions/data_series?{query}", headers={"Authorization": "Bearer sim-key"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback simulator only
        body: bytes = response.read()
    return body


def measure(endpoint: str, app_ids: Sequence[str], windows: int) -> dict[str, float]:
    calendar = Calendar("UTC")
    ending_at = f"{datetime.now(UTC).year}-01-01T00:00:00Z"
    bodies = [_body(endpoint, app, ending_at) for app in app_ids]
    series = [Series(SESSIONS, (app, ""), Unit.HOUR, calendar) for app in app_ids]
    hi = calendar.ordinal(Unit.HOUR, datetime.fromisoformat(ending_at))
    targets = [Window(s, hi - POINTS, hi, 0, hi) for s in series]
    rounds = max(1, windows // len(app_ids))

    started = time.process_time()
    for _ in range(rounds):
        for body in bodies:
            json.loads(body)
    decode_us = (time.process_time() - started) / (rounds * len(bodies)) * 1e6

    started = time.process_time()
    for _ in range(rounds):
        for window, body in zip(targets, bodies, strict=True):
            points = parse_body(window, body).points
    parse_us = (time.process_time() - started) / (rounds * len(bodies)) * 1e6

    values = [p.value for p in points]
    fetched = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory() as tmp,
        SQLiteStore(Path(tmp) / "c.db") as db,
    ):
        results = []
        for k in range(windows):  # built first: only the commits are timed
            s = series[k % len(series)]
            end = hi - POINTS * (k // len(series))
            pts = tuple(Point(end - POINTS + i, v, "sessions") for i, v in enumerate(values))
            window = Window(s, end - POINTS, end, 0, hi)
            results.append(WindowResult(window, (end - POINTS, end), pts, fetched))
        cpu, wall = time.process_time(), time.perf_counter()
        for result in results:
            db.commit(result)
        commit_cpu = time.process_time() - cpu
        commit_wall = time.perf_counter() - wall
    return {
        "json_loads_us": round(decode_us, 1),
        "parse_body_us": round(parse_us, 1),
        "commit_cpu_us": round(commit_cpu / windows * 1e6, 1),
        "commit_wall_us": round(commit_wall / windows * 1e6, 1),
        "store_points_per_s": round(windows * POINTS / commit_wall),
        "windows": windows,
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.components")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--apps", required=True)
    p.add_argument("--windows", type=int, default=2000)
    args = p.parse_args(argv)
    print(json.dumps(measure(args.endpoint, args.apps.split(","), args.windows)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
