"""Crash and resume: the real CLI as a subprocess, killed with SIGKILL at several points of a
backfill (one of them while a window's transaction is open), then re-run; SIGTERM and SIGINT,
including during a 429 pause, end the run cleanly with every finished window committed.

After every kill the database is checked on its own before resuming: it passes SQLite's
integrity check, and each series' stored points are exactly the buckets its coverage claims (a
half-written window would show up as points without coverage or coverage without points). The
re-run must then finish the exact timeline with no more than `CONCURRENCY` extra requests per
kill: only the windows in flight at the instant of the kill may be fetched twice.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.core.units import Calendar, Unit
from collector.simulator import Faults, Simulator
from tests.integration.threaded import simulator_thread

from .support import (
    APPS,
    cli_process,
    coverage_rows,
    day_truth,
    db_rows,
    integrity,
    simulator_config,
    stored_days,
)

CONCURRENCY = 4
START, END = "2019-01-01", "2024-01-01"  # 1826 days: 19 windows for each of the 6 series
SERIES = [(app, seg) for app in ("", *APPS) for seg in ("", "vip")]
CAL = Calendar("UTC")
LO, HI = CAL.from_key(Unit.DAY, START), CAL.from_key(Unit.DAY, END)
MINIMUM = len(SERIES) * -(-(HI - LO) // 100)
WAIT_S = 30.0

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """One simulator (real clock, 10 ms per request) for the module; tests count log deltas."""
    with simulator_thread(simulator_config(faults=Faults(latency_ms=10.0))) as s:
        yield s


def backfill_args(sim: Simulator, db: Path, *extra: str) -> list[str]:
    args = ["backfill", "--start", START, "--end", END, "--endpoint", sim.url, "--db", str(db)]
    args += ["--concurrency", str(CONCURRENCY), "--rate-limit", "100000/s", "--no-progress", *extra]
    for app in ("", *APPS):
        args += ["--app-id", app]
    return [*args, "--segment-id", "", "--segment-id", "vip"]


def start(sim: Simulator, db: Path, *extra: str) -> subprocess.Popen[str]:
    return cli_process(backfill_args(sim, db, *extra), key="sim-key")


def committed_points(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT count(*) FROM points").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def wait_for_points(proc: subprocess.Popen[str], db: Path, points: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while committed_points(db) < points:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.005)


def stopped(pid: int) -> bool:
    """True once the process is in state T (stopped by SIGSTOP)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return f.read().rsplit(")", 1)[1].split()[0] in ("T", "t")


def kill_inside_a_transaction(proc: subprocess.Popen[str], db: Path, rng: random.Random) -> int:
    """Freeze the run at random instants until it is frozen holding SQLite's write lock (inside
    a window's BEGIN IMMEDIATE … COMMIT), then SIGKILL it there. Returns the attempts it took."""
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        for attempt in range(1, 5000):
            assert proc.poll() is None, "the run ended before it was caught inside a transaction"
            proc.send_signal(signal.SIGSTOP)
            deadline = time.monotonic() + 5
            while not stopped(proc.pid):
                assert time.monotonic() < deadline
                time.sleep(0.0002)
            try:
                probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                assert "locked" in str(exc), exc
                proc.kill()
                proc.wait()
                return attempt
            probe.execute("ROLLBACK")
            proc.send_signal(signal.SIGCONT)
            time.sleep(rng.uniform(0, 0.004))
        raise AssertionError("never caught the run inside a transaction")
    finally:
        probe.close()


def coverage(db: Path) -> dict[tuple[str, str], set[int]]:
    out: dict[tuple[str, str], set[int]] = {}
    for app, seg, lo, hi in coverage_rows(db):
        out.setdefault((app, seg), set()).update(range(lo, hi))
    return out


def assert_consistent(db: Path) -> int:
    """Integrity OK, and every series' points are exactly its covered buckets; returns points."""
    assert integrity(db) == "ok"
    points: dict[tuple[str, str], set[int]] = {}
    for app, seg, _unit, t, _v in db_rows(db):
        points.setdefault((app, seg), set()).add(CAL.from_key(Unit.DAY, t))
    assert points == {k: v for k, v in coverage(db).items() if v}
    return sum(len(v) for v in points.values())


def resume_and_check(sim: Simulator, db: Path, sent_before: int, kills: int) -> int:
    """Re-run to completion: exit 0, exact, and ≤ CONCURRENCY extra requests per kill."""
    proc = start(sim, db)
    _out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err
    assert stored_days(db) == day_truth(sim, START, END)
    sent = len(sim.log) - sent_before
    assert sent <= MINIMUM + kills * CONCURRENCY, (sent, MINIMUM)
    return sent


