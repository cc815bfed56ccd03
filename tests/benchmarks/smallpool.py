"""A small job on a slow pool: 5 requests of `purchase_quantity` (the purchases pool, 1,000/h,
shared with the lists in the simulator as on Braze), one app, 500 days at 100 days a window,
20 ms latency. Wall time from the first window stored to the last, and for the whole run; with
a baseline checkout, the same job run by the baseline side by side (it paced the pool's
1,000/h evenly: one request every 3.6 s).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.benchmarks.harness import (
    Figures,
    apps,
    collector_argv,
    run_measured,
    simulator,
    stored_times,
)

DAYS, LATENCY_MS = 500, 20.0


def run(figures: Figures, baseline: Path | None = None) -> None:
    bench = "small pool"
    figures.note("small pool: 5 requests on the 1,000/h purchases pool")
    end = datetime.now(UTC).date()
    start = end - timedelta(days=DAYS)
    app_ids = apps(1)
    runs: list[tuple[str, Path | None]] = [("this", None)]
    if baseline is not None:
        runs.append(("baseline", baseline))
    with (
        simulator(app_ids=app_ids, latency_ms=LATENCY_MS) as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for tag, cwd in runs:
            argv = collector_argv(
                url,
                Path(tmp) / f"{tag}.db",
                start=start.isoformat(),
                end=end.isoformat(),
                app_ids=app_ids,
                unit="day",
                concurrency=None,
                rate_limit=None,
                verbose=2,
                stream="purchase_quantity",
            )
            m = run_measured(argv, cwd=cwd)
            summary = m.summary()
            times = stored_times(m.events())
            span = times[-1] - times[0] if len(times) > 1 else float("nan")
            figures.add(
                bench,
                f"5 requests on a 1,000/h pool ({tag}): first to last window stored",
                round(span, 2),
                "s",
                requests=summary["requests"],
                rate_limited=summary["rate_limited"],
                whole_run_s=round(m.wall_s, 2),
                complete=summary["complete"],
            )
