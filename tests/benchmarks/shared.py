"""Shared quota: 1, 2 and 4 collector processes on one job through PostgreSQL, against a server
quota of 100 requests per 5 s window at 20 ms latency, each process told 80/s (16x the quota).

Figures per process count: the share of the quota used over the server windows strictly inside
the busy period (from the simulator's own arrival log), 429s per request, and whether every
window was fetched exactly once (requests for data beyond the minimum).
"""

from __future__ import annotations

import math
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta

from collector.simulator import Faults, SimulatorConfig, Workspace
from tests.benchmarks.harness import PY, Figures, child_env
from tests.integration.threaded import simulator_thread
from tests.pg import new_database, server_dsn

LIMIT, WINDOW_S, LATENCY_MS, DAYS = 100, 5, 20.0, 15000
APPS = ("a1", "a2", "a3")


def run(figures: Figures) -> None:
    bench = "shared quota"
    with server_dsn(None) as server:
        for processes in (1, 2, 4):
            figures.note(f"shared quota: {processes} process(es) on one PostgreSQL")
            dsn = new_database(server)
            config = SimulatorConfig(
                workspaces=(Workspace(apps=APPS),),
                rate_limit=LIMIT,
                rate_window_s=WINDOW_S,
                faults=Faults(latency_ms=LATENCY_MS),
            )
            start = (datetime.now(UTC) - timedelta(days=DAYS)).date().isoformat()
            with simulator_thread(config) as sim:
                argv = [PY, "-m", "collector", "backfill", "--endpoint", sim.url, "--db", dsn,
                        "--start", start, "--rate-limit", "80/s", "--no-progress",
                        "--log-format", "json", "--app-id", "", *[x for a in APPS for x in ("--app-id", a)]]  # fmt: skip
                env = {**child_env(), "BRAZE_API_KEY": "sim-key"}
                procs = [
                    subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    for _ in range(processes)
                ]  # fmt: skip
                codes = [p.wait(timeout=600) for p in procs]
                log = list(sim.log)
            windows = Counter(int(r.at // WINDOW_S) for r in log)
            busy = sorted(windows)[1:-1]
            share = sum(windows[w] for w in busy) / (LIMIT * len(busy)) if busy else float("nan")
            limited = sum(1 for r in log if r.status == 429)
            data = sum(1 for r in log if r.status == 200)
            minimum = 4 * math.ceil(DAYS / 100)
            figures.add(
                bench,
                f"{processes} process(es): share of the quota used",
                round(100 * share, 1),
                "%",
                target=">= 95",
                met=share >= 0.95,
                windows=len(busy),
                exit_codes=codes,
            )
            figures.add(
                bench,
                f"{processes} process(es): 429s",
                round(100 * limited / max(1, len(log)), 2),
                "% of requests",
                target="<= 1",
                met=limited <= 0.01 * len(log),
                requests=len(log),
                data_requests=data,
                minimum=minimum,
            )
