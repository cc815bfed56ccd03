"""Store guarantees that hold on SQLite and PostgreSQL alike (each test runs on both)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from collector.core.models import Point, RunReport, SeriesReport, WindowResult
from collector.errors import ConfigError

from .support import BASE, CAL, CAMPAIGN, REVENUE, T0, T1, S, Stores, result, window


async def test_upsert_counts_new_revised_unchanged_and_revisions(stores: Stores):
    """Re-storing a bucket never duplicates it; a changed value is a revision, counted per point."""
    store = await stores.run()
    try:
        first = await store.commit(result(S, 0, 10, 5))
        second = await store.commit(
            result(S, 5, 15, {d: 5 if d < 8 else 6 for d in range(5, 15)}, at=T1)
        )
        third = await store.commit(result(S, 9, 10, 7, at=T1))
    finally:
        await store.close()
    assert (first.inserted, first.revised, first.unchanged) == (10, 0, 0)
    assert (second.inserted, second.revised, second.unchanged) == (5, 2, 3)
    assert (third.inserted, third.revised, third.unchanged) == (0, 1, 0)
    with stores.copy() as c:
        rows = c.dump_series_rows(S.key)
    revisions = {CAL.from_key(S.unit, p.time) - BASE: p.revisions for p in rows.points}
    expected = {d: (2 if d == 9 else 1 if d in (8,) else 0) for d in range(15)}
    assert revisions == expected
    values = {CAL.from_key(S.unit, p.time) - BASE: p.value for p in rows.points}
    assert values == {d: 5 if d < 8 else 7 if d == 9 else 6 for d in range(15)}
    with stores.read() as r:
        assert [p.time for p in r.iter_points("default", "sessions")] == [
            CAL.key(S.unit, BASE + d) for d in range(15)
        ]


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        ([(0, 100), (100, 200)], [(0, 200)]),  # adjacent
        ([(0, 100), (50, 150)], [(0, 150)]),  # overlapping
        ([(0, 10), (20, 30), (5, 25)], [(0, 30)]),  # a bridge over a gap
        ([(0, 10), (20, 30)], [(0, 10), (20, 30)]),  # apart
        ([(40, 50), (0, 10), (10, 40)], [(0, 50)]),  # out of order
    ],
)
async def test_coverage_merges_into_disjoint_intervals(stores: Stores, windows, expected):
    """Coverage is the merged union of what was answered, whatever the order of commits."""
    store = await stores.run()
    try:
        for lo, hi in windows:
            await store.commit(result(S, lo, hi))
        got = (await store.covered([S.key]))[S.key]
    finally:
        await store.close()
    assert got == [(BASE + a, BASE + b) for a, b in expected]
    with stores.read() as r:
        assert r.covered([S.key])[S.key] == got


async def test_concurrent_commits_of_one_series_merge_coverage(stores: Stores):
    """Windows of one series committed at once still leave one merged interval."""
    import asyncio

    store = await stores.run()
    try:
        await asyncio.gather(*(store.commit(result(S, lo, lo + 10)) for lo in range(0, 200, 10)))
        got = (await store.covered([S.key]))[S.key]
    finally:
        await store.close()
    assert got == [(BASE, BASE + 200)]


@pytest.mark.parametrize(
    "literal",
    ["12.0", "12.00", "0.010", "17.05", "1E+3", "12", "123456789012345678.123456789", "0.0"],
)
async def test_decimals_keep_their_literal_digits(stores: Stores, literal):
    """A decimal comes back with the digits Braze sent (12.0 stays 12.0, 1E+3 stays 1E+3)."""
    store = await stores.run()
    try:
        await store.commit(result(REVENUE, 0, 1, Decimal(literal)))
    finally:
        await store.close()
    with stores.read() as r:
        (p,) = list(r.iter_points("default", "purchase_revenue"))
    assert type(p.value) is Decimal and str(p.value) == literal


async def test_a_count_and_a_decimal_are_told_apart(stores: Stores):
    """12, 12.0 and 12.00 are three different stored values: each change is a revision."""
    store = await stores.run()
    try:
        outcomes = [
            await store.commit(result(REVENUE, 0, 1, v))
            for v in (12, Decimal("12.0"), Decimal("12.00"), Decimal("12.00"), 12)
        ]
    finally:
        await store.close()
    assert [(o.inserted, o.revised, o.unchanged) for o in outcomes] == [
        (1, 0, 0),
        (0, 1, 0),
        (0, 1, 0),
        (0, 0, 1),
        (0, 1, 0),
    ]
    with stores.read() as r:
        (p,) = list(r.iter_points("default", "purchase_revenue"))
    assert type(p.value) is int and p.value == 12


def _nested(lo: int, days: dict[int, dict[str, int]], at: datetime = T0) -> WindowResult:
    facet = json.dumps(["", "v1", "email"], separators=(",", ":"))
    points = tuple(
        Point(BASE + d, v, metric, facet)
        for d in sorted(days)
        for metric, v in sorted(days[d].items())
    )
    raw = tuple((BASE + d, json.dumps(days[d])) for d in sorted(days))
    hi = max(days) + 1
    return WindowResult(window(CAMPAIGN, lo, hi), (BASE + lo, BASE + hi), points, at, raw)


async def test_a_refetched_nested_day_replaces_its_raw_body_and_drops_gone_points(stores: Stores):
    """A nested day fetched again keeps only the leaves it now has; its raw body is replaced."""
    store = await stores.run()
    try:
        first = await store.commit(_nested(0, {0: {"sent": 5, "opens": 2}, 1: {"sent": 1}}))
        second = await store.commit(_nested(0, {0: {"sent": 6}, 1: {"sent": 1}}, at=T1))
    finally:
        await store.close()
    assert (first.inserted, first.removed) == (3, 0)
    assert (second.inserted, second.revised, second.unchanged, second.removed) == (0, 1, 1, 1)
    with stores.read() as r:
        points = [
            (p.time, p.facet, p.metric, p.value) for p in r.iter_points("default", "campaign_stats")
        ]
        raw = list(r.iter_raw("default", "campaign_stats"))
    d0, d1 = CAL.key(CAMPAIGN.unit, BASE), CAL.key(CAMPAIGN.unit, BASE + 1)
    facet = '["","v1","email"]'
    assert points == [(d0, facet, "sent", 6), (d1, facet, "sent", 1)]
    assert raw == [(("c1",), d0, '{"sent": 6}'), (("c1",), d1, '{"sent": 1}')]


async def test_discovery_cache_round_trips(stores: Stores):
    """A listed catalogue comes back as stored, with its time; a new listing replaces it."""
    store = await stores.run()
    try:
        assert await store.discovered("default", "apps") is None
        await store.remember("default", "apps", ["a", "é"], ["x"], T0)
        await store.remember("default", "apps", ["a", "b"], [], T1)
        found = await store.discovered("default", "apps")
    finally:
        await store.close()
    assert found == (["a", "b"], [], T1)
    with stores.read() as r:
        assert r.discovered_now("default", "apps") == (["a", "b"], [], T1.isoformat())


async def test_runs_and_run_series_feed_status(stores: Stores):
    """A finished run's outcome per series shows in status; runs list newest first."""
    store = await stores.run()
    try:
        await store.prepare("default", "UTC")
        first = await store.begin_run("default", "backfill", T0)
        await store.commit(result(S, 0, 3))
        report = RunReport(requests=4)
        report.series[S.key] = SeriesReport(windows=1, errors=["boom"], failed_windows=1)
        report.series[REVENUE.key] = SeriesReport(refused="403: no permission")
        await store.finish_run(first, T1, "incomplete", report)
        second = await store.begin_run("default", "sync", T1)
    finally:
        await store.close()
    assert second > first
    with stores.read() as r:
        status = {st.key: st for st in r.status()}
        runs = r.runs(limit=5)
        assert r.workspaces() == ["default"]
        assert r.timezone("default") == "UTC"
    assert [(x.id, x.command, x.outcome, x.requests) for x in runs] == [
        (second, "sync", None, None),
        (first, "backfill", "incomplete", 4),
    ]
    s = status[S.key]
    assert (s.points, s.first, s.last, s.outcome, s.error) == (
        3,
        CAL.key(S.unit, BASE),
        CAL.key(S.unit, BASE + 2),
        "failed",
        "boom",
    )
    assert s.coverage == ((BASE, BASE + 3),) and s.last_fetched == T0.isoformat()
    r2 = status[REVENUE.key]
    assert (r2.points, r2.outcome, r2.error, r2.coverage) == (
        0,
        "refused",
        "403: no permission",
        (),
    )