KILL_POINTS = {
    "after-the-first-window": 1,
    "inside-a-transaction": None,
    "nine-tenths-in": (HI - LO) * len(SERIES) * 9 // 10,
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_then_resume(sim, tmp_path, reliability, point):
    """SIGKILL at one point of a backfill: the database stays consistent; the re-run is exact."""
    db = tmp_path / "c.db"
    sent_before = len(sim.log)
    proc = start(sim, db)
    target = KILL_POINTS[point]
    detail = ""
    if target is None:
        wait_for_points(proc, db, 5 * 100)
        attempts = kill_inside_a_transaction(proc, db, random.Random(7))
        detail = f"; caught holding the write lock after {attempts} freeze(s)"
    else:
        wait_for_points(proc, db, target)
        proc.kill()
        proc.wait()
    proc.communicate()
    at_kill = assert_consistent(db)
    sent = resume_and_check(sim, db, sent_before, kills=1)
    reliability(
        section="crash",
        scenario=f"SIGKILL {point.replace('-', ' ')}, then re-run",
        parameters=f"6 series × {HI - LO} days, concurrency {CONCURRENCY}, 10 ms per request; "
        f"killed with {at_kill} of {(HI - LO) * 6} points committed{detail}",
        runs=2,
        requests=sent,
        minimum=MINIMUM,
        bound=MINIMUM + CONCURRENCY,
        checked="after the kill: integrity ok, points = coverage; re-run exit 0, exact, "
        "no bucket twice, ≤ concurrency extra requests",
    )


def test_sigkill_three_times_in_one_backfill(sim, tmp_path, reliability):
    """Three SIGKILLs (one inside a transaction) in one backfill: exact; ≤ 3 × concurrency extra."""
    db = tmp_path / "c.db"
    sent_before = len(sim.log)
    total = (HI - LO) * len(SERIES)
    for i, share in enumerate((0.2, None, 0.7)):
        proc = start(sim, db)
        if share is None:
            wait_for_points(proc, db, committed_points(db) + 300)
            kill_inside_a_transaction(proc, db, random.Random(i))
        else:
            wait_for_points(proc, db, int(total * share))
            proc.kill()
            proc.wait()
        proc.communicate()
        assert_consistent(db)
    sent = resume_and_check(sim, db, sent_before, kills=3)
    reliability(
        section="crash",
        scenario="three SIGKILLs in one backfill (one inside a transaction), then re-run",
        parameters=f"6 series × {HI - LO} days, concurrency {CONCURRENCY}; kills at 20 %, "
        "inside a transaction, at 70 %",
        runs=4,
        requests=sent,
        minimum=MINIMUM,
        bound=MINIMUM + 3 * CONCURRENCY,
        checked="consistent after every kill; final run exit 0, exact, ≤ 3 × concurrency extra",
    )


def stored_windows_in_log(err: str) -> list[dict[str, str]]:
    return [
        record
        for line in err.splitlines()
        if line.startswith("{") and (record := json.loads(line)).get("event") == "window_stored"
    ]


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"]
)
def test_sigterm_and_sigint_commit_every_finished_window(sim, tmp_path, reliability, sig, code):
    """SIGTERM/SIGINT mid-run: exit 143/130 at once, one line, every logged window committed."""
    db = tmp_path / "c.db"
    sent_before = len(sim.log)
    proc = start(sim, db, "-vv", "--log-format", "json")
    wait_for_points(proc, db, (HI - LO) * len(SERIES) // 3)
    signalled = time.monotonic()
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=WAIT_S)
    took = time.monotonic() - signalled
    assert proc.returncode == code, err
    plain = [line for line in err.splitlines() if not line.startswith("{")]
    assert plain == [plain[0]] and "interrupted" in plain[0] and "Traceback" not in err
    assert took < 5
    at_stop = assert_consistent(db)
    covered = coverage(db)
    for record in stored_windows_in_log(err):
        first, last = (
            CAL.from_key(Unit.DAY, record["first"]),
            CAL.from_key(Unit.DAY, record["last"]),
        )
        assert set(range(first, last + 1)) <= covered[(record["app_id"], record["segment_id"])]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        outcome, finished = conn.execute("SELECT outcome, finished_at FROM runs").fetchone()
    finally:
        conn.close()
    assert outcome == "interrupted" and finished is not None
    sent = resume_and_check(sim, db, sent_before, kills=1)
    name = signal.Signals(sig).name
    reliability(
        section="crash",
        scenario=f"{name} mid-run, then re-run",
        parameters=f"6 series × {HI - LO} days, concurrency {CONCURRENCY}; signalled with "
        f"{at_stop} points committed; exited {took:.2f} s later",
        runs=2,
        requests=sent,
        minimum=MINIMUM,
        bound=MINIMUM + CONCURRENCY,
        checked=f"exit {code}, one line, no traceback; run recorded 'interrupted'; every "
        "window logged as stored is covered; points = coverage; re-run exit 0, exact",
    )


def test_sigterm_during_a_429_pause_exits_at_once(tmp_path, reliability):
    """SIGTERM while every worker waits out a 429 (Retry-After ~1 h): exit 143 within seconds."""
    config = simulator_config(
        rate_limit=40,
        rate_window_s=3600,
        omit_ratelimit_headers_probability=1.0,
        emit_x_ratelimit_retry_after=True,
    )
    with simulator_thread(config) as paused_sim:
        db = tmp_path / "c.db"
        proc = start(paused_sim, db)
        deadline = time.monotonic() + WAIT_S
        while paused_sim.stats()[429] == 0:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.2)  # let every worker reach the pause
        during_pause = len(paused_sim.log)
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=WAIT_S)
        took = time.monotonic() - signalled
        assert proc.returncode == 143, err
        assert "interrupted" in err and "Traceback" not in err
        assert took < 5
        assert len(paused_sim.log) == during_pause  # nothing was sent while paused
        at_stop = assert_consistent(db)
        answered = paused_sim.stats()[200]
        assert at_stop >= 100 * (answered - 1)  # every window answered before the 429 is kept
    reliability(
        section="crash",
        scenario="SIGTERM during a 429 pause",
        parameters="server quota 40 per hour, no X-RateLimit-* headers, Retry-After on 429; "
        f"signalled 0.2 s into the pause; exited {took:.2f} s later with {at_stop} points "
        "committed",
        runs=1,
        requests=during_pause,
        rate_limited=paused_sim.stats()[429],
        checked="exit 143 promptly, no traceback, nothing sent during the pause, points = coverage",
    )
