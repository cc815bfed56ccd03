"""End to end for every stream of the family: the real pipeline and HTTP client against the
simulator on a loopback socket, on a virtual clock. Expected values come from the simulator's
truth; bucket keys from zoneinfo directly."""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from collector.clock import VirtualClock
from collector.core.streams import STREAMS
from collector.errors import ConfigError
from collector.simulator import (
    ApiKey,
    PoolLimit,
    Segment,
    SimulatorConfig,
    Workspace,
    run_simulator,
)

from .family import (
    NOW,
    ZONE,
    leaves,
    raw_days,
    run,
    scalar_truth,
    stored,
    zone_start,
)

APPS = ("app-ios", "app-android")
SEGMENTS = (Segment("vip"), Segment("quiet", analytics_tracking=False))


def config(**kw: object) -> SimulatorConfig:
    ws = Workspace(timezone=ZONE, apps=APPS, segments=SEGMENTS)
    return SimulatorConfig(workspaces=(ws,), **kw)  # type: ignore[arg-type]


# stream, unit, fan-out flags, the dimension combinations expected
SCALAR_CASES = [
    ("sessions", "day", {"app_id": ["", "app-ios"], "segment_id": ["", "*"]}),
    ("sessions", "hour", {"app_id": [""], "segment_id": [""]}),
    ("dau", "day", {"app_id": ["", *APPS]}),
    ("mau", "day", {"app_id": ["", "app-ios"]}),
    ("new_users", "day", {"app_id": [""]}),
    ("uninstalls", "day", {"app_id": ["app-android"]}),
    ("events", "day", {"event": ["*"], "app_id": [""]}),
    ("events", "hour", {"event": ["added_to_cart"], "app_id": ["app-ios"], "segment_id": ["vip"]}),
    ("purchase_quantity", "hour", {"product": ["", "gem_pack_100"], "app_id": [""]}),
    ("purchase_revenue", "day", {"product": ["*"], "app_id": ["", "app-ios"]}),
    ("segment_size", "day", {"segment_id": ["*"]}),
]


def _span(unit: str, clock: VirtualClock) -> tuple[str, datetime, datetime]:
    """(--start, start instant, end instant): 250 days or 250 hours before the current bucket."""
    now = datetime.fromtimestamp(clock.time(), UTC)
    if unit == "day":
        today = now.astimezone(zone_start("2024-01-01", ZONE).tzinfo).date().isoformat()
        end = zone_start(today, ZONE)
        start_day = (end - timedelta(days=250)).astimezone(end.tzinfo).date().isoformat()
        return start_day, zone_start(start_day, ZONE), end
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=250)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ"), start, end


def _combos(sim, stream: str, flags: dict) -> list[dict[str, str]]:
    """The series a job asks for, with '*' expanded from the simulator's own catalogue."""
    ws = sim.config.workspaces[0]
    listed = {
        "event": list(ws.events),
        "product": list(ws.products),
        "segment_id": [s.id for s in ws.segments if s.analytics_tracking],
    }
    defaults = {"app_id": [""], "segment_id": [""], "product": [""]}
    combos: list[dict[str, str]] = [{}]
    for dim in STREAMS[stream].dimensions:
        values: list[str] = []
        for v in flags.get(dim, defaults.get(dim, [])):
            values += listed[dim] if v == "*" else [v]
        if dim in STREAMS[stream].required:
            values = [v for v in values if v]
        combos = [{**c, dim: v} for c in combos for v in dict.fromkeys(values)]
    return combos