async def test_another_key_for_a_workspace_is_refused_unless_rotated(stores: Stores):
    """The key fingerprint is recorded once; another key needs --key-rotated, then replaces it."""
    store = await stores.run()
    try:
        await store.check_key("default", "key-one", rotated=False)
        await store.check_key("default", "key-one", rotated=False)
        with pytest.raises(ConfigError, match="--key-rotated"):
            await store.check_key("default", "key-two", rotated=False)
        await store.check_key("default", "key-two", rotated=True)
        await store.check_key("default", "key-two", rotated=False)
        await store.check_key("other", "key-one", rotated=False)  # another workspace: its own
    finally:
        await store.close()
    with stores.copy() as c:
        marks = {n: f for n, _, f in c.dump_workspaces()}
    assert marks["default"] != marks["other"] and "key-two" not in str(marks)


async def test_the_time_zone_is_pinned_by_the_first_commit(stores: Stores):
    """A workspace's zone is recorded on its first commit (not before) and another is refused."""
    store = await stores.run()
    try:
        await store.prepare("default", "Europe/Paris")  # nothing committed: not pinned
        await store.prepare("default", "UTC")
        await store.commit(result(S, 0, 1))
        with pytest.raises(ConfigError, match="--timezone UTC"):
            await store.prepare("default", "Europe/Paris")
        await store.prepare("default", "UTC")
    finally:
        await store.close()
    with stores.read() as r:
        assert r.timezone("default") == "UTC"
        assert r.timezone("nowhere") is None


async def test_last_time_is_the_latest_stored_bucket(stores: Stores):
    """sync resumes after the latest stored bucket; nothing stored → None."""
    store = await stores.run()
    try:
        assert await store.last_time(S.key) is None
        await store.commit(result(S, 3, 8))
        await store.commit(result(S, 0, 2))
        assert await store.last_time(S.key) == CAL.key(S.unit, BASE + 7)
    finally:
        await store.close()


def test_reading_a_store_that_was_never_written_says_how_to_fix(stores: Stores):
    """A read-out on an empty --db is a ConfigError naming the backfill to run."""
    with pytest.raises(ConfigError, match="backfill"):
        stores.read()


def test_dates_are_in_workspace_time():
    """(The parity helpers build UTC days.)"""
    assert CAL.key(S.unit, BASE) == "2020-01-01" and datetime(2024, 1, 1, tzinfo=UTC) == T0
