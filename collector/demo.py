"""`collector demo` (what `make run` runs): a real backfill against the embedded simulator.

The simulator runs in-process on loopback with a server quota lower than the rate the collector
is told, latency, and faults switched on; the collector backfills two years of days and two
months of hours for every app × segment, checks every stored point against the simulator's
truth, and leaves the database and a CSV export in the output folder.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from collector.config import Job, build_job, settings_from
from collector.core.models import DEFAULT_WORKSPACE, Series, SeriesKey
from collector.core.streams import SESSIONS, STREAMS
from collector.observe.summary import print_summary
from collector.pipeline import collect
from collector.readout.export import Selection, write_text
from collector.simulator import (
    ApiKey,
    Faults,
    PoolLimit,
    Segment,
    Simulator,
    SimulatorConfig,
    Workspace,
    run_simulator,
)
from collector.store import open_read_store
from collector.store.base import ReadStore

DEMO_KEY = "demo-key-not-secret"
APPS = ("app-ios", "app-android", "app-web")
SEGMENTS = ("power-users", "lapsed")
ZONE = "America/New_York"


def demo_config() -> SimulatorConfig:
    return SimulatorConfig(
        workspaces=(
            Workspace(
                timezone=ZONE,
                apps=APPS,
                segments=(
                    *(Segment(s) for s in SEGMENTS),
                    Segment("not-tracked", analytics_tracking=False),
                ),
            ),
        ),
        keys=(ApiKey(DEMO_KEY),),
        rate_limit=200,
        rate_window_s=2,
        # The list and purchase pools are 1,000/h at Braze; the demo's windows are short so it
        # ends in seconds (the budget spreads a pool's remaining requests over its window).
        pool_limits=(PoolLimit("export-lists", 100, 2), PoolLimit("purchases", 100, 2)),
        faults=Faults.uniform(0.04, seed=7, latency_ms=15.0),
        # Conversions credited after the fact would move recent campaign days between the
        # fetch and the check; the tests cover them (sync lookback), the demo checks exactly.
        late_conversions=False,
    )


STREAMS_DAILY = (
    "sessions",
    "dau",
    "mau",
    "new_users",
    "uninstalls",
    "events",
    "purchase_revenue",
    "segment_size",
)


async def run(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    db, csv_path, png_path = (
        folder / "collector.db",
        folder / "sessions.csv",
        folder / "sessions.png",
    )
    config = demo_config()
    ok = True
    async with run_simulator(config) as sim:
        print(
            f"collector demo: embedded Braze simulator at {sim.url} (zone {ZONE}, server quota "
            f"{config.rate_limit} per {config.rate_window_s}s, ~4% injected faults, 15 ms latency); "
            f"the collector is told 150/s and must learn the real quota from the headers"
        )
        now = datetime.now(UTC)
        runs = (
            ("day", now - timedelta(days=730), STREAMS_DAILY),
            ("hour", now - timedelta(days=61), ("sessions",)),
            ("day", now - timedelta(days=730), ("campaign_stats", "canvas_stats")),
        )
        for unit, start, streams in runs:
            settings = settings_from(
                {},
                {
                    "start": start.date().isoformat(),
                    "unit": unit,
                    "stream": list(streams),
                    "app_id": ["", *APPS],
                    "segment_id": ["", "*"],
                    "event": ["*"],
                    "product": [""],
                    "campaign_id": ["*"],
                    "canvas_id": ["*"],
                    "endpoint": sim.url,
                    "db": str(db),
                    "timezone": ZONE,
                    "rate_limit": ["150/s", "export-lists=50/s", "purchases=50/s"],
                },
                env={},
            )
            job = build_job("backfill", settings, env={"BRAZE_API_KEY": DEMO_KEY})
            report = await collect(job)
            print(f"{unit}s ({', '.join(streams)}):")
            print_summary(report, sys.stdout)
            ok = ok and report.complete
            keys = [series_of(k, job) for k in report.series]
            nested = [k for k in keys if k.stream.nested]
            mismatches = verify(
                db, [k for k in keys if not k.stream.nested], job.start or 0, job.end, sim
            )
            mismatches = mismatches or verify_nested(db, nested, sim)
            ok = ok and not mismatches
            print(
                "        verified against the simulator's truth: "
                f"{mismatches or 'every point equal, none missing, none extra'}"
            )
    with open_read_store(str(db)) as store, csv_path.open("w", encoding="utf-8") as f:
        rows = write_text(Selection().rows(store, DEFAULT_WORKSPACE, SESSIONS), f, "csv", SESSIONS)
        picture = _plot(store, png_path)
    print(f"database: {db}   CSV export: {csv_path} ({rows} rows)   {picture}")
    print(f"next: .venv/bin/collector status --db {db}")
    return 0 if ok else 1


def _plot(store: ReadStore, out: Path) -> str:
    """The daily totals per app as a picture, when matplotlib (the `plot` extra) is installed."""
    from collector.errors import ConfigError
    from collector.readout.plot import plot

    try:
        selection = Selection({"segment_id": frozenset({""})}, "day")
        lines = plot(store, DEFAULT_WORKSPACE, (SESSIONS,), selection, out)
    except ConfigError as exc:
        return f"(no plot: {exc})"
    return f"plot: {out} ({lines} series)"


def series_of(key: SeriesKey, job: Job) -> Series:
    workspace, stream, dims, _ = key
    return Series(STREAMS[stream], tuple(json.loads(dims)), job.unit, job.calendar, workspace)


def expected_points(sim: Simulator, series: Sequence[Series], lo: int, hi: int) -> dict[Any, Any]:
    """(stream, dims, time key) → the simulator's value, for buckets [lo, hi) of scalar `series`."""
    expected: dict[Any, Any] = {}
    for s in series:
        cal, unit = s.calendar, s.unit
        truth = sim.truth(
            "day" if unit.value == "day" else "hour",
            cal.start(unit, lo),
            cal.start(unit, hi),
            path=s.stream.path,
            app_id=s.dim("app_id") or None,
            segment_id=s.dim("segment_id") or None,
            event=s.dim("event") or None,
            product=s.dim("product") or None,
        )
        for start, value in truth:
            expected[(s.stream.name, s.dims, cal.key(unit, cal.ordinal(unit, start)))] = value
    return expected