@pytest.mark.parametrize(("stream", "unit", "flags"), SCALAR_CASES, ids=lambda c: str(c)[:20])
async def test_every_scalar_stream_gives_exact_timelines_with_minimal_requests(
    store_at, stream, unit, flags
):
    """Exact timeline per series, ceil(N/100) requests each, discovery from lists, and a second
    run sends nothing."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(), clock=clock) as sim:
        db = store_at
        start, lo, hi = _span(unit, clock)
        report = await run(sim, clock, db, stream=[stream], unit=unit, start=start, **flags)
        assert report.complete, report
        combos = _combos(sim, stream, flags)
        spec = STREAMS[stream]
        expected: dict = {}
        for dims in combos:
            expected |= scalar_truth(sim, spec.path, spec.metric, dims, unit, lo, hi, ZONE)
        assert stored(db, stream) == expected
        assert len(expected) > 0
        series_requests = [r for r in sim.log if r.path == spec.path]
        assert len(series_requests) == len(combos) * math.ceil(250 / 100)
        assert report.requests == len(sim.log)
        again = await run(sim, clock, db, stream=[stream], unit=unit, start=start, **flags)
        assert again.complete and again.requests == 0


@pytest.mark.parametrize("alignment", ["exclusive", "inclusive"])
async def test_both_readings_of_ending_at_for_a_daily_kpi_and_events(store_at, alignment):
    clock = VirtualClock(NOW)
    async with run_simulator(config(alignment=alignment), clock=clock) as sim:
        db = store_at
        start, lo, hi = _span("day", clock)
        flags = {"event": ["level_complete"], "app_id": ["", "app-ios"]}
        report = await run(sim, clock, db, stream=["dau", "events"], start=start, **flags)
        assert report.complete
        assert report.alignment == alignment
        for name in ("dau", "events"):
            spec = STREAMS[name]
            expected: dict = {}
            for dims in _combos(sim, name, flags):
                expected |= scalar_truth(sim, spec.path, spec.metric, dims, "day", lo, hi, ZONE)
            assert stored(db, name) == expected


async def test_revenue_keeps_the_digits_braze_sent(store_at):
    clock = VirtualClock(NOW)
    async with run_simulator(config(), clock=clock) as sim:
        db = store_at
        start, lo, hi = _span("day", clock)
        await run(sim, clock, db, stream=["purchase_revenue"], start=start, product=["*"])
        values = list(stored(db, "purchase_revenue").values())
        truth = scalar_truth(
            sim,
            "/purchases/revenue_series",
            "revenue",
            {"product": "gem_pack_100", "app_id": ""},
            "day",
            lo,
            hi,
            ZONE,
        )
        assert any(str(v).endswith(".0") or "." in str(v) for v in truth.values())
        stored_strs = {str(v) for v in values}
        assert {str(v) for v in truth.values()} <= stored_strs


async def test_sync_lookback_refreshes_late_data_for_every_daily_stream(store_at):
    """Late data grow (or, for new_users, shrink) recent days: a sync after the data settle
    stores exactly the final values and counts the revisions."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(late_data=True), clock=clock) as sim:
        db = store_at
        start, lo, hi = _span("day", clock)
        flags = {"stream": ["sessions", "dau", "new_users", "uninstalls", "events"], "event": ["*"]}
        first = await run(sim, clock, db, start=start, **flags)
        assert first.complete
        clock.advance(3 * 3600)  # hours later, same day: only the lookback is re-read
        second = await run(sim, clock, db, "sync", **flags)
        assert second.complete and second.revised > 0
        assert second.requests <= len(second.series)  # one window per series
        for name in flags["stream"]:
            spec = STREAMS[name]
            expected: dict = {}
            for dims in _combos(sim, name, flags):
                expected |= scalar_truth(sim, spec.path, spec.metric, dims, "day", lo, hi, ZONE)
            assert stored(db, name) == expected, name


