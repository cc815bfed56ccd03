"""The local store: SQLite (WAL). The only module that imports sqlite3.

Tables:
    meta      key → value: schema version and the workspace time zone the ordinals are in
    points    one row per (endpoint, app_id, segment_id, unit, time): value, fetched_at, revisions
    coverage  merged [lo, hi) bucket-ordinal intervals per series that responses have answered
    runs      one row per run: command, start, end, outcome, counts

A window's points and its coverage commit in one transaction (BEGIN IMMEDIATE), so a crash at any
instant leaves either both or neither; points are upserted, so nothing is ever duplicated.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from collector.core.models import Series, StoreOutcome, WindowResult
from collector.errors import ConfigError, StoreError

SCHEMA_VERSION = "1"
DEFAULT_BUSY_TIMEOUT_S = 60.0

SeriesKey = tuple[str, str, str, str]
Interval = tuple[int, int]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    endpoint TEXT NOT NULL, app_id TEXT NOT NULL, segment_id TEXT NOT NULL, unit TEXT NOT NULL,
    time TEXT NOT NULL, value INTEGER NOT NULL, fetched_at TEXT NOT NULL,
    revisions INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint, app_id, segment_id, unit, time)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS coverage (
    endpoint TEXT NOT NULL, app_id TEXT NOT NULL, segment_id TEXT NOT NULL, unit TEXT NOT NULL,
    lo INTEGER NOT NULL, hi INTEGER NOT NULL, fetched_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS coverage_series ON coverage (endpoint, app_id, segment_id, unit, lo);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, command TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT, outcome TEXT, requests INTEGER, inserted INTEGER, revised INTEGER
);
"""
_TABLES = frozenset({"meta", "points", "coverage", "runs"})


