"""Quota saturation: how close the collector runs to the server's quota, and how many 429s.

1. Any window size: server quotas of 30 per 3 s, 100 per 5 s and 1,000 per 60 s (fixed,
   epoch-aligned windows, like Braze's hourly ones in miniature), at 20 ms and 100 ms latency,
   the collector told the true quota and told twice it (it must then learn the quota from the
   X-RateLimit-* headers). Steady share = requests the server received in the whole windows
   after the first and before the last ÷ the limit of those windows. Arrival times are the
   `window_stored` log times (`-vv`) less the latency. The twelve runs are rate-bound, not
   CPU-bound (≤ 20 req/s each), so they run at once, each against its own simulator process.
2. Latency-proof concurrency: Braze's default 250,000/h at 100 ms, 300 ms and 1 s latency, the
   collector at its defaults (no --concurrency, no --rate-limit): steady rate after a warm-up,
   and the most sockets the collector held (≈ its peak requests in flight) beside what Little's
   law needs (quota × latency). With a baseline checkout, the same runs of the baseline.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.benchmarks.harness import (
    Figures,
    Measured,
    apps,
    collector_argv,
    run_measured,
    simulator,
    stored_times,
    year_start,
)

# (limit, window seconds, apps, years of hours): about 7, 6 and 3 whole windows
QUOTAS = ((30, 3, 3, 1), (100, 5, 8, 1), (1000, 60, 8, 6))
LATENCIES_MS = (20.0, 100.0)
TARGET_SHARE, MAX_429_SHARE = 0.98, 0.005
BRAZE_QUOTA_PER_S = 250_000 / 3600
SWEEP_LATENCIES_MS = (100.0, 300.0, 1000.0)
SWEEP_APPS = 24  # × one year of hours = 2,112 requests, about 30 s at 69.4/s
WARMUP_S = 8.0  # the bucket's initial one-second burst, and the first answers at 1 s


def steady_in_windows(times: Sequence[float], window_s: float) -> tuple[int, int]:
    """(requests, whole windows) over the whole server windows after the first and before
    the last one seen."""
    if len(times) < 2:
        return 0, 0
    first = math.floor(times[0] / window_s) + 1
    last = math.floor(times[-1] / window_s)
    windows = last - first
    if windows < 1:
        return 0, 0
    lo, hi = first * window_s, last * window_s
    return sum(1 for t in times if lo <= t < hi), windows


def steady_rate_between(times: Sequence[float], skip_s: float) -> tuple[float, int, float]:
    """Rate after the first `skip_s` seconds and before the final second (the queue draining)."""
    if len(times) < 2:
        return float("nan"), 0, 0.0
    lo, hi = times[0] + skip_s, times[-1] - 1.0
    inside = [t for t in times if lo <= t < hi]
    if len(inside) < 2:
        return float("nan"), 0, 0.0
    return (len(inside) - 1) / (inside[-1] - inside[0]), len(inside), inside[-1] - inside[0]


def _quota_run(
    tmp: Path, limit: int, window_s: int, n_apps: int, years: int, latency_ms: float, factor: int
) -> Measured:
    app_ids = apps(n_apps)
    per_s = limit * factor / window_s
    rate = f"{per_s:g}/s" if window_s < 60 else f"{limit * factor}/m"
    with simulator(app_ids=app_ids, limit=limit, window_s=window_s, latency_ms=latency_ms) as url:
        argv = collector_argv(
            url,
            tmp / f"q{limit}-{latency_ms:g}-{factor}.db",
            start=year_start(years),
            end=year_start(0),
            app_ids=app_ids,
            concurrency=None,
            rate_limit=rate,
            verbose=2,
        )
        return run_measured(argv, timeout_s=900)


def _sweep_run(tmp: Path, latency_ms: float, cwd: Path | None, tag: str) -> Measured:
    app_ids = apps(SWEEP_APPS)
    with simulator(app_ids=app_ids, limit=250_000, window_s=3600, latency_ms=latency_ms) as url:
        argv = collector_argv(
            url,
            tmp / f"sweep-{tag}-{latency_ms:g}.db",
            start=year_start(1),
            end=year_start(0),
            app_ids=app_ids,
            concurrency=None,
            rate_limit=None,
            verbose=2,
        )
        return run_measured(argv, cwd=cwd)


def run(figures: Figures, baseline: Path | None = None) -> None:
    bench = "saturation"
    with tempfile.TemporaryDirectory() as tmp_name, ExitStack():
        tmp = Path(tmp_name)
        figures.note("saturation: 3 quotas x 2 latencies x told 1x/2x, 12 runs at once (~5 min)")
        cases = [(q, lat, factor) for q in QUOTAS for lat in LATENCIES_MS for factor in (1, 2)]
        with ThreadPoolExecutor(len(cases)) as pool:
            futures = [pool.submit(_quota_run, tmp, *q, lat, factor) for q, lat, factor in cases]
            results = [f.result() for f in futures]
        for ((limit, window_s, _, _), lat, factor), m in zip(cases, results, strict=True):
            summary = m.summary()
            arrivals = [t - lat / 1000 for t in stored_times(m.events())]
            counted, windows = steady_in_windows(arrivals, window_s)
            share = counted / (limit * windows) if windows else float("nan")
            share_429 = summary["rate_limited"] / max(1, summary["requests"])
            figures.add(
                bench,
                f"{limit}/{window_s}s at {lat:g} ms, told {'twice' if factor == 2 else 'true'}",
                round(share * 100, 1),
                "% of quota",
                target=f">= {TARGET_SHARE:.0%}, 429s <= {MAX_429_SHARE:.1%}",
                met=share >= TARGET_SHARE and share_429 <= MAX_429_SHARE,
                whole_windows=windows,
                counted_requests=counted,
                rate_limited=summary["rate_limited"],
                requests=summary["requests"],
                peak_sockets=m.peak_sockets,
                complete=summary["complete"],
            )
        figures.note("saturation: 250,000/h at 100 ms, 300 ms, 1 s, collector defaults")
        tags: list[tuple[str, Path | None]] = [("this", None)]
        if baseline is not None:
            tags.append(("baseline", baseline))
        sweeps = [(tag, cwd, lat) for tag, cwd in tags for lat in SWEEP_LATENCIES_MS]
        with ThreadPoolExecutor(len(sweeps)) as pool:
            futures = [pool.submit(_sweep_run, tmp, lat, cwd, tag) for tag, cwd, lat in sweeps]
            measured = [f.result() for f in futures]
        for (tag, _, lat), m in zip(sweeps, measured, strict=True):
            summary = m.summary()
            steady, counted, _ = steady_rate_between(stored_times(m.events()), WARMUP_S)
            share = steady / BRAZE_QUOTA_PER_S
            row: dict[str, Any] = {
                "share_of_quota": round(share, 4),
                "rate_limited": summary["rate_limited"],
                "counted_requests": counted,
                "peak_sockets": m.peak_sockets,
                "littles_law": math.ceil(BRAZE_QUOTA_PER_S * lat / 1000),
            }
            if tag == "this":
                row.update(target=f">= {TARGET_SHARE:.0%} of 69.44/s", met=share >= TARGET_SHARE)
            figures.add(
                bench,
                f"250000/h at {lat:g} ms, default flags ({tag})",
                round(steady, 2),
                "req/s",
                **row,
            )