async def test_nested_streams_store_every_numeric_leaf_and_the_raw_day(store_at):
    """campaign_stats '*' (archived found, never-sent makes no series request), canvas_stats '*'
    in 14-day windows, send_stats: every numeric leaf of every day is a point; raw days equal
    the served objects."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(), clock=clock) as sim:
        db = store_at
        start = "2023-01-01"
        report = await run(
            sim,
            clock,
            db,
            stream=["campaign_stats", "canvas_stats", "send_stats"],
            start=start,
            campaign_id=["*"],
            canvas_id=["*"],
            send_id=["cmp-receipts:send-0001"],
        )
        assert report.complete, report
        ws = sim.config.workspaces[0]
        series_paths = [r for r in sim.log if r.path == "/campaigns/data_series"]
        asked = {r.params["campaign_id"] for r in series_paths}
        assert "cmp-spring-sale" in asked  # archived: found
        assert "cmp-draft" not in asked  # never sent: details only
        assert any("cmp-draft" in s and "never sent" in s for s in report.skipped)
        lo, hi = zone_start(start, ZONE), zone_start("2024-06-15", ZONE)
        for stream, path, ids in (
            ("campaign_stats", "/campaigns/data_series", [(c.id,) for c in ws.campaigns]),
            ("canvas_stats", "/canvas/data_series", [(c.id,) for c in ws.canvases]),
        ):
            raws = raw_days(db, stream)
            points = stored(db, stream)
            for (entity,) in ids:
                key = "campaign_id" if stream == "campaign_stats" else "canvas_id"
                days = sim.truth_days(path, lo, hi, **{key: entity})
                active = [
                    d
                    for d in days
                    if any(v for _, v in leaves({k: v for k, v in d.items() if k != "time"}))
                ]
                for day in active:
                    when = day["time"]
                    if "T" in when:
                        t = datetime.fromisoformat(when.replace("Z", "+00:00"))
                        when = t.astimezone(lo.tzinfo).date().isoformat()
                    assert ((entity,), when) in raws
                stored_days = {t for (e, t) in raws if e == (entity,)}
                for day in days:
                    when = day["time"]
                    if "T" in when:
                        t = datetime.fromisoformat(when.replace("Z", "+00:00"))
                        when = t.astimezone(lo.tzinfo).date().isoformat()
                    settled = when < "2024-05-01"  # recent days still gain late conversions
                    if when in stored_days and settled:
                        assert raws[((entity,), when)] == day
                n_leaves = sum(
                    len(leaves({k: v for k, v in raws[(e, t)].items() if k != "time"}))
                    for (e, t) in raws
                    if e == (entity,)
                )
                n_points = sum(1 for k in points if k[0] == (entity,))
                assert n_points == n_leaves
        canvas_requests = [r for r in sim.log if r.path == "/canvas/data_series"]
        assert all(int(r.params["length"]) <= 14 for r in canvas_requests)
        assert stored(db, "send_stats")
        again = await run(
            sim,
            clock,
            db,
            stream=["campaign_stats", "canvas_stats"],
            start=start,
            campaign_id=["*"],
            canvas_id=["*"],
        )
        assert again.requests == 0  # lists, details and windows all known


async def test_discovery_pages_caches_and_round_trips_awkward_names(store_at):
    """300 events (two pages of 250) with every awkward character; a second run within the TTL
    lists nothing again; names are stored byte for byte; untracked segments are skipped."""
    names = tuple(f"ev {i} &/?#%+=\"'日本 🎉" for i in range(300))
    ws = Workspace(timezone=ZONE, apps=APPS, segments=SEGMENTS, events=names)
    clock = VirtualClock(NOW)
    async with run_simulator(SimulatorConfig(workspaces=(ws,)), clock=clock) as sim:
        db = store_at
        start = (datetime.fromtimestamp(NOW, UTC) - timedelta(days=20)).date().isoformat()
        flags = {"stream": ["events", "sessions"], "event": ["*"], "segment_id": ["*"]}
        report = await run(sim, clock, db, start=start, **flags)
        assert report.complete
        list_calls = [r for r in sim.log if r.path == "/events/list"]
        assert [r.params.get("page") for r in list_calls] == ["0", "1", "2"]
        stored_events = {k[0][0] for k in stored(db, "events")}
        assert stored_events == set(names)
        assert any("'quiet'" in s for s in report.skipped)
        assert not any(r.params.get("segment_id") == "quiet" for r in sim.log)
        sim.log.clear()
        clock.advance(3600)
        await run(sim, clock, db, start=start, **flags)
        assert not [r for r in sim.log if r.path.endswith("/list")]


async def test_a_429_storm_in_the_list_pool_does_not_slow_the_default_pool(store_at):
    """The list pool allows 2 requests per hour; the sessions fan-out still finishes at once."""
    clock = VirtualClock(NOW)
    cfg = config(pool_limits=(PoolLimit("export-lists", 2, 3600),))
    async with run_simulator(cfg, clock=clock) as sim:
        db = store_at
        start, _, _ = _span("day", clock)
        t0 = clock.time()
        report = await run(
            sim,
            clock,
            db,
            stream=["sessions"],
            start=start,
            app_id=["", *APPS],
            rate_limit=["100000/s", "export-lists=1000/h"],
        )
        assert report.complete and clock.time() - t0 < 60


async def test_a_403_on_one_stream_fails_it_alone(store_at):
    clock = VirtualClock(NOW)
    key = ApiKey("scoped", permissions=frozenset({"sessions.data_series"}))
    async with run_simulator(config(keys=(key,)), clock=clock) as sim:
        db = store_at
        start, _, _ = _span("day", clock)
        report = await run(sim, clock, db, stream=["sessions", "dau"], start=start, key="scoped")
        assert not report.complete and report.fatal is None
        outcomes = {k[1]: report.outcome(k) for k in report.series}
        assert outcomes == {"sessions": "complete", "dau": "refused"}
        assert "kpi.dau.data_series" in next(
            s.refused for k, s in report.series.items() if k[1] == "dau"
        )


async def test_a_key_of_another_workspace_stops_before_any_request(tmp_path):
    clock = VirtualClock(NOW)
    keys = (ApiKey("key-a"), ApiKey("key-b"))
    async with run_simulator(config(keys=keys), clock=clock) as sim:
        db = tmp_path / "c.db"
        start, _, _ = _span("day", clock)
        assert (await run(sim, clock, db, start=start, key="key-a")).complete
        sim.log.clear()
        with pytest.raises(ConfigError, match=r"--workspace NAME.*--key-rotated"):
            await run(sim, clock, db, start=start, key="key-b")
        assert sim.log == []
        other = await run(sim, clock, db, start=start, key="key-b", workspace="second")
        assert other.complete and other.requests > 0
        rotated = await run(sim, clock, db, start=start, key="key-b", key_rotated=True)
        assert rotated.complete and rotated.requests == 0  # no re-backfill after a rotation
        con = sqlite3.connect(db)
        dump = "\n".join(con.iterdump())
        assert "key-a" not in dump and "key-b" not in dump


ROUND1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE points (
    endpoint TEXT NOT NULL, app_id TEXT NOT NULL, segment_id TEXT NOT NULL, unit TEXT NOT NULL,
    time TEXT NOT NULL, value INTEGER NOT NULL, fetched_at TEXT NOT NULL,
    revisions INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint, app_id, segment_id, unit, time)
) WITHOUT ROWID;
CREATE TABLE coverage (
    endpoint TEXT NOT NULL, app_id TEXT NOT NULL, segment_id TEXT NOT NULL, unit TEXT NOT NULL,
    lo INTEGER NOT NULL, hi INTEGER NOT NULL, fetched_at TEXT NOT NULL
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY, command TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT, outcome TEXT, requests INTEGER, inserted INTEGER, revised INTEGER
);
"""


