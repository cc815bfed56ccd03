"""The store under stress: two collectors writing one database at once, a write lock held by
another program, a read-only file or folder, a disk that fills up mid-run, and corrupt or foreign
database files. Collectors either wait their turn or stop with one clear line and exit 4; nothing
already stored is ever lost or changed, and a later run on a healthy disk completes exactly.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import resource
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest

from collector.cli import main
from collector.core.units import Calendar, Unit
from collector.simulator import Simulator
from tests.integration.threaded import simulator_thread

from .support import (
    APPS,
    assert_one_clean_line,
    cli_process,
    coverage_rows,
    day_truth,
    db_rows,
    integrity,
    run_cli,
    simulator_config,
    stored_days,
)

CAL = Calendar("UTC")
SERIES = [(app, seg) for app in ("", *APPS) for seg in ("", "vip")]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with simulator_thread(simulator_config()) as s:
        yield s


def backfill_args(
    sim: Simulator, db: Path, start: str, end: str, series: list[tuple[str, str]] = SERIES
) -> list[str]:
    args = ["backfill", "--start", start, "--end", end, "--endpoint", sim.url, "--db", str(db)]
    args += ["--no-progress", "--concurrency", "4", "--rate-limit", "100000/s"]
    for app in dict.fromkeys(a for a, _ in series):
        args += ["--app-id", app]
    for seg in dict.fromkeys(s for _, s in series):
        args += ["--segment-id", seg]
    return args


def points_match_coverage(db: Path) -> bool:
    covered: dict[tuple[str, str], set[int]] = {}
    for app, seg, lo, hi in coverage_rows(db):
        covered.setdefault((app, seg), set()).update(range(lo, hi))
    points: dict[tuple[str, str], set[int]] = {}
    for app, seg, _u, t, _v in db_rows(db):
        points.setdefault((app, seg), set()).add(CAL.from_key(Unit.DAY, t))
    return points == {k: v for k, v in covered.items() if v}


def minimum(start: str, end: str, series: int) -> int:
    days = CAL.from_key(Unit.DAY, end) - CAL.from_key(Unit.DAY, start)
    return series * -(-days // 100)


def backfill_here(sim: Simulator, db: Path, start: str, end: str) -> None:
    """A setup backfill, in-process (the CLI's main, no interpreter start-up)."""
    with mock.patch.dict(os.environ, {"BRAZE_API_KEY": "sim-key"}):
        assert main(backfill_args(sim, db, start, end)) == 0


# --- two collectors at once -------------------------------------------------------------------

BIG = ("2016-01-01", "2024-01-01")  # 2922 days: 30 windows per series


@pytest.mark.slow
@pytest.mark.parametrize(
    ("layout", "a", "b"),
    [
        pytest.param("same series", SERIES, SERIES, id="same-series"),
        pytest.param("different series", SERIES[:2], SERIES[2:], id="different-series"),
    ],
)
def test_two_collectors_write_one_database_at_once(sim, tmp_path, reliability, layout, a, b):
    """Two processes backfilling one fresh database together: both exit 0, nothing lost or doubled."""
    db = tmp_path / "shared.db"
    sent_before = len(sim.log)
    # Paced to 100/s so each run lasts longer than the other's interpreter start-up: with no
    # latency both finished in 0.15-0.3 s and sometimes did not overlap at all.
    procs = [
        cli_process([*backfill_args(sim, db, *BIG, series), "--rate-limit", "100/s"], key="sim-key")
        for series in (a, b)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    union = list(dict.fromkeys([*a, *b]))
    assert stored_days(db) == day_truth(sim, *BIG, union)
    assert integrity(db) == "ok" and points_match_coverage(db)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        runs = conn.execute("SELECT started_at, finished_at, outcome FROM runs").fetchall()
    finally:
        conn.close()
    assert [r[2] for r in runs] == ["complete", "complete"]
    (s1, f1, _), (s2, f2, _) = runs
    overlapped = s1 < f2 and s2 < f1
    assert overlapped, runs  # they really did write at the same time
    sent = len(sim.log) - sent_before
    both_plans = minimum(*BIG, len(a)) + minimum(*BIG, len(b))
    # Each plans from what was stored when it started, so the total is at most both plans.
    assert minimum(*BIG, len(union)) <= sent <= both_plans
    reliability(
        section="store",
        scenario=f"two collectors, one database, {layout}",
        parameters=f"two CLI processes started together on a fresh file; {len(a)} and {len(b)} "
        f"series × 2922 days each, no latency",
        runs=2,
        requests=sent,
        minimum=minimum(*BIG, len(union)),
        bound=both_plans,
        checked="both exit 0; runs overlapped in time (neither waits for the other to plan, "
        "so shared windows may be fetched by both); exact union, no bucket twice, "
        "integrity ok, points = coverage",
    )


@pytest.mark.slow
def test_a_collector_waits_for_a_write_lock_held_elsewhere(sim, tmp_path, reliability):
    """Another program holds the write lock for 0.8 s: the collector waits, then completes."""
    db = tmp_path / "c.db"
    backfill_here(sim, db, "2023-01-01", "2023-06-01")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    proc = cli_process(backfill_args(sim, db, "2022-01-01", "2023-06-01"), key="sim-key")
    time.sleep(0.8)
    still_waiting = proc.poll() is None
    holder.execute("ROLLBACK")
    holder.close()
    _out, err = proc.communicate(timeout=60)
    assert still_waiting and proc.returncode == 0, err
    assert stored_days(db) == day_truth(sim, "2022-01-01", "2023-06-01")
    reliability(
        section="store",
        scenario="the write lock held by another program for 0.8 s",
        parameters="BEGIN IMMEDIATE held by a separate sqlite3 connection while a backfill starts",
        runs=2,
        checked="the collector waits (busy timeout 60 s) instead of failing; exit 0, exact",
    )


# --- read-only, full disk ---------------------------------------------------------------------


def _drop_file_permission_override() -> None:
    """In the child: make root subject to file modes (drop CAP_DAC_* and CAP_FOWNER from the
    bounding set, so the exec'd Python never gets them). A no-op for other users."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP


def digest(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


def assert_untouched(db: Path, fingerprint: str) -> None:
    """The file is byte-identical and no journal holding changes was left beside it (SQLite
    may leave an empty -wal and its -shm index after a refused open)."""
    assert digest(db) == fingerprint
    wal = Path(f"{db}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder outside pytest's private tmp tree, restored to writable before removal."""
    path = Path(tempfile.mkdtemp(prefix="collector-ro-"))
    try:
        yield path
    finally:
        for p in [path, *path.rglob("*")]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR)
        shutil.rmtree(path)


READ_ONLY = {
    "file": lambda db: db.chmod(0o444),
    "folder": lambda db: db.parent.chmod(0o555),
    "file and folder": lambda db: (db.chmod(0o444), db.parent.chmod(0o555)),
}


@pytest.mark.slow
@pytest.mark.parametrize("what", list(READ_ONLY))
def test_a_read_only_database_is_a_clear_exit_4(sim, scratch, reliability, what):
    """A read-only file or folder: exit 4 in one line naming the fix; stored data untouched."""
    db = scratch / "c.db"
    backfill_here(sim, db, "2023-01-01", "2023-06-01")
    before = stored_days(db)
    wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
    if wal.exists() and wal.stat().st_size == 0:  # the empty pair that read left behind
        wal.unlink()
        shm.unlink(missing_ok=True)
    READ_ONLY[what](db)
    target = db if what == "file" else db.parent / "probe"
    probe = subprocess.run(
        [sys.executable, "-c", f"open({str(target)!r}, 'ab')"],
        preexec_fn=_drop_file_permission_override,
        capture_output=True,
    )
    if probe.returncode == 0:
        pytest.skip("this user can write read-only files (no way to drop the override here)")
    fingerprint = digest(db)
    code, out, err = run_cli(
        backfill_args(sim, db, "2022-01-01", "2023-06-01"),
        key="sim-key",
        preexec_fn=_drop_file_permission_override,
    )
    assert code == 4, (code, out, err)
    assert_one_clean_line(err)
    assert any(word in err for word in ("read-only", "permission")), err
    assert_untouched(db, fingerprint)
    assert stored_days(db) == before
    reliability(
        section="store",
        scenario=f"read-only {what}",
        parameters="a backfill extending a stored database whose "
        + {
            "file": "file is 0444",
            "folder": "folder is 0555",
            "file and folder": "file and folder are read-only",
        }[what]
        + " (root's permission override dropped)",
        runs=2,
        checked="exit 4, one line naming the cause and fix, no traceback; the file "
        "byte-identical, no journal with content left; stored points unchanged",
    )


def _file_size_limit(nbytes: int) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    return limit


@pytest.mark.slow
def test_a_disk_that_fills_up_mid_run_loses_nothing(sim, tmp_path, reliability):
    """Writes start failing mid-backfill: exit 4 in one line; what was stored survives intact."""
    db = tmp_path / "c.db"
    backfill_here(sim, db, "2023-01-01", "2024-01-01")
    before = stored_days(db)
    limit = db.stat().st_size + 96 * 1024
    code, out, err = run_cli(
        backfill_args(sim, db, "2016-01-01", "2024-01-01"),
        key="sim-key",
        preexec_fn=_file_size_limit(limit),
    )
    assert code == 4, (code, out, err)
    assert_one_clean_line(err)
    assert integrity(db) == "ok" and points_match_coverage(db)
    after = stored_days(db)
    assert {k: after[k] for k in before} == before
    grew = len(after) - len(before)
    backfill_here(sim, db, "2016-01-01", "2024-01-01")
    assert stored_days(db) == day_truth(sim, "2016-01-01", "2024-01-01")
    reliability(
        section="store",
        scenario="the disk fills up mid-backfill",
        parameters=f"RLIMIT_FSIZE = database size + 96 KiB, so SQLite's writes fail part-way "
        f"(EFBIG, as a full disk's ENOSPC would); {grew} points were committed before it",
        runs=3,
        checked="exit 4, one line, no traceback; integrity ok, points = coverage, earlier "
        "points unchanged; the next run on a healthy disk completes exactly",
    )


# --- corrupt and foreign files ----------------------------------------------------------------


@pytest.fixture(scope="module")
def golden(sim, tmp_path_factory) -> Path:
    """A healthy, cleanly closed database with three months of 6 series."""
    db = tmp_path_factory.mktemp("golden") / "c.db"
    backfill_here(sim, db, "2023-01-01", "2023-04-01")
    assert not Path(f"{db}-wal").exists()
    return db


def _overwrite(db: Path, offset: int, length: int) -> None:
    data = bytearray(db.read_bytes())
    data[offset : offset + length] = bytes((i * 37 + 11) % 256 for i in range(length))
    db.write_bytes(bytes(data))


def _foreign(db: Path) -> None:
    db.unlink()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    conn.execute("INSERT INTO users (email) VALUES ('someone@example.com')")
    conn.commit()
    conn.close()


def _newer_schema(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "random bytes": lambda db: db.write_bytes(os.urandom(8192)),
    "truncated to half": lambda db: db.write_bytes(db.read_bytes()[: db.stat().st_size // 2]),
    "schema page overwritten": lambda db: _overwrite(db, 100, 3000),
    "header overwritten": lambda db: _overwrite(db, 0, 100),
    "another program's SQLite file": _foreign,
    "a newer collector's schema": _newer_schema,
}
COMMANDS = {
    "backfill": ["backfill", "--start", "2023-01-01", "--end", "2023-06-01"],
    "sync": ["sync"],
    "plan": ["plan", "--start", "2023-01-01", "--end", "2023-06-01"],
    "status": ["status"],
    "export": ["export"],
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupt_or_foreign_file_is_refused_untouched(
    sim, golden, tmp_path, capsys, monkeypatch, reliability, corruption
):
    """Every command on a damaged or foreign file: one line, exit 4, the file left byte-identical."""
    db = tmp_path / "c.db"
    shutil.copy(golden, db)
    CORRUPTIONS[corruption](db)
    fingerprint = digest(db)
    monkeypatch.setenv("BRAZE_API_KEY", "sim-key")
    monkeypatch.setenv("BRAZE_REST_ENDPOINT", sim.url)
    sent_before = len(sim.log)
    codes = {}
    for name, args in COMMANDS.items():
        code = main([*args, "--db", str(db)])
        out, err = capsys.readouterr()
        codes[name] = code
        assert code == 4, (name, code, out, err)
        assert out == "", (name, out)
        assert_one_clean_line(err)
        assert str(db) in err
        assert_untouched(db, fingerprint)
    assert len(sim.log) == sent_before  # refused before any request
    reliability(
        section="store",
        scenario=f"corrupt database: {corruption}",
        parameters="a healthy 3-month database, then damaged; "
        + ", ".join(COMMANDS)
        + " run on it in turn",
        runs=len(COMMANDS),
        requests=len(sim.log) - sent_before,
        checked="every command exit 4 with one line naming the file, nothing on stdout, no "
        "traceback, no request sent, the file byte-identical (no journal with content left)",
    )
