"""What only PostgreSQL has: migration under an advisory lock, analysts' views, a masked DSN,
an unreachable server, a foreign schema; and `db copy` both ways."""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg
import pytest

from collector.cli import main
from collector.core.streams import STREAMS
from collector.errors import StoreError
from collector.readout.export import columns
from collector.store import open_copy_store
from collector.store.copy import copy_store
from collector.store.postgres import PostgresStore

from .support import CAMPAIGN, REVENUE, T1, S, Stores, result
from .test_parity import _nested

SECRET = "s3cr3t-pw"


def test_concurrent_first_use_migrates_once(pg_schema):
    """Eight connections opening a new schema at once: all succeed, one set of tables, version 2."""
    dsn, schema = pg_schema
    barrier, errors = threading.Barrier(8), []

    def open_one() -> None:
        try:
            barrier.wait()
            PostgresStore(dsn, schema=schema, read_only=False).close()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(dsn) as conn:
        version = conn.execute(
            f"SELECT value FROM {schema}.meta WHERE key = 'schema_version'"
        ).fetchall()
    assert version == [("2",)]


async def test_one_view_per_stream_with_the_export_columns(pg_schema):
    """braze.<stream> has `workspace` then the export's columns, values as stored."""
    dsn, schema = pg_schema
    stores = Stores("postgres", dsn, schema)
    store = await stores.run()
    try:
        await store.commit(result(S, 0, 2, 7))
        await store.commit(result(REVENUE, 0, 1, Decimal("12.50")))
        await store.commit(_nested(0, {0: {"sent": 5}}))
    finally:
        await store.close()
    with psycopg.connect(dsn) as conn:
        for stream in STREAMS.values():
            cur = conn.execute(f'SELECT * FROM {schema}."{stream.name}" LIMIT 0')
            assert [c.name for c in cur.description] == ["workspace", *columns(stream)]
        sessions = conn.execute(f"SELECT * FROM {schema}.sessions ORDER BY time").fetchall()
        revenue = conn.execute(f"SELECT revenue::text FROM {schema}.purchase_revenue").fetchall()
        campaign = conn.execute(f"SELECT * FROM {schema}.campaign_stats").fetchall()
    assert sessions == [
        ("default", "app", "", "day", "2020-01-01", 7),
        ("default", "app", "", "day", "2020-01-02", 7),
    ]
    assert revenue == [("12.50",)]
    assert campaign == [("default", "c1", "2020-01-01", "email", "v1", "sent", 5)]


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://alice:{SECRET}@127.0.0.1:1/analytics",
        f"postgres://alice@127.0.0.1:1/analytics?password={SECRET}&sslmode=disable",
    ],
)
@pytest.mark.parametrize("command", [["status"], ["export", "--stream", "sessions"]])
def test_unreachable_server_exits_4_in_one_line_without_the_password(capsys, url, command):
    """No server: exit 4, one line naming where, the password masked."""
    assert main([*command, "--db", url]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot connect to PostgreSQL" in err
    assert SECRET not in err and "********" in err and "127.0.0.1" in err


def test_backfill_against_an_unreachable_server_exits_4(capsys, monkeypatch):
    """A run fails before any request when its store cannot be opened."""
    monkeypatch.setenv("BRAZE_API_KEY", "k")
    url = f"postgresql://alice:{SECRET}@127.0.0.1:1/analytics"
    code = main(
        ["backfill", "--db", url, "--endpoint", "http://127.0.0.1:1", "--start", "2024-01-01"]
    )
    err = capsys.readouterr().err
    assert code == 4 and SECRET not in err and err.count("\n") == 1


def test_config_check_masks_the_database_password(tmp_path, capsys):
    """config check shows the --db with its password as ********."""
    job = tmp_path / "job.toml"
    job.write_text(
        f'db = "postgresql://alice:{SECRET}@db.example/analytics"\nstart = "2024-01-01"\n'
        'endpoint = "https://rest.iad-01.braze.com"\n'
    )
    assert main(["config", "check", str(job)]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out and "postgresql://alice:********@db.example/analytics" in out


def test_a_foreign_schema_is_never_written(pg_schema):
    """A schema holding another program's tables is refused before anything is created."""
    dsn, schema = pg_schema
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.orders (id int)")
    with pytest.raises(StoreError, match="not collector's"):
        PostgresStore(dsn, schema=schema, read_only=False)


def _exact(rows) -> tuple:
    """A series' rows with each value as (type, literal digits): 12.0 is not 12.00 here."""
    points = [
        (p.time, p.facet, p.metric, type(p.value), str(p.value), p.fetched_at, p.revisions)
        for p in rows.points
    ]
    return points, rows.raw, rows.coverage


def _everything(store) -> tuple:
    series = sorted(store.dump_series())
    return (
        series,
        [_exact(store.dump_series_rows(k)) for k in series],
        [
            (r.workspace, r.command, r.started_at, r.finished_at, r.outcome)
            for r in store.dump_runs()
        ],
        sorted((k, o, e) for _, k, o, e in store.dump_run_series()),
        store.dump_discovery(),
        store.dump_workspaces(),
    )


async def _fill(stores: Stores) -> None:
    from collector.core.models import RunReport, SeriesReport

    store = await stores.run()
    try:
        await store.prepare("default", "UTC")
        await store.check_key("default", "key", rotated=False)
        run = await store.begin_run("default", "backfill", T1)
        await store.commit(result(S, 0, 30, 3))
        await store.commit(result(S, 10, 20, 4))  # revisions
        await store.commit(result(S, 40, 50, 3))  # a gap
        for v in ("12.0", "1E+3", "0.010"):
            await store.commit(result(REVENUE, 0, 1, Decimal(v)))
        await store.commit(result(REVENUE, 1, 2, 12))
        await store.commit(_nested(0, {0: {"sent": 5, "opens": 1}, 1: {"sent": 2}}))
        await store.commit(_nested(0, {0: {"sent": 6}, 1: {"sent": 2}}))
        report = RunReport(requests=9)
        report.series[S.key] = SeriesReport(windows=3)
        report.series[CAMPAIGN.key] = SeriesReport(errors=["x"], failed_windows=1)
        await store.finish_run(run, T1, "incomplete", report)
        await store.remember("default", "apps", ["a", "b"], ["c"], T1)
    finally:
        await store.close()


async def test_db_copy_round_trips_sqlite_to_postgresql_and_back(tmp_path, pg_schema, capsys):
    """SQLite → PostgreSQL → SQLite: every point (value, digits, revisions, fetched_at), coverage
    row, raw day, run, run series, discovery list and workspace equal; a re-run copies nothing."""
    dsn, schema = pg_schema
    first = Stores("sqlite", str(tmp_path / "a.db"))
    await _fill(first)
    args = ["--pg-schema", schema]
    assert main(["db", "copy", "--from", first.location, "--to", dsn, *args]) == 0
    assert "copied 0 points" not in capsys.readouterr().out
    assert main(["db", "copy", "--from", first.location, "--to", dsn, *args]) == 0
    assert capsys.readouterr().out.startswith("copied 0 points, 0 raw days, 0 coverage")
    back = tmp_path / "b.db"
    assert main(["db", "copy", "--from", dsn, "--to", str(back), *args]) == 0
    with (
        open_copy_store(first.location, create=False) as a,
        open_copy_store(dsn, schema=schema, create=False) as p,
        open_copy_store(str(back), create=False) as b,
    ):
        original = _everything(a)
        assert _everything(p) == original
        assert _everything(b) == original
        assert copy_store(p, b).changed == 0
        assert a.salt() == p.salt() == b.salt()  # fingerprints stay valid
    revisions = [pt[-1] for series in original[1] for pt in series[0]]
    assert sum(revisions) > 0


async def test_status_names_the_database_without_its_password(pg_database, capsys):
    """`collector status --db postgresql://user:pw@…` prints the URL with the password masked."""
    dsn = pg_database.replace("postgresql://postgres:@", f"postgresql://postgres:{SECRET}@")
    store = await Stores("postgres", pg_database).run()
    try:
        await store.commit(result(S, 0, 2))
    finally:
        await store.close()
    assert main(["status", "--db", dsn]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out and "sessions" in out
