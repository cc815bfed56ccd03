"""Scale: peak RSS and wall time for 1, 5 and 10 years of hours × 20 series, no quota.

The collector backfills each history into a fresh database from a simulator with no quota and
no latency, at its default concurrency. Peak RSS is the child's own `ru_maxrss`. It must not grow
with history (≤ 10% from 1 to 10 years, ≤ 100 MB). SQLite write throughput is the run's
points per second beside what the store alone sustains (`components.py`, same machine): the
store is the limit only if the run gets close to that.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tests.benchmarks.harness import (
    Figures,
    apps,
    collector_argv,
    components_argv,
    run_measured,
    simulator,
    year_start,
)

YEARS = (1, 5, 10)
SERIES = 20
MAX_RSS_MB, MAX_GROWTH = 100.0, 0.10


def run(figures: Figures) -> None:
    bench = "scale"
    app_ids = apps(SERIES)
    rss: dict[int, float] = {}
    best_points_per_s = 0.0
    longest: tuple[int, float] = (0, 0.0)  # requests and CPU seconds of the longest history
    with simulator(app_ids=app_ids) as url, tempfile.TemporaryDirectory() as tmp:
        for years in YEARS:
            figures.note(f"scale: {years} year(s) of hours x {SERIES} series")
            db = Path(tmp) / f"{years}y.db"
            argv = collector_argv(
                url, db, start=year_start(years), end=year_start(0), app_ids=app_ids
            )
            m = run_measured(argv, timeout_s=900)
            summary = m.summary()
            points_per_s = summary["inserted"] / summary["duration_s"]
            best_points_per_s = max(best_points_per_s, points_per_s)
            rss[years] = m.maxrss_mb
            longest = (summary["requests"], m.cpu_s)
            figures.add(
                bench,
                f"{years} year(s) x {SERIES} series: peak RSS",
                round(m.maxrss_mb, 1),
                "MB",
                target=f"<= {MAX_RSS_MB:g} MB",
                met=m.maxrss_mb <= MAX_RSS_MB,
            )
            figures.add(
                bench,
                f"{years} year(s) x {SERIES} series: wall time",
                round(m.wall_s, 1),
                "s",
                requests=summary["requests"],
                points=summary["inserted"],
                rate_per_s=summary["achieved_rate_per_s"],
                points_per_s=round(points_per_s),
                cpu_s=round(m.cpu_s, 1),
                db_mb=round(db.stat().st_size / 2**20, 1),
                complete=summary["complete"],
            )
        parts = run_measured(components_argv(url, app_ids, windows=3000))
    growth = rss[YEARS[-1]] / rss[YEARS[0]] - 1
    figures.add(
        bench,
        "peak RSS growth, 1 to 10 years",
        round(growth * 100, 1),
        "%",
        target=f"<= {MAX_GROWTH:.0%}",
        met=growth <= MAX_GROWTH,
    )
    detail = json.loads(parts.stdout) if parts.returncode == 0 else {}
    store = detail.get("store_points_per_s")
    figures.add(
        bench,
        "SQLite write capacity (store alone) / the run's points per second",
        round(store / best_points_per_s, 2) if store else None,
        "x",
        store_points_per_s=store,
        run_points_per_s=round(best_points_per_s),
        target="> 1 (the store is not the limit)",
        met=bool(store and store > best_points_per_s),
    )
    if detail and longest[1]:
        share = detail["commit_cpu_us"] * longest[0] / 1e6 / longest[1]
        figures.add(
            bench,
            "share of the 10-year run's CPU spent in store commits (estimate)",
            round(share * 100),
            "%",
            commit_cpu_us=detail["commit_cpu_us"],
        )
