"""The embedded store: SQLite (WAL). The only module that imports sqlite3.

Tables (schema 2):
    meta        key → value: schema version, the salt of key fingerprints
    workspaces  name → time zone of its buckets, fingerprint of the key it is collected with
    series      id ↔ (workspace, stream, dims as a JSON array, unit)
    points      (series, time, facet, metric) → value, fetched_at, revisions
    raw_days    (series, time) → the day object as Braze sent it (nested streams)
    coverage    merged [lo, hi) bucket-ordinal intervals per series that responses answered
    runs        one row per run; run_series: how each series of a run ended
    discovery   (workspace, list) → names listed, names skipped, when

A window's points and its coverage commit in one transaction (BEGIN IMMEDIATE), so a crash at any
instant leaves either both or neither; points are upserted, so nothing is ever duplicated. A
round-1 database (schema 1) is copied beside itself with the backup API, then migrated in place in
one transaction.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from collector.core.models import (
    DEFAULT_WORKSPACE,
    RunReport,
    SeriesKey,
    StoreOutcome,
    Value,
    WindowResult,
    dims_text,
)
from collector.errors import ConfigError, StoreError
from collector.store.base import (
    SCHEMA_VERSION,
    Interval,
    PointRow,
    RunRecord,
    RunRow,
    SeriesRows,
    SeriesStatus,
    StoredPoint,
    fingerprint,
)

DEFAULT_BUSY_TIMEOUT_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workspaces (
    name TEXT PRIMARY KEY, timezone TEXT, key_fingerprint TEXT
);
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY, workspace TEXT NOT NULL, stream TEXT NOT NULL, dims TEXT NOT NULL,
    unit TEXT NOT NULL, UNIQUE (workspace, stream, dims, unit)
);
CREATE TABLE IF NOT EXISTS points (
    series INTEGER NOT NULL, time TEXT NOT NULL, facet TEXT NOT NULL, metric TEXT NOT NULL,
    value NOT NULL, fetched_at TEXT NOT NULL, revisions INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (series, time, facet, metric)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS raw_days (
    series INTEGER NOT NULL, time TEXT NOT NULL, body TEXT NOT NULL, fetched_at TEXT NOT NULL,
    PRIMARY KEY (series, time)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS coverage (
    series INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL, fetched_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS coverage_series ON coverage (series, lo);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, workspace TEXT NOT NULL DEFAULT 'default', command TEXT NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT, outcome TEXT, requests INTEGER, inserted INTEGER,
    revised INTEGER
);
CREATE TABLE IF NOT EXISTS run_series (
    run INTEGER NOT NULL, series INTEGER NOT NULL, outcome TEXT NOT NULL, error TEXT,
    PRIMARY KEY (run, series)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS discovery (
    workspace TEXT NOT NULL, list TEXT NOT NULL, items TEXT NOT NULL, skipped TEXT NOT NULL,
    listed_at TEXT NOT NULL, PRIMARY KEY (workspace, list)
);
"""
_TABLES = frozenset(
    {
        "meta",
        "workspaces",
        "series",
        "points",
        "raw_days",
        "coverage",
        "runs",
        "run_series",
        "discovery",
    }
)
_ROUND1_TABLES = frozenset({"meta", "points", "coverage", "runs"})


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


def stored_value(value: Value) -> int | str:
    """Counts as integers; decimals as their literal digits (exact, `12.0` stays `12.0`)."""
    return value if type(value) is int else str(value)


def read_value(raw: object) -> Value:
    return Decimal(raw) if isinstance(raw, str) else int(raw)  # type: ignore[call-overload]


