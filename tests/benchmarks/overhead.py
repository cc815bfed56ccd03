"""Client overhead: CPU per request of the collector ÷ that of a bare aiohttp loop.

One simulator process (no quota, no latency) serves both. Each repetition runs, alternately
collector-first and bare-first: the collector backfilling 20 series × 1 year of hours into a
fresh database, the same command again on the now complete database (it sends nothing: the
fixed cost of starting), the bare loop over the same windows, and the bare loop with nothing to
fetch. Per request = (CPU of the run − CPU of its empty twin) ÷ requests, so interpreter start and
imports are not counted against either. Medians over the repetitions; the ratio is taken per
repetition, from runs measured side by side.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tests.benchmarks.harness import (
    Figures,
    Measured,
    apps,
    bare_argv,
    collector_argv,
    components_argv,
    median,
    run_measured,
    simulator,
    year_start,
)

REPETITIONS = 5
SERIES = 20
TARGET_RATIO, STRETCH_RATIO = 2.0, 1.5


def _collector(url: str, db: Path, app_ids: list[str]) -> Measured:
    return run_measured(
        collector_argv(url, db, start=year_start(1), end=year_start(0), app_ids=app_ids)
    )


def _bare(url: str, app_ids: list[str], *, fetch: bool) -> Measured:
    argv = bare_argv(
        url, start=year_start(1), end=year_start(0), app_ids=app_ids, concurrency=8, fetch=fetch
    )
    return run_measured(argv)


def run(figures: Figures) -> None:
    bench = "overhead"
    app_ids = apps(SERIES)
    ratios, raw_ratios, collector_us, bare_us, rates = [], [], [], [], []
    figures.note(f"overhead: {REPETITIONS} alternating repetitions, 20 series x 1 year of hours")
    with simulator(app_ids=app_ids) as url, tempfile.TemporaryDirectory() as tmp:
        for rep in range(REPETITIONS):
            db = Path(tmp) / f"rep{rep}.db"
            runs: dict[str, Measured] = {}
            order = ("collector", "bare") if rep % 2 == 0 else ("bare", "collector")
            for who in order:
                if who == "collector":
                    runs["collector"] = _collector(url, db, app_ids)
                    runs["collector_empty"] = _collector(url, db, app_ids)
                else:
                    runs["bare"] = _bare(url, app_ids, fetch=True)
                    runs["bare_empty"] = _bare(url, app_ids, fetch=False)
            summary = runs["collector"].summary()
            if not summary["complete"] or runs["collector_empty"].summary()["requests"] != 0:
                raise RuntimeError(f"the collector run was not a clean backfill: {summary}")
            bare = json.loads(runs["bare"].stdout)
            if bare["non_200"]:
                raise RuntimeError(f"the bare loop got non-200 answers: {bare}")
            c_req, b_req = summary["requests"], bare["requests"]
            c_us = (runs["collector"].cpu_s - runs["collector_empty"].cpu_s) / c_req * 1e6
            b_us = (runs["bare"].cpu_s - runs["bare_empty"].cpu_s) / b_req * 1e6
            collector_us.append(c_us)
            bare_us.append(b_us)
            ratios.append(c_us / b_us)
            raw_ratios.append((runs["collector"].cpu_s / c_req) / (runs["bare"].cpu_s / b_req))
            rates.append(summary["achieved_rate_per_s"])
        parts = run_measured(components_argv(url, app_ids))
    ratio = median(ratios)
    figures.add(
        bench,
        "CPU per request, collector / bare aiohttp",
        round(ratio, 2),
        "x",
        target=f"<= {TARGET_RATIO}x (stretch {STRETCH_RATIO}x)",
        met=ratio <= TARGET_RATIO,
        per_repetition=[round(r, 2) for r in ratios],
        including_start=round(median(raw_ratios), 2),
    )
    figures.add(
        bench,
        "collector CPU per request",
        round(median(collector_us)),
        "us",
        requests=c_req,
        rate_per_s=median(rates),
    )
    figures.add(bench, "bare aiohttp CPU per request", round(median(bare_us)), "us", requests=b_req)
    detail = json.loads(parts.stdout) if parts.returncode == 0 else {"error": parts.stderr[-300:]}
    figures.add(
        bench,
        "collector CPU per request, by part (in-process)",
        detail.get("parse_body_us"),
        "us parse+validate",
        **{k: v for k, v in detail.items() if k != "parse_body_us"},
    )
