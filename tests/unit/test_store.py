"""The SQLite store: one transaction per window, upserts, revisions, merged coverage."""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.core.models import Point, RunReport, Series, Window, WindowResult
from collector.core.streams import SESSIONS
from collector.core.units import Calendar, Unit
from collector.errors import ConfigError, StoreError
from collector.store.sqlite import SQLiteStore

CAL = Calendar("UTC")
S = Series(SESSIONS, ("app", ""), Unit.DAY, CAL)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


BASE = CAL.from_key(Unit.DAY, "2020-01-01")


def result(lo, hi, value=1, covered=None):
    lo, hi = lo + BASE, hi + BASE
    w = Window(S, lo, hi, 0, 10**7)
    return WindowResult(
        w, covered or (lo, hi), tuple(Point(o, value, "sessions") for o in range(lo, hi)), T0
    )


def test_upsert_counts_new_revised_and_unchanged(tmp_path):
    """Re-storing a bucket never duplicates it; a changed value counts as a revision."""
    with SQLiteStore(tmp_path / "c.db") as store:
        base = BASE
        first = store.commit(result(0, 10, 5))
        assert (first.inserted, first.revised, first.unchanged) == (10, 0, 0)
        w = Window(S, base + 5, base + 15, 0, 10**7)
        points = tuple(
            Point(o, 5 if o < base + 8 else 6, "sessions") for o in range(base + 5, base + 15)
        )
        second = store.commit(WindowResult(w, (base + 5, base + 15), points, T0))
        assert (second.inserted, second.revised, second.unchanged) == (5, 2, 3)
        rows = list(store.iter_points("default", "sessions"))
        assert len(rows) == 15 and len({r.time for r in rows}) == 15
        assert {r.dims for r in rows} == {("app", "")}


def test_coverage_merges_adjacent_and_overlapping_windows(tmp_path):
    """Coverage stays a short list of merged intervals however many windows were stored."""
    with SQLiteStore(tmp_path / "c.db") as store:
        for lo in range(0, 1000, 100):
            store.commit(result(lo, lo + 100))
        store.commit(result(2000, 2050))
        store.commit(result(2040, 2100))
        expected = [(BASE, BASE + 1000), (BASE + 2000, BASE + 2100)]
        assert store.covered([S.key]) == {S.key: expected}


def test_a_failing_commit_leaves_neither_points_nor_coverage(tmp_path, monkeypatch):
    """Points and coverage of a window commit together or not at all."""
    with SQLiteStore(tmp_path / "c.db") as store:

        def boom(*args):
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(store, "_add_coverage", boom)
        with pytest.raises(StoreError, match="free disk space"):
            store.commit(result(0, 10))
        monkeypatch.undo()
        assert list(store.iter_points("default", "sessions")) == []
        assert store.covered([S.key]) == {S.key: []}


def test_a_database_of_another_time_zone_is_refused(tmp_path):
    """Ordinals depend on the zone, so a zone change needs a new database; the zone is pinned
    by the first commit, not by a run that stored nothing."""
    with SQLiteStore(tmp_path / "c.db") as store:
        store.prepare("default", "Europe/Paris")
    with SQLiteStore(tmp_path / "c.db") as store:
        store.prepare("default", "UTC")  # nothing committed yet: not pinned
        store.commit(result(0, 10))
    with SQLiteStore(tmp_path / "c.db") as store:
        store.prepare("default", "UTC")
        with pytest.raises(ConfigError, match="--timezone UTC"):
            store.prepare("default", "Europe/Berlin")


def test_reading_a_missing_database_says_how_to_create_one(tmp_path):
    """export/status on a path with no database: a ConfigError naming backfill."""
    with pytest.raises(ConfigError, match="backfill"):
        SQLiteStore(tmp_path / "none.db", read_only=True)


def test_a_corrupt_file_is_a_store_error_not_a_traceback(tmp_path):
    """A file that is not SQLite gives a StoreError that names the path."""
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"bad\.db"):
        SQLiteStore(bad)


def test_runs_are_recorded(tmp_path):
    """Each run leaves its command, end time and outcome."""
    with SQLiteStore(tmp_path / "c.db") as store:
        run = store.begin_run("default", "backfill", T0)
        store.finish_run(run, T0, "complete", RunReport(requests=3))
        [last] = store.runs()
        assert (last.id, last.command, last.finished_at, last.outcome, last.requests) == (
            run,
            "backfill",
            T0.isoformat(),
            "complete",
            3,
        )


def test_connections_opening_a_fresh_file_together_all_succeed(tmp_path):
    """Several collectors opening one new --db at once all open it (WAL switch retried on BUSY)."""
    from concurrent.futures import ThreadPoolExecutor

    def open_it(path: Path) -> str:
        with SQLiteStore(path):
            return "ok"

    for n in range(30):
        path = tmp_path / f"fresh{n}.db"
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(open_it, [path] * 4)) == ["ok"] * 4
