"""End to end on PostgreSQL: `collector backfill --db postgresql://…` against the simulator writes
what SQLite writes, and every export reads the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collector.cli import main
from collector.simulator import Segment, SimulatorConfig, Workspace

from .threaded import simulator_thread

KEY = "sim-key"
STREAMS = ["sessions", "purchase_revenue", "campaign_stats"]


@pytest.fixture(scope="module")
def sim():
    config = SimulatorConfig(workspaces=(Workspace(apps=("app-ios",), segments=(Segment("vip"),)),))
    with simulator_thread(config) as s:
        yield s


def _backfill(sim, db: str, start: str, end: str) -> int:
    return main(
        [
            "backfill",
            "--db",
            db,
            "--endpoint",
            sim.url,
            "--start",
            start,
            "--end",
            end,
            *(a for s in STREAMS for a in ("--stream", s)),
            "--app-id",
            "",
            "--app-id",
            "app-ios",
            "--product",
            "*",
            "--campaign-id",
            "*",
            "--rate-limit",
            "100000/s",
            "-q",
        ]
    )


def _exports(db: str, tmp_path, name: str) -> dict[str, str]:
    out = {}
    for stream in STREAMS:
        for fmt in ("csv", "jsonl"):
            target = tmp_path / f"{name}-{stream}.{fmt}"
            assert (
                main(
                    [
                        "export",
                        "--db",
                        db,
                        "--stream",
                        stream,
                        "--format",
                        fmt,
                        "--out",
                        str(target),
                    ]
                )
                == 0
            )
            out[f"{stream}.{fmt}"] = target.read_text()
    raw = tmp_path / f"{name}-raw.jsonl"
    assert (
        main(
            [
                "export",
                "--db",
                db,
                "--stream",
                "campaign_stats",
                "--raw",
                "--format",
                "jsonl",
                "--out",
                str(raw),
            ]
        )
        == 0
    )
    out["raw"] = raw.read_text()
    return out


@pytest.mark.slow
def test_backfill_into_postgresql_exports_what_sqlite_exports(
    sim, tmp_path, pg_database, monkeypatch
):
    """Same job into SQLite and PostgreSQL: identical CSV/JSONL/raw exports; a re-run is a no-op."""
    monkeypatch.setenv("BRAZE_API_KEY", KEY)
    # settled days, so the simulator's late data does not differ between the two runs
    today = datetime.now(UTC).date()
    start, end = (today - timedelta(days=40)).isoformat(), (today - timedelta(days=28)).isoformat()
    sqlite_db = str(tmp_path / "c.db")
    assert _backfill(sim, sqlite_db, start, end) == 0
    assert _backfill(sim, pg_database, start, end) == 0
    before = len(sim.log)
    assert _backfill(sim, pg_database, start, end) == 0  # everything covered: nothing to fetch
    assert len(sim.log) - before <= 3  # at most the catalogue lists (discovery is cached)
    a, b = _exports(sqlite_db, tmp_path, "sqlite"), _exports(pg_database, tmp_path, "pg")
    assert all(text.count("\n") > 3 for text in a.values())
    assert a == b