async def test_a_round1_database_migrates_with_every_point_intact(tmp_path):
    """Built from the round-1 schema here: after the first run every old point is there with its
    revisions, the covered range costs no request, and a backup sits beside the file."""
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.executescript(ROUND1_SCHEMA)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1'), ('timezone', ?)", (ZONE,))
    clock = VirtualClock(NOW)
    async with run_simulator(config(), clock=clock) as sim:
        start, lo, hi = _span("day", clock)
        truth = scalar_truth(
            sim,
            "/sessions/data_series",
            "sessions",
            {"app_id": "app-ios", "segment_id": ""},
            "day",
            lo,
            hi,
            ZONE,
        )
        rows = [
            ("sessions", "app-ios", "", "day", k[2], v, "2024-01-01T00:00:00+00:00", 2)
            for k, v in truth.items()
        ]
        con.executemany("INSERT INTO points VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        # coverage in round 1's ordinals: days since 0001-01-01 in the zone
        first = datetime.fromisoformat(start).date().toordinal()
        con.execute(
            "INSERT INTO coverage VALUES ('sessions', 'app-ios', '', 'day', ?, ?, 'x')",
            (first, first + 250),
        )
        con.execute(
            "INSERT INTO runs (command, started_at, outcome) VALUES ('backfill', 'x', 'complete')"
        )
        con.commit()
        con.close()
        report = await run(sim, clock, db, start=start, app_id=["app-ios"], timezone=ZONE)
        assert report.complete and report.requests == 0
        assert any("schema1-backup" in n for n in report.notices)
        assert (tmp_path / "old.db.schema1-backup").exists()
        got = stored(db, "sessions")
        assert got == truth
        con = sqlite3.connect(db)
        assert {r[0] for r in con.execute("SELECT revisions FROM points")} == {2}
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 2


async def test_the_purchase_series_follow_a_larger_announced_limit(tmp_path):
    """Served from the default pool (one reading of Braze's conflict), the purchase series
    announce 250,000/h: the collector, which starts them at 1,000/h, says so and follows it;
    told the list pool's 1,000/h, 40 windows would otherwise take 40 × 3.6 s."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(purchases_pool="default"), clock=clock) as sim:
        db = tmp_path / "c.db"
        t0 = clock.time()
        report = await run(
            sim, clock, db, stream=["purchase_quantity"], unit="hour", product=["", "*"],
            start="2024-05-01T00:00:00Z", rate_limit=["100000/s", "export-lists=1000/s"],
        )  # fmt: skip
        assert report.complete
        assert any("purchases pool" in n and "250000" in n for n in report.notices)
        assert clock.time() - t0 < 60


async def test_a_campaign_sync_refreshes_the_14_day_lookback_and_counts_revisions(store_at):
    """Conversions are credited back to the send date: a sync days later re-reads the last 14
    days of every campaign (one window each), stores the new values and counts them revised."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(), clock=clock) as sim:
        flags = {"stream": ["campaign_stats"], "campaign_id": ["cmp-welcome"]}
        first = await run(sim, clock, store_at, start="2024-01-01", **flags)
        assert first.complete
        clock.advance(3 * 86400)
        sim.log.clear()
        second = await run(sim, clock, store_at, "sync", **flags)
        assert second.complete and second.revised > 0
        series = [r for r in sim.log if r.path == "/campaigns/data_series"]
        assert len(series) == 1 and int(series[0].params["length"]) <= 14 + 3 + 1
        raws = raw_days(store_at, "campaign_stats")
        lo = zone_start("2024-06-01", ZONE)
        truth = sim.truth_days(
            "/campaigns/data_series", lo, zone_start("2024-06-18", ZONE), campaign_id="cmp-welcome"
        )
        for day in truth:
            when = day["time"][:10]
            if ((("cmp-welcome",), when)) in raws and when >= "2024-06-04":
                assert raws[(("cmp-welcome",), when)] == day, when


async def test_export_names_and_raw_days_of_nested_streams(tmp_path, capsys):
    """`export --names` gives each Canvas's variants and steps as the catalogue names them;
    `--raw` gives one line per stored day, the day as served."""
    from collector.cli import main

    clock = VirtualClock(NOW)
    async with run_simulator(config(), clock=clock) as sim:
        db = tmp_path / "c.db"
        flags = {"stream": ["canvas_stats"], "canvas_id": ["cnv-onboarding"]}
        assert (await run(sim, clock, db, start="2024-05-01", **flags)).complete
    capsys.readouterr()
    assert main(["export", "--db", str(db), "--stream", "canvas_stats", "--names"]) == 0
    lines = capsys.readouterr().out.splitlines()
    canvas = next(c for c in sim.config.workspaces[0].canvases if c.id == "cnv-onboarding")
    expected = sorted(
        [f"cnv-onboarding,step,{s.id},{s.name}" for s in canvas.steps]
        + [f"cnv-onboarding,variant,{v.id},{v.name}" for v in canvas.variants]
    )
    assert lines == ["canvas_id,kind,id,name", *expected]
    assert (
        main(["export", "--db", str(db), "--stream", "canvas_stats", "--format", "jsonl", "--raw"])
        == 0
    )
    raws = [json.loads(x, parse_float=Decimal) for x in capsys.readouterr().out.splitlines()]
    assert {r["canvas_id"] for r in raws} == {"cnv-onboarding"}
    assert len(raws) == len(raw_days(db, "canvas_stats"))
    assert main(["export", "--db", str(db), "--stream", "sessions", "--names"]) == 2