def verify(db: Path, series: Sequence[Series], lo: int, hi: int, sim: Simulator) -> str:
    """'' when the store holds exactly the simulator's truth for these series, else a count."""
    if not series:
        return ""
    unit = series[0].unit.value
    names = {s.stream.name for s in series}
    wanted = {(s.stream.name, s.dims) for s in series}
    with open_read_store(str(db)) as store:
        stored = {
            (name, p.dims, p.time): p.value
            for name in names
            for p in store.iter_points(DEFAULT_WORKSPACE, name)
            if p.unit == unit and (name, p.dims) in wanted
        }
    expected = expected_points(sim, series, lo, hi)
    wrong = sum(1 for k, v in expected.items() if stored.get(k) != v)
    extra = len(stored.keys() - expected.keys())
    return f"{wrong} point(s) missing or different, {extra} extra" if wrong or extra else ""


def verify_nested(db: Path, series: Sequence[Series], sim: Simulator) -> str:
    """'' when every stored day object equals the simulator's and every numeric leaf of it is
    one stored point, else a count."""
    if not series:
        return ""
    wrong = leaves = points = 0
    with open_read_store(str(db)) as store:
        for stream in {s.stream for s in series}:
            raws = {
                (dims, t): body for dims, t, body in store.iter_raw(DEFAULT_WORKSPACE, stream.name)
            }
            points += sum(1 for _ in store.iter_points(DEFAULT_WORKSPACE, stream.name))
            for (dims, t), body in raws.items():
                day = json.loads(body, parse_float=Decimal)
                leaves += _leaves({k: v for k, v in day.items() if k != "time"})
                start = datetime.combine(date.fromisoformat(t), datetime.min.time(), ZoneInfo(ZONE))
                ids = dict(zip(stream.dimensions, dims, strict=True))
                truth = sim.truth_days(stream.path, start, start + timedelta(days=1), **ids)
                wrong += 0 if truth == [day] else 1
    if wrong or leaves != points:
        return f"{wrong} day(s) differ, {points} points for {leaves} numeric leaves"
    return ""


def _leaves(value: object) -> int:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return 0
    if isinstance(value, dict):
        return sum(_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(_leaves(v) for v in value)
    return 1
