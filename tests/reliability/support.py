"""Helpers shared by the reliability scenarios (the integration harness does the rest)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collector.clock import VirtualClock
from collector.config import Job
from collector.core.models import RunReport
from collector.core.units import Calendar, Unit
from collector.observe.events import Event, RatePaused
from collector.pipeline import collect
from collector.simulator import RequestRecord, Segment, Simulator, SimulatorConfig, Workspace
from tests.integration.harness import make_job

APPS = ("app-ios", "app-android")
FANOUT: dict[str, Any] = {"app_id": ["", *APPS], "segment_id": ["", "vip"]}


def simulator_config(timezone: str = "UTC", **kw: Any) -> SimulatorConfig:
    """A workspace with two apps and one tracked segment: 6 series with the FANOUT flags."""
    ws = Workspace(timezone=timezone, apps=APPS, segments=(Segment("vip"),))
    return SimulatorConfig(workspaces=(ws,), **kw)


@dataclass
class Observed:
    """One in-process run: its report, every event with the virtual time it was emitted at."""

    job: Job
    report: RunReport
    events: list[tuple[float, Event]] = field(default_factory=list)

    def pauses(self) -> list[tuple[float, float]]:
        """Every 429 pause as (emitted, until), merged where they overlap (not where they touch)."""
        spans = sorted((t, e.until) for t, e in self.events if isinstance(e, RatePaused))
        merged: list[tuple[float, float]] = []
        for lo, hi in spans:
            if merged and lo < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        return merged


async def observed_run(
    sim: Simulator, clock: VirtualClock, db: Path, command: str = "backfill", **flags: Any
) -> Observed:
    """The real pipeline over the simulator, recording each event and when it happened."""
    job = make_job(sim, clock, db, command, **flags)
    seen: list[tuple[float, Event]] = []
    report = await collect(job, clock=clock, observers=[lambda e: seen.append((clock.time(), e))])
    return Observed(job, report, seen)


def sent_during(log: Sequence[RequestRecord], pauses: Sequence[tuple[float, float]]) -> list[float]:
    """Arrival times of requests that reached the server strictly inside a pause."""
    return [r.at for r in log if any(lo < r.at < hi for lo, hi in pauses)]


# --- the CLI as a subprocess ------------------------------------------------------------------


def cli_process(
    args: Sequence[str], *, key: str | None, env: dict[str, str] | None = None, **kw: Any
) -> subprocess.Popen[str]:
    """`python -m collector ARGS` with BRAZE_API_KEY=key (unset when None), pipes for output."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("BRAZE_API_KEY",)}
    full_env.pop("BRAZE_REST_ENDPOINT", None)
    if key is not None:
        full_env["BRAZE_API_KEY"] = key
    full_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "collector", *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def run_cli(
    args: Sequence[str], *, key: str | None, timeout: float = 60, **kw: Any
) -> tuple[int, str, str]:
    proc = cli_process(args, key=key, **kw)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def assert_one_clean_line(err: str, *, max_chars: int = 400) -> None:
    """A rejection: one short line on stderr, no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert len(lines[0]) <= max_chars, lines[0]


# --- reading a database without the engine ----------------------------------------------------


def db_rows(db: Path) -> list[tuple[str, str, str, str, int]]:
    """(app_id, segment_id, unit, time, value) of every stored point, read with plain sqlite3
    (schema 2); asserts every point is a sessions point of the default workspace."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT s.workspace, s.stream, p.facet, p.metric, s.dims, s.unit, p.time, p.value "
            "FROM points p JOIN series s ON s.id = p.series"
        ).fetchall()
    finally:
        conn.close()
    assert {r[:4] for r in rows} <= {("default", "sessions", "", "sessions")}, rows[:3]
    return sorted((*json.loads(dims), unit, t, v) for *_, dims, unit, t, v in rows)


def coverage_rows(db: Path) -> list[tuple[str, str, int, int]]:
    """(app_id, segment_id, lo, hi) of every stored coverage interval (sessions, schema 2)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT s.dims, c.lo, c.hi FROM coverage c JOIN series s ON s.id = c.series"
        ).fetchall()
    finally:
        conn.close()
    return [(*json.loads(dims), lo, hi) for dims, lo, hi in rows]


def integrity(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


DAY_SERIES = [(app, seg) for app in ("", *APPS) for seg in ("", "vip")]


def day_truth(
    sim: Simulator, start: str, end: str, series: list[tuple[str, str]] = DAY_SERIES
) -> dict[tuple[str, str, str], int]:
    """(app, segment, day) → the simulator's value for days [start, end) in UTC."""
    cal = Calendar("UTC")
    lo, hi = cal.from_key(Unit.DAY, start), cal.from_key(Unit.DAY, end)
    out = {}
    for app, seg in series:
        for when, value in sim.truth(
            "day",
            cal.start(Unit.DAY, lo),
            cal.start(Unit.DAY, hi),
            app_id=app or None,
            segment_id=seg or None,
        ):
            out[(app, seg, when.date().isoformat())] = value
    return out


def stored_days(db: Path) -> dict[tuple[str, str, str], int]:
    """(app, segment, time) → value as stored; asserts no bucket is stored twice."""
    rows = db_rows(db)
    out = {(a, s, t): v for a, s, _u, t, v in rows}
    assert len(out) == len(rows), "a bucket was stored twice"
    return out