class SQLiteStore:
    """A SQLite database file; use as a context manager. Synchronous: see `ThreadedStore`."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self._read_only = read_only
        self._ids: dict[SeriesKey, int] = {}
        self._zone: tuple[str, str] | None = None  # (workspace, zone) to record on first commit
        self.notices: list[str] = []
        if read_only and not path.exists():
            raise ConfigError(
                f"no database at {path}: run `collector backfill --db {path} …` first, "
                "or pass the --db you collected into"
            )
        try:
            if read_only:
                uri = f"{path.resolve().as_uri()}?mode=ro"
                self._db = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False
                )
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._error("open", exc) from exc
        except OSError as exc:
            raise StoreError(f"cannot create the database at {path}: {exc.strerror}") from exc
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(DEFAULT_BUSY_TIMEOUT_S * 1000)}")
            version = self._check_file()  # reads only: nothing is written to a file not ours
            if not read_only:
                _retry_locked(lambda: self._db.execute("PRAGMA journal_mode = WAL"))
                self._db.execute("PRAGMA synchronous = NORMAL")
                if version == 1:
                    self._migrate_round1()
                self._db.executescript(_SCHEMA)  # idempotent DDL, each statement atomic
                with self._write():
                    self._db.execute(
                        "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),),
                    )
                    self._db.execute(
                        "INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (secrets.token_hex(16),)
                    )
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

    # --- schema ----------------------------------------------------------------------------

    def _check_file(self) -> int | None:
        """The schema version of the file (None when new), refusing, before writing anything,
        a file that is not a collector database: another program's, or a newer collector's."""
        tables = {
            str(name)
            for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not str(name).startswith("sqlite_")
        }
        if not tables and not self._read_only:
            return None  # a new (or empty) file: ours to create
        version = None
        if "meta" in tables:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = None if row is None else str(row[0])
        known = _ROUND1_TABLES if version == "1" else _TABLES
        if "meta" not in tables or (version is None and tables - known):
            listed = ", ".join(sorted(tables)) or "none"
            raise StoreError(
                f"{self.path} is not a collector database (its tables: {listed}); collector "
                "will not write into another program's file: pass a new --db path"
            )
        if version not in (None, "1", str(SCHEMA_VERSION)):
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this collector's "
                f"{SCHEMA_VERSION}: upgrade collector (pip install -U collector), or use a new --db"
            )
        if version == "1" and self._read_only:
            raise StoreError(
                f"{self.path} was written by collector 0.1 (schema 1): run any `collector "
                "backfill` or `sync` on it once to migrate it (a copy is kept beside it)"
            )
        return None if version is None else int(version)

    def _migrate_round1(self) -> None:
        """Schema 1 → 2: back the file up beside itself, then move every row in one transaction."""
        backup = self.path.with_name(self.path.name + ".schema1-backup")
        n = 1
        while backup.exists():
            n += 1
            backup = self.path.with_name(f"{self.path.name}.schema1-backup.{n}")
        copy = sqlite3.connect(backup)
        try:
            self._db.backup(copy)  # consistent, WAL included
        finally:
            copy.close()
        zone = self._db.execute("SELECT value FROM meta WHERE key = 'timezone'").fetchone()
        keys = self._db.execute(
            "SELECT endpoint, app_id, segment_id, unit FROM points "
            "UNION SELECT endpoint, app_id, segment_id, unit FROM coverage"
        ).fetchall()
        with self._write():
            for old in ("points", "coverage", "runs"):
                self._db.execute(f"ALTER TABLE {old} RENAME TO v1_{old}")
            self._db.execute("DROP INDEX IF EXISTS coverage_series")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)  # executescript would commit here
            self._db.execute(
                "CREATE TEMP TABLE v1_map (endpoint, app_id, segment_id, unit, id INTEGER)"
            )
            for endpoint, app, segment, unit in keys:
                cur = self._db.execute(
                    "INSERT INTO series (workspace, stream, dims, unit) VALUES (?, ?, ?, ?)",
                    (DEFAULT_WORKSPACE, endpoint, dims_text((app, segment)), unit),
                )
                self._db.execute(
                    "INSERT INTO v1_map VALUES (?, ?, ?, ?, ?)",
                    (endpoint, app, segment, unit, cur.lastrowid),
                )
            join = (
                "JOIN v1_map m ON m.endpoint = o.endpoint AND m.app_id = o.app_id "
                "AND m.segment_id = o.segment_id AND m.unit = o.unit"
            )
            self._db.execute(
                "INSERT INTO points SELECT m.id, o.time, '', o.endpoint, o.value, o.fetched_at, "
                f"o.revisions FROM v1_points o {join}"
            )
            self._db.execute(
                f"INSERT INTO coverage SELECT m.id, o.lo, o.hi, o.fetched_at FROM v1_coverage o {join}"
            )
            self._db.execute(
                "INSERT INTO runs SELECT id, ?, command, started_at, finished_at, outcome, "
                "requests, inserted, revised FROM v1_runs",
                (DEFAULT_WORKSPACE,),
            )
            if zone is not None:
                self._db.execute(
                    "INSERT INTO workspaces (name, timezone) VALUES (?, ?)",
                    (DEFAULT_WORKSPACE, zone[0]),
                )
            for old in ("points", "coverage", "runs"):
                self._db.execute(f"DROP TABLE v1_{old}")
            self._db.execute("DROP TABLE v1_map")
            self._db.execute("DELETE FROM meta WHERE key = 'timezone'")
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", ("2",))
        self.notices.append(
            f"migrated {self.path} from schema 1 to {SCHEMA_VERSION} (workspace "
            f"{DEFAULT_WORKSPACE!r}); the database as it was is kept at {backup}"
        )

    # --- workspaces ------------------------------------------------------------------------

    def prepare(self, workspace: str, timezone: str) -> None:
        """Refuse a zone other than the one the workspace's buckets are in (recorded on first
        commit, so a run that fails before storing anything does not pin it)."""
        stored = self.timezone(workspace)
        if stored is not None and stored != timezone:
            raise ConfigError(
                f"{self.path} holds workspace {workspace!r} in time zone {stored!r}, not "
                f"{timezone!r}: pass --timezone {stored}, or collect into a new --db (a zone "
                "change moves every bucket, so the timelines must be fetched again)"
            )
        self._zone = (workspace, timezone)

    def check_key(self, workspace: str, api_key: str, *, rotated: bool) -> None:
        """Never mix two workspaces silently: the key must be the one this workspace was
        collected with, unless the user says it was rotated (then the new one is recorded)."""
        salt = self._meta("salt")
        assert salt is not None
        mark = fingerprint(salt, api_key)
        row = self._db.execute(
            "SELECT key_fingerprint FROM workspaces WHERE name = ?", (workspace,)
        ).fetchone()
        known = None if row is None else row[0]
        if known is not None and known != mark and not rotated:
            raise ConfigError(
                f"this API key is not the one workspace {workspace!r} in {self.path} was "
                "collected with. If it is another workspace, pass --workspace NAME to keep it "
                "apart; if you rotated the key of the same workspace, pass --key-rotated once"
            )
        if known != mark:
            with self._write():
                self._db.execute(
                    "INSERT INTO workspaces (name, key_fingerprint) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET key_fingerprint = excluded.key_fingerprint",
                    (workspace, mark),
                )

    def timezone(self, workspace: str) -> str | None:
        try:
            row = self._db.execute(
                "SELECT timezone FROM workspaces WHERE name = ?", (workspace,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise self._error("read", exc) from exc
        return None if row is None or row[0] is None else str(row[0])

    def workspaces(self) -> list[str]:
        rows = self._db.execute(
            "SELECT DISTINCT workspace FROM series UNION SELECT name FROM workspaces ORDER BY 1"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # --- reads -----------------------------------------------------------------------------

    def _series_id(self, key: SeriesKey, *, create: bool) -> int | None:
        found = self._ids.get(key)
        if found is not None:
            return found
        row = self._db.execute(
            "SELECT id FROM series WHERE workspace = ? AND stream = ? AND dims = ? AND unit = ?",
            key,
        ).fetchone()
        if row is None and create:
            row = (
                self._db.execute(
                    "INSERT INTO series (workspace, stream, dims, unit) VALUES (?, ?, ?, ?)", key
                ).lastrowid,
            )
        if row is None:
            return None
        self._ids[key] = int(row[0])
        return int(row[0])

    def covered(self, keys: Sequence[SeriesKey]) -> dict[SeriesKey, list[Interval]]:
        out: dict[SeriesKey, list[Interval]] = {}
        try:
            for key in keys:
                sid = self._series_id(key, create=False)
                rows = (
                    []
                    if sid is None
                    else self._db.execute(
                        "SELECT lo, hi FROM coverage WHERE series = ? ORDER BY lo", (sid,)
                    ).fetchall()
                )
                out[key] = [(int(lo), int(hi)) for lo, hi in rows]
        except sqlite3.Error as exc:
            raise self._error("read coverage from", exc) from exc
        return out

    def last_time(self, key: SeriesKey) -> str | None:
        try:
            sid = self._series_id(key, create=False)
            if sid is None:
                return None
            row = self._db.execute(
                "SELECT max(time) FROM points WHERE series = ?", (sid,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise self._error("read points from", exc) from exc
        return None if row is None or row[0] is None else str(row[0])

    def iter_points(self, workspace: str, stream: str) -> Iterator[StoredPoint]:
        """Sorted by dimensions, unit, time, facet, metric; streamed, not loaded."""
        try:
            cursor = self._db.execute(
                "SELECT s.dims, s.unit, p.time, p.facet, p.metric, p.value FROM points p "
                "JOIN series s ON s.id = p.series WHERE s.workspace = ? AND s.stream = ? "
                "ORDER BY s.dims, s.unit, p.time, p.facet, p.metric",
                (workspace, stream),
            )
            for dims, unit, t, facet, metric, value in cursor:
                yield StoredPoint(
                    tuple(json.loads(dims)), unit, t, facet, metric, read_value(value)
                )
        except sqlite3.Error as exc:
            raise self._error("read points from", exc) from exc

    def iter_raw(self, workspace: str, stream: str) -> Iterator[tuple[tuple[str, ...], str, str]]:
        """(dims, time, day object as JSON), sorted."""
        try:
            cursor = self._db.execute(
                "SELECT s.dims, r.time, r.body FROM raw_days r JOIN series s ON s.id = r.series "
                "WHERE s.workspace = ? AND s.stream = ? ORDER BY s.dims, r.time",
                (workspace, stream),
            )
            for dims, t, body in cursor:
                yield tuple(json.loads(dims)), t, body
        except sqlite3.Error as exc:
            raise self._error("read points from", exc) from exc

    def status(self, workspace: str | None = None) -> list[SeriesStatus]:
        try:
            rows = self._db.execute(
                "SELECT s.id, s.workspace, s.stream, s.dims, s.unit, count(DISTINCT p.time), "
                "min(p.time), max(p.time), max(p.fetched_at) FROM series s "
                "LEFT JOIN points p ON p.series = s.id WHERE ? IS NULL OR s.workspace = ? "
                "GROUP BY s.id ORDER BY s.workspace, s.stream, s.dims, s.unit",
                (workspace, workspace),
            ).fetchall()
            out = []
            for sid, ws, stream, dims, unit, n, first, last, fetched in rows:
                cov = self._db.execute(
                    "SELECT lo, hi FROM coverage WHERE series = ? ORDER BY lo", (sid,)
                ).fetchall()
                verdict = self._db.execute(
                    "SELECT outcome, error FROM run_series WHERE series = ? "
                    "ORDER BY run DESC LIMIT 1",
                    (sid,),
                ).fetchone()
                out.append(
                    SeriesStatus(
                        key=(ws, stream, dims, unit),
                        points=int(n),
                        first=first,
                        last=last,
                        last_fetched=fetched,
                        coverage=tuple((int(a), int(b)) for a, b in cov),
                        outcome=None if verdict is None else verdict[0],
                        error=None if verdict is None else verdict[1],
                    )
                )
        except sqlite3.Error as exc:
            raise self._error("read", exc) from exc
        return out

    def runs(self, workspace: str | None = None, limit: int = 1) -> list[RunRow]:
        try:
            rows = self._db.execute(
                "SELECT id, workspace, command, started_at, finished_at, outcome, requests "
                "FROM runs WHERE ? IS NULL OR workspace = ? ORDER BY id DESC LIMIT ?",
                (workspace, workspace, limit),
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._error("read runs from", exc) from exc
        return [RunRow(*r) for r in rows]

    def discovered_now(self, workspace: str, what: str) -> tuple[list[str], list[str], str] | None:
        row = self._db.execute(
            "SELECT items, skipped, listed_at FROM discovery WHERE workspace = ? AND list = ?",
            (workspace, what),
        ).fetchone()
        if row is None:
            return None
        return json.loads(row[0]), json.loads(row[1]), str(row[2])

    # --- writes ----------------------------------------------------------------------------

    def commit(self, result: WindowResult) -> StoreOutcome:
        series = result.window.series
        cal, unit = series.calendar, series.unit
        fetched = result.fetched_at.isoformat()
        key_of = cal.key
        points = result.points
        times = cal.keys(unit, [p.ordinal for p in points])
        rows = [
            (t, p.facet, p.metric, stored_value(p.value))
            for t, p in zip(times, points, strict=True)
        ]
        removed = 0
        try:
            with self._write():
                self._record_zone(series.workspace)
                sid = self._series_id(series.key, create=True)
                existing: dict[tuple[str, str, str], object] = {}
                lo_t, hi_t = key_of(unit, result.covered[0]), key_of(unit, result.covered[1] - 1)
                if rows or result.raw:
                    existing = {
                        (t, f, m): v
                        for t, f, m, v in self._db.execute(
                            "SELECT time, facet, metric, value FROM points WHERE series = ? "
                            "AND time BETWEEN ? AND ?",
                            (sid, lo_t, hi_t),
                        )
                    }
                if rows:
                    self._db.executemany(
                        "INSERT INTO points (series, time, facet, metric, value, fetched_at) "
                        "VALUES (?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT DO UPDATE SET fetched_at = excluded.fetched_at, "
                        "revisions = revisions + (value IS NOT excluded.value), "
                        "value = excluded.value",
                        [(sid, t, f, m, v, fetched) for t, f, m, v in rows],
                    )
                if result.raw:
                    days = {key_of(unit, o) for o, _ in result.raw}
                    fresh = {(t, f, m) for t, f, m, _ in rows}
                    gone = [k for k in existing if k[0] in days and k not in fresh]
                    self._db.executemany(
                        "DELETE FROM points WHERE series = ? AND time = ? AND facet = ? "
                        "AND metric = ?",
                        [(sid, *k) for k in gone],
                    )
                    removed = len(gone)
                    self._db.executemany(
                        "INSERT INTO raw_days VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                        "body = excluded.body, fetched_at = excluded.fetched_at",
                        [(sid, key_of(unit, o), body, fetched) for o, body in result.raw],
                    )
                self._add_coverage(sid, result.covered, fetched)
        except sqlite3.Error as exc:
            raise self._error("write", exc) from exc
        inserted = revised = 0
        for t, f, m, v in rows:
            old = existing.get((t, f, m), _MISSING)
            if old is _MISSING:
                inserted += 1
            elif old != v:
                revised += 1
        return StoreOutcome(inserted, revised, len(rows) - inserted - revised, removed)

    def _record_zone(self, workspace: str) -> None:
        zone = self._zone
        if zone is None or zone[0] != workspace:
            return
        self._db.execute(
            "INSERT INTO workspaces (name, timezone) VALUES (?, ?) ON CONFLICT (name) "
            "DO UPDATE SET timezone = excluded.timezone WHERE timezone IS NULL",
            zone,
        )

    def _add_coverage(self, sid: int | None, interval: Interval, fetched: str) -> None:
        lo, hi = interval
        if lo >= hi:
            return
        touching = self._db.execute(
            "SELECT rowid, lo, hi FROM coverage WHERE series = ? AND lo <= ? AND hi >= ?",
            (sid, hi, lo),
        ).fetchall()
        for rowid, t_lo, t_hi in touching:
            lo, hi = min(lo, t_lo), max(hi, t_hi)
            self._db.execute("DELETE FROM coverage WHERE rowid = ?", (rowid,))
        self._db.execute("INSERT INTO coverage VALUES (?, ?, ?, ?)", (sid, lo, hi, fetched))

    def begin_run(self, workspace: str, command: str, started_at: datetime) -> int:
        try:
            with self._write():
                cur = self._db.execute(
                    "INSERT INTO runs (workspace, command, started_at) VALUES (?, ?, ?)",
                    (workspace, command, started_at.isoformat()),
                )
        except sqlite3.Error as exc:
            raise self._error("write", exc) from exc
        return int(cur.lastrowid or 0)

    def finish_run(
        self, run_id: int, finished_at: datetime, outcome: str, report: RunReport
    ) -> None:
        try:
            with self._write():
                self._db.execute(
                    "UPDATE runs SET finished_at = ?, outcome = ?, requests = ?, inserted = ?, "
                    "revised = ? WHERE id = ?",
                    (
                        finished_at.isoformat(),
                        outcome,
                        report.requests,
                        report.inserted,
                        report.revised,
                        run_id,
                    ),
                )
                for key, s in report.series.items():
                    sid = self._series_id(key, create=True)
                    self._db.execute(
                        "INSERT OR REPLACE INTO run_series VALUES (?, ?, ?, ?)",
                        (
                            run_id,
                            sid,
                            report.outcome(key) if outcome != "interrupted" else "interrupted",
                            s.refused or (s.errors[-1] if s.errors else None),
                        ),
                    )
        except sqlite3.Error as exc:
            raise self._error("write", exc) from exc

    def remember(
        self, workspace: str, what: str, items: list[str], skipped: list[str], at: datetime
    ) -> None:
        try:
            with self._write():
                self._db.execute(
                    "INSERT OR REPLACE INTO discovery VALUES (?, ?, ?, ?, ?)",
                    (
                        workspace,
                        what,
                        json.dumps(items, ensure_ascii=False),
                        json.dumps(skipped, ensure_ascii=False),
                        at.isoformat(),
                    ),
                )
        except sqlite3.Error as exc:
            raise self._error("write", exc) from exc

    # --- db copy ---------------------------------------------------------------------------

    def salt(self) -> str:
        salt = self._meta("salt")
        assert salt is not None
        return salt

    def has_fingerprints(self) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM workspaces WHERE key_fingerprint IS NOT NULL LIMIT 1"
        ).fetchone()
        return row is not None

    def dump_workspaces(self) -> list[tuple[str, str | None, str | None]]:
        rows = self._db.execute(
            "SELECT name, timezone, key_fingerprint FROM workspaces ORDER BY name"
        ).fetchall()
        return [(str(n), z, f) for n, z, f in rows]

    def dump_series(self) -> list[SeriesKey]:
        rows = self._db.execute(
            "SELECT workspace, stream, dims, unit FROM series ORDER BY id"
        ).fetchall()
        return [(str(w), str(s), str(d), str(u)) for w, s, d, u in rows]

    def dump_series_rows(self, key: SeriesKey) -> SeriesRows:
        sid = self._series_id(key, create=False)
        if sid is None:
            return SeriesRows((), (), ())
        points = tuple(
            PointRow(t, f, m, read_value(v), at, int(n))
            for t, f, m, v, at, n in self._db.execute(
                "SELECT time, facet, metric, value, fetched_at, revisions FROM points "
                "WHERE series = ? ORDER BY time, facet, metric",
                (sid,),
            )
        )
        raw = tuple(
            (str(t), str(b), str(at))
            for t, b, at in self._db.execute(
                "SELECT time, body, fetched_at FROM raw_days WHERE series = ? ORDER BY time",
                (sid,),
            )
        )
        coverage = tuple(
            (int(lo), int(hi), str(at))
            for lo, hi, at in self._db.execute(
                "SELECT lo, hi, fetched_at FROM coverage WHERE series = ? ORDER BY lo", (sid,)
            )
        )
        return SeriesRows(points, raw, coverage)

    def dump_runs(self) -> list[RunRecord]:
        rows = self._db.execute(
            "SELECT id, workspace, command, started_at, finished_at, outcome, requests, "
            "inserted, revised FROM runs ORDER BY id"
        ).fetchall()
        return [RunRecord(*r) for r in rows]

    def dump_run_series(self) -> list[tuple[int, SeriesKey, str, str | None]]:
        rows = self._db.execute(
            "SELECT r.run, s.workspace, s.stream, s.dims, s.unit, r.outcome, r.error "
            "FROM run_series r JOIN series s ON s.id = r.series ORDER BY r.run, s.id"
        ).fetchall()
        return [(int(run), (w, st, d, u), o, e) for run, w, st, d, u, o, e in rows]

    def dump_discovery(self) -> list[tuple[str, str, str, str, str]]:
        rows = self._db.execute(
            "SELECT workspace, list, items, skipped, listed_at FROM discovery "
            "ORDER BY workspace, list"
        ).fetchall()
        return [(str(a), str(b), str(c), str(d), str(e)) for a, b, c, d, e in rows]

    def put_salt(self, salt: str) -> None:
        with self._write():
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'salt'", (salt,))

    def put_workspace(self, name: str, timezone: str | None, key_fingerprint: str | None) -> None:
        with self._write():
            self._db.execute(
                "INSERT OR REPLACE INTO workspaces (name, timezone, key_fingerprint) "
                "VALUES (?, ?, ?)",
                (name, timezone, key_fingerprint),
            )

    def put_series_rows(
        self,
        key: SeriesKey,
        points: Sequence[PointRow],
        raw: Sequence[tuple[str, str, str]],
        coverage: Sequence[tuple[int, int, str]] | None,
    ) -> None:
        """Rows exactly as given (coverage, when given, replaces the series'), one transaction."""
        with self._write():
            sid = self._series_id(key, create=True)
            self._db.executemany(
                "INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        sid,
                        p.time,
                        p.facet,
                        p.metric,
                        stored_value(p.value),
                        p.fetched_at,
                        p.revisions,
                    )
                    for p in points
                ],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO raw_days VALUES (?, ?, ?, ?)",
                [(sid, t, body, at) for t, body, at in raw],
            )
            if coverage is not None:
                self._db.execute("DELETE FROM coverage WHERE series = ?", (sid,))
                self._db.executemany(
                    "INSERT INTO coverage VALUES (?, ?, ?, ?)",
                    [(sid, lo, hi, at) for lo, hi, at in coverage],
                )

    def put_run(self, run: RunRecord, *, new: bool) -> int:
        values = (
            run.workspace,
            run.command,
            run.started_at,
            run.finished_at,
            run.outcome,
            run.requests,
            run.inserted,
            run.revised,
        )
        with self._write():
            if new:
                cur = self._db.execute(
                    "INSERT INTO runs (workspace, command, started_at, finished_at, outcome, "
                    "requests, inserted, revised) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    values,
                )
                return int(cur.lastrowid or 0)
            self._db.execute(
                "UPDATE runs SET workspace = ?, command = ?, started_at = ?, finished_at = ?, "
                "outcome = ?, requests = ?, inserted = ?, revised = ? WHERE id = ?",
                (*values, run.id),
            )
        return run.id

    def put_run_series(self, run: int, key: SeriesKey, outcome: str, error: str | None) -> None:
        with self._write():
            sid = self._series_id(key, create=True)
            self._db.execute(
                "INSERT OR REPLACE INTO run_series VALUES (?, ?, ?, ?)", (run, sid, outcome, error)
            )

    def put_discovery(self, row: tuple[str, str, str, str, str]) -> None:
        with self._write():
            self._db.execute("INSERT OR REPLACE INTO discovery VALUES (?, ?, ?, ?, ?)", row)

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


_MISSING = object()
