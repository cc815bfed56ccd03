"""The real CLI as a subprocess: SIGKILL mid-run then resume; SIGTERM/SIGINT end cleanly."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collector.simulator import Faults, Segment, SimulatorConfig, Workspace

from .threaded import simulator_thread

APPS = ("app-ios", "app-android")
KEY = "sim-key"
CONCURRENCY = 4


@pytest.fixture(scope="module")
def sim():
    config = SimulatorConfig(
        workspaces=(Workspace(apps=APPS, segments=(Segment("vip"),)),),
        faults=Faults(latency_ms=20.0),
    )
    with simulator_thread(config) as s:
        yield s


def start_backfill(sim, db: Path) -> subprocess.Popen[str]:
    args = [
        sys.executable,
        "-m",
        "collector",
        "backfill",
        "--start",
        "2016-01-01",
        "--endpoint",
        sim.url,
        "--db",
        str(db),
        "--concurrency",
        str(CONCURRENCY),
        "--no-progress",
    ]
    for app in ("", *APPS):
        args += ["--app-id", app]
    args += ["--segment-id", "", "--segment-id", "vip"]
    env = {**os.environ, "BRAZE_API_KEY": KEY}
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def windows_committed(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM points").fetchone()[0]) // 100
    except sqlite3.Error:
        return 0


def wait_for_progress(proc: subprocess.Popen[str], db: Path, windows: int) -> None:
    deadline = time.monotonic() + 30
    while windows_committed(db) < windows:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.02)


def stored(db: Path) -> dict[tuple[str, str, str], int]:
    """(app_id, segment_id, day) → stored sessions, read with plain sqlite3 (schema 2)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT s.dims, p.time, p.value FROM points p JOIN series s ON s.id = p.series "
            "WHERE s.stream = 'sessions' AND s.unit = 'day' AND p.facet = '' "
            "AND p.metric = 'sessions'"
        ).fetchall()
        assert conn.execute("SELECT count(*) FROM points").fetchone()[0] == len(rows)
    out = {(*json.loads(dims), t): v for dims, t, v in rows}
    assert len(out) == len(rows), "a bucket was stored twice"
    return out


def truth(sim, db: Path) -> dict[tuple[str, str, str], int]:
    from collector.core.units import Calendar, Unit

    cal = Calendar("UTC")
    with sqlite3.connect(db) as conn:
        hi = max(int(r[0]) for r in conn.execute("SELECT hi FROM coverage"))
    lo = cal.from_key(Unit.DAY, "2016-01-01")
    out = {}
    for app in ("", *APPS):
        for seg in ("", "vip"):
            for start, value in sim.truth(
                "day",
                cal.start(Unit.DAY, lo),
                cal.start(Unit.DAY, hi),
                app_id=app or None,
                segment_id=seg or None,
            ):
                out[(app, seg, start.date().isoformat())] = value
    return out


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_is_exact_and_costs_at_most_the_in_flight_windows(
    sim, tmp_path
):
    """Killed twice at arbitrary points, the re-run completes the exact timeline; extra requests ≤ concurrency per kill."""
    db = tmp_path / "c.db"
    sent_before = len(sim.log)
    for windows in (5, 25):
        proc = start_backfill(sim, db)
        wait_for_progress(proc, db, windows)
        proc.kill()
        proc.wait()
    proc = start_backfill(sim, db)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert stored(db) == truth(sim, db)
    # Minimal: 6 series × ceil(days/100); each kill may lose the windows in flight.
    days = len(truth(sim, db)) // 6
    minimal = 6 * -(-days // 100)
    assert len(sim.log) - sent_before <= minimal + 2 * (CONCURRENCY + 1)


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_stop_cleanly_with_finished_windows_committed(sim, tmp_path, sig, code):
    """The run stops with 143/130, says so in one line, and a re-run finishes the job exactly."""
    db = tmp_path / "c.db"
    proc = start_backfill(sim, db)
    wait_for_progress(proc, db, 5)
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "interrupted" in err and "Traceback" not in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT outcome FROM runs").fetchone()[0] == "interrupted"
    proc = start_backfill(sim, db)
    proc.communicate(timeout=60)
    assert proc.returncode == 0 and stored(db) == truth(sim, db)