def _retry_locked(step: Callable[[], object], timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> None:
    """Run `step`, retrying while another connection holds the lock it needs.

    Switching a new file to WAL needs an exclusive lock and SQLite answers SQLITE_BUSY at once,
    without the busy handler, when another process is doing the same: two collectors started
    together on a fresh --db would otherwise fail to open it.
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


class Store(Protocol):
    """What the pipeline needs from a store (SQLite today; PostgreSQL later)."""

    def covered(self, keys: Sequence[SeriesKey]) -> dict[SeriesKey, list[Interval]]: ...
    def last_time(self, key: SeriesKey) -> str | None: ...
    def commit(self, result: WindowResult) -> StoreOutcome: ...
    def begin_run(self, command: str, started_at: datetime) -> int: ...
    def finish_run(
        self, run_id: int, finished_at: datetime, outcome: str, **counts: int
    ) -> None: ...


@dataclass(frozen=True)
class SeriesStatus:
    """Coverage of one stored series."""

    key: SeriesKey
    points: int
    first: str | None
    last: str | None
    last_fetched: str | None
    coverage: tuple[Interval, ...]


class SQLiteStore:
    """A SQLite database file; use as a context manager."""

    def __init__(self, path: Path, *, timezone: str | None, read_only: bool = False) -> None:
        self.path = path
        self._read_only = read_only
        if read_only and not path.exists():
            raise ConfigError(
                f"no database at {path}: run `collector backfill --db {path} …` first, "
                "or pass the --db you collected into"
            )
        try:
            if read_only:
                uri = f"{path.resolve().as_uri()}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, isolation_level=None)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._error("open", exc) from exc
        except OSError as exc:
            raise StoreError(f"cannot create the database at {path}: {exc.strerror}") from exc
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(DEFAULT_BUSY_TIMEOUT_S * 1000)}")
            self._check_file()  # reads only: nothing is written to a file that is not ours
            if not read_only:
                _retry_locked(lambda: self._db.execute("PRAGMA journal_mode = WAL"))
                self._db.execute("PRAGMA synchronous = NORMAL")
                self._db.executescript(_SCHEMA)  # idempotent DDL, each statement atomic
            self._check_meta(timezone)
        except BaseException as exc:
            self._db.close()
            if isinstance(exc, sqlite3.Error):
                raise self._error("open", exc) from exc
            raise

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r}, read_only={self._read_only})"

    # --- meta ------------------------------------------------------------------------------

    @property
    def timezone(self) -> str | None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'timezone'").fetchone()
        except sqlite3.Error as exc:
            raise self._error("read", exc) from exc
        return None if row is None else str(row[0])

    def _check_file(self) -> None:
        """Refuse, before writing anything, a file that is not a collector database of this
        schema: another program's SQLite file, or a newer collector's."""
        tables = {
            str(name)
            for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not str(name).startswith("sqlite_")
        }
        if not tables and not self._read_only:
            return  # a new (or empty) file: ours to create
        version = None
        if "meta" in tables:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = None if row is None else str(row[0])
        if "meta" not in tables or (version is None and tables - _TABLES):
            listed = ", ".join(sorted(tables)) or "none"
            raise StoreError(
                f"{self.path} is not a collector database (its tables: {listed}); collector "
                "will not write into another program's file: pass a new --db path"
            )
        if version not in (None, SCHEMA_VERSION):
            raise StoreError(
                f"{self.path} has schema version {version}; this collector reads "
                f"{SCHEMA_VERSION}: use the collector version that wrote it, or a new --db"
            )

    def _check_meta(self, timezone: str | None) -> None:
        if self._read_only:
            return
        rows = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        version = rows.get("schema_version")
        if version not in (None, SCHEMA_VERSION):
            raise StoreError(
                f"{self.path} has schema version {version}; this collector reads {SCHEMA_VERSION}"
            )
        stored = rows.get("timezone")
        if timezone is not None and stored is not None and stored != timezone:
            raise ConfigError(
                f"{self.path} holds buckets of workspace time zone {stored!r}, not {timezone!r}: "
                f"pass --timezone {stored}, or collect into a new --db (a zone change moves every "
                "bucket, so the timelines must be fetched again)"
            )
        with self._write():
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
            if timezone is not None:
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('timezone', ?)", (timezone,))

    # --- reads -----------------------------------------------------------------------------

    def covered(self, keys: Sequence[SeriesKey]) -> dict[SeriesKey, list[Interval]]:
        out: dict[SeriesKey, list[Interval]] = {}
        try:
            for key in keys:
                rows = self._db.execute(
                    "SELECT lo, hi FROM coverage WHERE endpoint = ? AND app_id = ? "
                    "AND segment_id = ? AND unit = ? ORDER BY lo",
                    key,
                ).fetchall()
                out[key] = [(int(lo), int(hi)) for lo, hi in rows]
        except sqlite3.Error as exc:
            raise self._error("read coverage from", exc) from exc
        return out

    def last_time(self, key: SeriesKey) -> str | None:
        try:
            row = self._db.execute(
                "SELECT max(time) FROM points WHERE endpoint = ? AND app_id = ? "
                "AND segment_id = ? AND unit = ?",
                key,
            ).fetchone()
        except sqlite3.Error as exc:
            raise self._error("read points from", exc) from exc
        return None if row is None or row[0] is None else str(row[0])

    def iter_points(self, endpoint: str) -> Iterator[tuple[str, str, str, str, int]]:
        """(app_id, segment_id, unit, time, value), sorted; streamed, not loaded."""
        try:
            yield from self._db.execute(
                "SELECT app_id, segment_id, unit, time, value FROM points WHERE endpoint = ? "
                "ORDER BY app_id, segment_id, unit, time",
                (endpoint,),
            )
        except sqlite3.Error as exc:
            raise self._error("read points from", exc) from exc

    def status(self) -> list[SeriesStatus]:
        try:
            rows = self._db.execute(
                "SELECT endpoint, app_id, segment_id, unit, count(*), min(time), max(time), "
                "max(fetched_at) FROM points GROUP BY endpoint, app_id, segment_id, unit "
                "ORDER BY endpoint, app_id, segment_id, unit"
            ).fetchall()
            keys = [tuple(r[:4]) for r in rows]
            covered = self.covered(keys)
        except sqlite3.Error as exc:
            raise self._error("read", exc) from exc
        return [
            SeriesStatus(
                key=tuple(r[:4]),
                points=int(r[4]),
                first=r[5],
                last=r[6],
                last_fetched=r[7],
                coverage=tuple(covered[tuple(r[:4])]),
            )
            for r in rows
        ]

    def last_run(self) -> tuple[str, str | None, str | None] | None:
        try:
            row = self._db.execute(
                "SELECT command, finished_at, outcome FROM runs ORDER BY id DESC LIMIT 1"
            ).fetchone()
        except sqlite3.Error as exc:
            raise self._error("read runs from", exc) from exc
        return None if row is None else (str(row[0]), row[1], row[2])

    # --- writes ----------------------------------------------------------------------------

    def commit(self, result: WindowResult) -> StoreOutcome:
        window = result.window
        series: Series = window.series
        key = series.key
        cal, unit = series.calendar, series.unit
        fetched = result.fetched_at.isoformat()
        rows = [(cal.key(unit, p.ordinal), p.value) for p in result.points]
        try:
            with self._write():
                existing: dict[str, int] = {}
                if rows:
                    existing = dict(
                        self._db.execute(
                            "SELECT time, value FROM points WHERE endpoint = ? AND app_id = ? "
                            "AND segment_id = ? AND unit = ? AND time BETWEEN ? AND ?",
                            (*key, rows[0][0], rows[-1][0]),
                        ).fetchall()
                    )
                    self._db.executemany(
                        "INSERT INTO points (endpoint, app_id, segment_id, unit, time, value, "
                        "fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT DO UPDATE SET fetched_at = excluded.fetched_at, "
                        "revisions = revisions + (value != excluded.value), value = excluded.value",
                        [(*key, t, v, fetched) for t, v in rows],
                    )
                self._add_coverage(key, result.covered, fetched)
        except sqlite3.Error as exc:
            raise self._error("write", exc) from exc
        revised = sum(1 for t, v in rows if t in existing and existing[t] != v)
        inserted = sum(1 for t, _ in rows if t not in existing)
        return StoreOutcome(
            inserted=inserted, revised=revised, unchanged=len(rows) - inserted - revised
        )

    def _add_coverage(self, key: SeriesKey, interval: Interval, fetched: str) -> None:
        lo, hi = interval
        if lo >= hi:
            return
        touching = self._db.execute(
            "SELECT rowid, lo, hi FROM coverage WHERE endpoint = ? AND app_id = ? "
            "AND segment_id = ? AND unit = ? AND lo <= ? AND hi >= ?",
            (*key, hi, lo),
        ).fetchall()
        for rowid, t_lo, t_hi in touching:
            lo, hi = min(lo, t_lo), max(hi, t_hi)
            self._db.execute("DELETE FROM coverage WHERE rowid = ?", (rowid,))
        self._db.execute(
            "INSERT INTO coverage VALUES (?, ?, ?, ?, ?, ?, ?)", (*key, lo, hi, fetched)
        )

    def begin_run(self, command: str, started_at: datetime) -> int:
        try:
            with self._write():
                cur = self._db.execute(
                    "INSERT INTO runs (command, started_at) VALUES (?, ?)",
                    (command, started_at.isoformat()),
                )
        except sqlite3.Error as exc:
            raise self._error("write", exc) from exc
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, finished_at: datetime, outcome: str, **counts: int) -> None:
        try:
            with self._write():
                self._db.execute(
                    "UPDATE runs SET finished_at = ?, outcome = ?, requests = ?, inserted = ?, "
                    "revised = ? WHERE id = ?",
                    (
                        finished_at.isoformat(),
                        outcome,
                        counts.get("requests", 0),
                        counts.get("inserted", 0),
                        counts.get("revised", 0),
                        run_id,
                    ),
                )
        except sqlite3.Error as exc:
            raise self._error("write", exc) from exc

    @contextmanager
    def _write(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _error(self, doing: str, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        hints = {
            "database is locked": "another collector holds the write lock; retry when it ends",
            "file is not a database": "the file is not a collector database (or is corrupt); "
            "point --db at another path",
            "readonly database": "the file or its folder is read-only; "
            "fix its permissions or pass another --db",
            "unable to open database file": "the file or its folder cannot be opened for "
            "writing; check its permissions, or pass another --db",
            "database or disk is full": "free disk space, or pass a --db on another disk",
            "disk I/O error": "the disk refused a write (full, failing, or over a file-size "
            "limit); free space or pass a --db on another disk, then re-run to resume",
            "malformed": "the file is corrupt; restore it from a backup or collect into a new --db",
        }
        hint = next((h for k, h in hints.items() if k in text), "check the --db path")
        return StoreError(f"cannot {doing} the database {self.path}: {text} ({hint})")
