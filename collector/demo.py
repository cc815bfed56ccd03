"""`collector demo` (what `make run` runs): a real backfill against the embedded simulator.

The simulator runs in-process on loopback with a server quota lower than the rate the collector
is told, latency, and faults switched on; the collector backfills two years of days and two
months of hours for every app × segment, checks every stored point against the simulator's
truth, and leaves the database and a CSV export in the output folder.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from collector.config import build_job, settings_from
from collector.core.models import Series
from collector.observe.summary import print_summary
from collector.pipeline import collect
from collector.readout.export import Selection, write_text
from collector.simulator import (
    ApiKey,
    Faults,
    Segment,
    Simulator,
    SimulatorConfig,
    Workspace,
    run_simulator,
)
from collector.store.sqlite import SQLiteStore

DEMO_KEY = "demo-key-not-secret"
APPS = ("app-ios", "app-android", "app-web")
SEGMENTS = ("power-users", "lapsed")
ZONE = "America/New_York"


def demo_config() -> SimulatorConfig:
    return SimulatorConfig(
        workspaces=(
            Workspace(timezone=ZONE, apps=APPS, segments=tuple(Segment(s) for s in SEGMENTS)),
        ),
        keys=(ApiKey(DEMO_KEY),),
        rate_limit=200,
        rate_window_s=2,
        faults=Faults.uniform(0.04, seed=7, latency_ms=15.0),
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
        for unit, start in (("day", now - timedelta(days=730)), ("hour", now - timedelta(days=61))):
            settings = settings_from(
                {},
                {
                    "start": start.date().isoformat(),
                    "unit": unit,
                    "app_id": ["", *APPS],
                    "segment_id": ["", *SEGMENTS],
                    "endpoint": sim.url,
                    "db": db,
                    "timezone": ZONE,
                    "rate_limit": "150/s",
                },
            )
            job = build_job("backfill", settings, env={"BRAZE_API_KEY": DEMO_KEY})
            report = await collect(job)
            print(f"{unit}s:  ", end="")
            print_summary(report, sys.stdout)
            ok = ok and report.complete
            mismatches = _verify(db, job.series, job.start or 0, job.end, sim)
            ok = ok and not mismatches
            print(
                f"        verified against the simulator's truth: {mismatches or 'every point equal, none missing, none extra'}"
            )
    with (
        SQLiteStore(db, timezone=None, read_only=True) as store,
        csv_path.open("w", encoding="utf-8") as f,
    ):
        rows = write_text(Selection().rows(store), f, "csv")
        picture = _plot(store, png_path)
    print(f"database: {db}   CSV export: {csv_path} ({rows} rows)   {picture}")
    print(f"next: .venv/bin/collector status --db {db}")
    return 0 if ok else 1


def _plot(store: SQLiteStore, out: Path) -> str:
    """The daily totals per app as a picture, when matplotlib (the `plot` extra) is installed."""
    from collector.errors import ConfigError
    from collector.readout.plot import plot

    try:
        lines = plot(store, Selection(segment_ids=frozenset({""}), unit="day"), out)
    except ConfigError as exc:
        return f"(no plot: {exc})"
    return f"plot: {out} ({lines} series)"


def expected_points(
    sim: Simulator, series: Sequence[Series], lo: int, hi: int
) -> dict[tuple[str, str, str], int]:
    """(app_id, segment_id, time key) → the simulator's value, for buckets [lo, hi) of `series`."""
    expected = {}
    for s in series:
        cal, unit = s.calendar, s.unit
        for start, value in sim.truth(
            unit.value,
            cal.start(unit, lo),
            cal.start(unit, hi),
            app_id=s.app_id or None,
            segment_id=s.segment_id or None,
        ):
            expected[(s.app_id, s.segment_id, cal.key(unit, cal.ordinal(unit, start)))] = value
    return expected


def _verify(db: Path, series: tuple[Series, ...], lo: int, hi: int, sim: Simulator) -> str:
    """'' when the store holds exactly the simulator's truth for these series, else a count."""
    unit = series[0].unit
    with SQLiteStore(db, timezone=None, read_only=True) as store:
        stored = {
            (app, segment, time): value
            for app, segment, u, time, value in store.iter_points("sessions")
            if u == unit.value
        }
    expected = expected_points(sim, series, lo, hi)
    wrong = sum(1 for k, v in expected.items() if stored.get(k) != v)
    extra = len(stored.keys() - expected.keys())
    return f"{wrong} point(s) missing or different, {extra} extra" if wrong or extra else ""
