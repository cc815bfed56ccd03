"""Crash points of round 2's code (issue 14, item 4), the real CLI as a subprocess: SIGKILL
during a schema-1 migration and during `db copy`; the next run completes exactly and nothing
is half-migrated. (SIGKILL during discovery and while holding leases: tests/integration/
test_family_crash.py and test_cooperation.py.)"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collector.simulator import SimulatorConfig, Workspace
from collector.store.postgres import PostgresStore
from tests.integration.test_family import ROUND1_SCHEMA
from tests.integration.threaded import simulator_thread

KEY = "sim-key"
POINTS = 400_000  # enough that the migration's transaction is killed while it runs


def _env() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTOR_", "BRAZE_"))}
    return {**base, "BRAZE_API_KEY": KEY}


def _collector(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "collector", *args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _round1(db: Path) -> int:
    """A round-1 database of POINTS hourly points across 40 series; returns the count."""
    con = sqlite3.connect(db)
    con.executescript(ROUND1_SCHEMA)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1'), ('timezone', 'UTC')")
    per = POINTS // 40
    rows = (
        (
            "sessions",
            f"app-{s}",
            "",
            "hour",
            f"{2000 + i // 8760}-01-01T{i % 24:02d}:{i:06d}",
            i,
            "x",
            1,
        )
        for s in range(40)
        for i in range(per)
    )
    con.executemany("INSERT INTO points VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return per * 40


@pytest.mark.slow
def test_sigkill_during_a_schema1_migration_leaves_schema1_then_migrates(tmp_path, reliability):
    """SIGKILL while a round-1 database migrates: still schema 1, intact; the next run migrates
    every point"""
    db = tmp_path / "old.db"
    total = _round1(db)
    with simulator_thread(SimulatorConfig(workspaces=(Workspace(apps=("app-0",)),))) as sim:
        args = ["backfill", "--db", str(db), "--endpoint", sim.url, "--start", "2024-01-01",
                "--end", "2024-01-02", "--app-id", "app-0", "--no-progress"]  # fmt: skip
        proc = _collector(*args)
        deadline = time.monotonic() + 60
        backup = tmp_path / "old.db.schema1-backup"
        while not backup.exists() or backup.stat().st_size == 0:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.005)
        time.sleep(0.05)  # the copy is written: the migration's transaction is under way
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        con = sqlite3.connect(db)
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        con.close()
        killed_in = "during the migration" if version == "1" else "after it"
        if version == "1":
            assert "series" not in tables and "v1_points" not in tables  # nothing half-done
        again = _collector(*args)
        _, err = again.communicate(timeout=300)
        assert again.returncode == 0, err[-1500:]
    con = sqlite3.connect(db)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "2"
    migrated = con.execute(
        "SELECT count(*) FROM points p JOIN series s ON s.id = p.series WHERE s.dims LIKE '[\"app-%' "
        "AND p.time LIKE '20%:%'"
    ).fetchone()[0]
    assert migrated == total
    reliability(
        section="crash",
        scenario="SIGKILL during a schema-1 → 2 migration",
        parameters=f"{total:,} round-1 points in 40 series",
        checked=f"killed {killed_in}: schema 1 untouched; the next run migrated all {total:,}",
    )


@pytest.mark.slow
def test_sigkill_during_db_copy_then_the_copy_resumes_exactly(tmp_path, pg_database, reliability):
    """SIGKILL during `db copy` SQLite → PostgreSQL: the re-run copies the rest; every point
    equal"""
    db = tmp_path / "src.db"
    with simulator_thread(SimulatorConfig(workspaces=(Workspace(apps=("a1", "a2", "a3")),))) as sim:
        fill = _collector("backfill", "--db", str(db), "--endpoint", sim.url, "--start",
                          "2018-01-01", "--app-id", "", "--app-id", "a1", "--app-id", "a2",
                          "--app-id", "a3", "--unit", "day", "--no-progress")  # fmt: skip
        _, err = fill.communicate(timeout=300)
        assert fill.returncode == 0, err[-1500:]
    proc = _collector("db", "copy", "--from", str(db), "--to", pg_database)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        try:
            with PostgresStore(pg_database) as target:
                if sum(1 for _ in target.iter_points("default", "sessions")):
                    break
        except Exception:  # the schema is not there yet
            pass
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    again = _collector("db", "copy", "--from", str(db), "--to", pg_database)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err[-1500:]
    from collector.store.sqlite import SQLiteStore

    with SQLiteStore(db, read_only=True) as src, PostgresStore(pg_database) as dst:
        a = [(p.dims, p.time, p.value) for p in src.iter_points("default", "sessions")]
        b = [(p.dims, p.time, p.value) for p in dst.iter_points("default", "sessions")]
    assert a == b and len(a) > 5_000
    reliability(
        section="crash",
        scenario="SIGKILL during db copy (SQLite → PostgreSQL)",
        parameters=f"{len(a):,} points in 4 series",
        checked="the re-run completed the copy; every point equal, none twice",
    )
