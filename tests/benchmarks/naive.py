"""Against a naive client: one window at a time vs the collector, at 100 ms latency.

The naive client is the bare aiohttp loop with one request in flight (what peers do: each
window waits for the previous one), so it does no parsing or storing at all; the collector runs
at its defaults (no --concurrency or --rate-limit: in flight sized to 250,000/h). Both fetch the same windows from the same simulator.
The speed-up is the ratio of their request rates over the fetching part of each run (interpreter
start excluded on both sides).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tests.benchmarks.harness import (
    Figures,
    apps,
    bare_argv,
    collector_argv,
    run_measured,
    simulator,
    year_start,
)

LATENCY_MS = 100.0
SERIES = 2  # × one year of hours = 176 windows: about 18 s one at a time
BRAZE_QUOTA_PER_S = 250_000 / 3600


def run(figures: Figures) -> None:
    bench = "naive"
    app_ids = apps(SERIES)
    start, end = year_start(1), year_start(0)
    figures.note("naive: one window at a time vs the collector, 100 ms latency")
    with (
        simulator(app_ids=app_ids, limit=250_000, latency_ms=LATENCY_MS) as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        naive = run_measured(bare_argv(url, start=start, end=end, app_ids=app_ids, concurrency=1))
        argv = collector_argv(
            url,
            Path(tmp) / "c.db",
            start=start,
            end=end,
            app_ids=app_ids,
            concurrency=None,
            rate_limit=None,
        )
        collected = run_measured(argv)
    done = json.loads(naive.stdout)
    naive_rate = done["requests"] / done["seconds"]
    summary = collected.summary()
    rate = summary["achieved_rate_per_s"]
    figures.add(
        bench,
        "naive one-window-at-a-time rate",
        round(naive_rate, 2),
        "req/s",
        requests=done["requests"],
        seconds=done["seconds"],
    )
    figures.add(
        bench,
        "collector rate at its defaults",
        rate,
        "req/s",
        requests=summary["requests"],
        seconds=summary["duration_s"],
    )
    quota_bound = BRAZE_QUOTA_PER_S
    figures.add(
        bench,
        "speed-up over the naive client",
        round(rate / naive_rate, 1),
        "x",
        theory=round(quota_bound / (1000 / LATENCY_MS), 1),
    )
