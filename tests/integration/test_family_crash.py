"""The real CLI as a subprocess over every stream kind at once: SIGKILL mid-run (during
discovery or while windows commit), then a re-run completes exactly what one clean run stores,
and a third run sends nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector.simulator import Faults, PoolLimit, Segment, SimulatorConfig, Workspace

from .threaded import simulator_thread

KEY = "sim-key"
FLAGS = [
    "--stream", "sessions", "--stream", "dau", "--stream", "events", "--stream",
    "purchase_revenue", "--stream", "segment_size", "--stream", "campaign_stats",
    "--stream", "canvas_stats",
    "--event", "*", "--product", "*", "--segment-id", "*", "--campaign-id", "*",
    "--canvas-id", "*", "--app-id", "", "--app-id", "app-ios",
    "--start", "2024-06-01", "--concurrency", "4", "--no-progress",
    "--rate-limit", "export-lists=200/s", "--rate-limit", "purchases=200/s",
]  # fmt: skip


@pytest.fixture(scope="module")
def sim():
    config = SimulatorConfig(
        workspaces=(Workspace(apps=("app-ios",), segments=(Segment("vip"),)),),
        faults=Faults(latency_ms=15.0),
        pool_limits=(PoolLimit("export-lists", 10_000, 60), PoolLimit("purchases", 10_000, 60)),
    )
    with simulator_thread(config) as s:
        yield s


def collector(sim, db: Path, *extra: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "collector", "backfill", "--endpoint", sim.url, "--db", str(db)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTOR_", "BRAZE_"))}
    return subprocess.Popen(
        [*args, *FLAGS, *extra],
        env={**env, "BRAZE_API_KEY": KEY},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def table(db: Path, sql: str) -> list[tuple]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.Error:
        return []


SETTLED = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()


def points(db: Path) -> dict[tuple, object]:
    """Every stored point of a day old enough that late data no longer change it (the
    simulator's clock is real here, so recent days move between two runs)."""
    rows = table(
        db,
        "SELECT s.stream, s.dims, p.time, p.facet, p.metric, p.value FROM points p "
        f"JOIN series s ON s.id = p.series WHERE p.time < '{SETTLED}'",
    )
    out = {r[:5]: r[5] for r in rows}
    assert len(out) == len(rows)
    return out


def kill_when(proc: subprocess.Popen[str], ready) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.fixture(scope="module")
def expected(sim, tmp_path_factory) -> dict[tuple, object]:
    """What one clean run stores."""
    clean_db = tmp_path_factory.mktemp("clean") / "clean.db"
    clean = collector(sim, clean_db)
    _, err = clean.communicate(timeout=300)
    assert clean.returncode == 0, err
    return points(clean_db)


@pytest.mark.slow
@pytest.mark.parametrize("when", ["during-discovery", "mid-windows"])
def test_sigkill_then_resume_stores_exactly_what_a_clean_run_does(sim, expected, tmp_path, when):
    assert len(expected) > 5_000

    db = tmp_path / "killed.db"
    proc = collector(sim, db)
    if when == "during-discovery":
        kill_when(proc, lambda: table(db, "SELECT 1 FROM discovery LIMIT 1"))
    else:
        kill_when(proc, lambda: len(table(db, "SELECT 1 FROM coverage")) >= 10)
    assert 0 < len(points(db)) < len(expected) or when == "during-discovery"
    resumed = collector(sim, db)
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert points(db) == expected
    again = collector(sim, db, "--log-format", "json")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert '"requests": 0' in err
