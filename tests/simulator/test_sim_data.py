"""Synthetic data: deterministic, consistent sums, segments, late data, and `truth()` (rule 21)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from collector.clock import VirtualClock
from collector.simulator import Segment, SimulatorConfig, Workspace

from .support import T0, Harness

APPS = ("ios", "android", "web")
NEW_YORK = Workspace(
    timezone="America/New_York",
    apps=APPS,
    segments=(Segment("vip"), Segment("all-ish")),
)
CONFIG = SimulatorConfig(workspaces=(NEW_YORK,), seed=11)
DAY, HOUR = 86_400, 3_600


def _hours_by_local_day(points: list[tuple[str, int]]) -> dict[str, int]:
    days: dict[str, int] = {}
    for time, value in points:
        days[time[:10]] = days.get(time[:10], 0) + value
    return days


@pytest.mark.parametrize("filters", [{}, {"app_id": "web"}, {"segment_id": "vip"}])
async def test_day_is_sum_of_its_hours(braze: Harness, filters: dict[str, str]) -> None:
    """Each local day equals the sum of its hourly buckets (DST week included)."""
    sim = await braze.start(CONFIG)
    days = await braze.get(sim, {"length": "4", "ending_at": "2024-03-12", **filters})
    hours = await braze.get(
        sim, {"length": "95", "unit": "hour", "ending_at": "2024-03-12", **filters}
    )
    assert dict(days.points) == _hours_by_local_day(hours.points)


@pytest.mark.parametrize(("unit", "segment"), [("day", None), ("hour", None), ("hour", "vip")])
async def test_total_is_sum_of_apps(braze: Harness, unit: str, segment: str | None) -> None:
    """Without app_id the value is the sum over the workspace's apps (per segment too)."""
    sim = await braze.start(CONFIG)
    base = {"length": "30", "unit": unit, "ending_at": "2024-02-20"}
    if segment:
        base["segment_id"] = segment
    total = await braze.get(sim, base)
    per_app = [await braze.get(sim, {**base, "app_id": app}) for app in APPS]
    assert total.values == [
        sum(column) for column in zip(*(a.values for a in per_app), strict=True)
    ]


@pytest.mark.parametrize("app", [None, "ios"])
async def test_segment_never_exceeds_unsegmented(braze: Harness, app: str | None) -> None:
    """A segment's value is at most the unsegmented value of the same bucket, and not always 0."""
    sim = await braze.start(CONFIG)
    base = {"length": "100", "unit": "hour", "ending_at": "2024-02-20"}
    if app:
        base["app_id"] = app
    whole = await braze.get(sim, base)
    for segment in ("vip", "all-ish"):
        part = await braze.get(sim, {**base, "segment_id": segment})
        assert all(p <= w for p, w in zip(part.values, whole.values, strict=True))
        assert sum(part.values) > 0


async def test_values_are_plausible_hourly_counts(braze: Harness) -> None:
    """Per-app hours range from tens to a few thousand, with a daily cycle."""
    sim = await braze.start(CONFIG)
    for app in APPS:
        answer = await braze.get(
            sim, {"length": "48", "unit": "hour", "ending_at": "2024-02-20", "app_id": app}
        )
        assert all(10 <= v <= 5000 for v in answer.values)
        assert max(answer.values) > 2 * min(answer.values)


async def test_same_seed_same_data_across_instances(braze: Harness) -> None:
    """Two simulators with the same seed serve identical bodies."""
    first = await braze.start(CONFIG)
    second = await braze.start(CONFIG)
    for params in ({"length": "100"}, {"length": "100", "unit": "hour", "segment_id": "vip"}):
        a, b = await braze.get(first, params), await braze.get(second, params)
        assert a.body == b.body


async def test_different_seed_different_data(braze: Harness) -> None:
    """Another seed gives other numbers for the same buckets."""
    first = await braze.start(CONFIG)
    other = await braze.start(SimulatorConfig(workspaces=(NEW_YORK,), seed=12))
    a = await braze.get(first, {"length": "30"})
    b = await braze.get(other, {"length": "30"})
    assert a.times == b.times
    assert a.values != b.values


async def test_unknown_app_zeros_switch(braze: Harness) -> None:
    """With unknown_app="zeros" an unknown app_id gets a dense all-zero series."""
    sim = await braze.start(SimulatorConfig(unknown_app="zeros"))
    answer = await braze.get(sim, {"length": "7", "app_id": "nope"})
    assert answer.status == 200
    assert answer.values == [0] * 7


async def test_untracked_segment_is_all_zero_by_default(braze: Harness) -> None:
    """A segment without analytics tracking gets a 200 all-zero series."""
    workspace = Workspace(segments=(Segment("quiet", analytics_tracking=False),))
    sim = await braze.start(SimulatorConfig(workspaces=(workspace,)))
    answer = await braze.get(sim, {"length": "5", "segment_id": "quiet"})
    assert answer.status == 200
    assert answer.values == [0] * 5


async def test_untracked_segment_error_switch(braze: Harness) -> None:
    """With untracked_segment="error" a segment without tracking gets 400."""
    workspace = Workspace(segments=(Segment("quiet", analytics_tracking=False),))
    config = SimulatorConfig(workspaces=(workspace,), untracked_segment="error")
    sim = await braze.start(config)
    answer = await braze.get(sim, {"length": "5", "segment_id": "quiet"})
    assert answer.status == 400
    assert answer.message.startswith("Invalid segment_id")


@pytest.mark.parametrize(
    ("unit", "ending_at", "zeros"),
    [("day", "2024-02-22", 2), ("hour", "2024-02-19T03:00:00Z", 2)],
)
async def test_tracking_since_zeroes_earlier_buckets(
    braze: Harness, unit: str, ending_at: str, zeros: int
) -> None:
    """Buckets starting before a segment's tracking_since are 0: nothing is backfilled."""
    since = datetime(2024, 2, 19, 0, 30, tzinfo=UTC)
    workspace = Workspace(segments=(Segment("new", tracking_since=since),))
    sim = await braze.start(SimulatorConfig(workspaces=(workspace,)))
    answer = await braze.get(
        sim, {"length": "5", "unit": unit, "ending_at": ending_at, "segment_id": "new"}
    )
    # day: 02-17, 02-18, 02-19 (starts 00:00 < 00:30), so three; hour: 22, 23, 00 → three too
    assert answer.values[: zeros + 1] == [0] * (zeros + 1)
    assert all(v > 0 for v in answer.values[zeros + 1 :])


async def test_late_data_grows_then_settles_at_final(braze: Harness) -> None:
    """With late data a finished hour starts near 70 % of final, grows, and is final after 48 h."""
    clock = VirtualClock(T0)  # 2024-03-01T12:30Z
    late = await braze.start(SimulatorConfig(late_data=True, seed=3), clock)
    final = await braze.start(SimulatorConfig(seed=3), clock)
    params = {"length": "1", "unit": "hour", "ending_at": "2024-03-01T12:00:00Z"}  # 11:00–12:00
    settled = (await braze.get(final, params)).values[0]
    seen = []
    for step in (0, HOUR, 10 * HOUR, 30 * HOUR, 47 * HOUR, 48 * HOUR, 100 * HOUR):
        clock.set(T0 + step)
        seen.append((await braze.get(late, params)).values[0])
    assert seen == sorted(seen)
    assert 0.69 * settled <= seen[0] < 0.72 * settled
    assert seen[0] < seen[3] < settled
    assert seen[-2:] == [settled, settled]


async def test_late_data_partial_bucket_in_progress(braze: Harness) -> None:
    """The hour in progress shows final × elapsed share × 0.7 (here about 35 %)."""
    clock = VirtualClock(T0)  # 30 minutes into the 12:00 hour
    late = await braze.start(SimulatorConfig(late_data=True), clock)
    final = await braze.start(SimulatorConfig(), clock)
    params = {"length": "1", "unit": "hour"}
    partial = (await braze.get(late, params)).values[0]
    whole = (await braze.get(final, params)).values[0]
    assert 0.34 * whole <= partial <= 0.35 * whole


async def test_late_data_keeps_day_equal_to_sum_of_hours(braze: Harness) -> None:
    """With late data, recent days still equal the sum of their (ramped) hours."""
    sim = await braze.start(
        SimulatorConfig(workspaces=(NEW_YORK,), late_data=True), VirtualClock(T0)
    )
    days = await braze.get(sim, {"length": "4", "ending_at": "2024-03-02"})
    hours = await braze.get(sim, {"length": "96", "unit": "hour", "ending_at": "2024-03-02"})
    assert dict(days.points) == _hours_by_local_day(hours.points)


async def test_late_data_settle_period_is_configurable(braze: Harness) -> None:
    """settle_period_s sets when a bucket reaches its final value."""
    clock = VirtualClock(T0)
    quick = await braze.start(SimulatorConfig(late_data=True, settle_period_s=600), clock)
    final = await braze.start(SimulatorConfig(), clock)
    params = {"length": "2", "unit": "hour"}  # 11:00 (ended 30 min ago) and 12:00 (in progress)
    assert (await braze.get(quick, params)).values[0] == (await braze.get(final, params)).values[0]


@pytest.mark.parametrize(
    ("config", "filters"),
    [
        (CONFIG, {}),
        (CONFIG, {"app_id": "android"}),
        (CONFIG, {"segment_id": "vip"}),
        (CONFIG, {"app_id": "ios", "segment_id": "all-ish"}),
        (SimulatorConfig(workspaces=(NEW_YORK,), late_data=True, omit_future=True), {}),
        (
            SimulatorConfig(
                workspaces=(
                    Workspace(
                        timezone="Europe/Berlin",
                        history_start=datetime(2024, 2, 25, tzinfo=UTC),
                        segments=(Segment("s", tracking_since=datetime(2024, 2, 27, tzinfo=UTC)),),
                    ),
                ),
                late_data=True,
            ),
            {"segment_id": "s"},
        ),
    ],
)
@pytest.mark.parametrize("unit", ["day", "hour"])
async def test_truth_matches_what_is_served(
    braze: Harness, config: SimulatorConfig, filters: dict[str, str], unit: str
) -> None:
    """truth() returns exactly the buckets and values a fault-free request reports."""
    sim = await braze.start(config)
    zone = ZoneInfo(config.workspaces[0].timezone)
    ending = datetime(2024, 3, 3, tzinfo=zone)  # two days after "now"
    length = 10 if unit == "day" else 100
    answer = await braze.get(
        sim, {"length": str(length), "unit": unit, "ending_at": ending.isoformat(), **filters}
    )
    step = timedelta(days=length) if unit == "day" else timedelta(hours=length)
    truth = sim.truth(
        unit,  # type: ignore[arg-type]
        ending - step,
        ending,
        app_id=filters.get("app_id"),
        segment_id=filters.get("segment_id"),
    )
    served = []
    for time, value in answer.points:
        if unit == "day":
            start = datetime.combine(date.fromisoformat(time), datetime.min.time(), zone)
        else:
            start = datetime.fromisoformat(time)
        served.append((start.astimezone(UTC), value))
    assert truth == served
    assert all(t.tzinfo is UTC for t, _ in truth)


def test_truth_rejects_what_the_endpoint_rejects() -> None:
    """truth() raises ValueError for naive datetimes, unknown filters and workspaces."""
    from collector.simulator.server import Simulator

    sim = Simulator(CONFIG, VirtualClock(T0))
    start, end = datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 2, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        sim.truth("day", start.replace(tzinfo=None), end)
    with pytest.raises(ValueError, match="Invalid app_id"):
        sim.truth("day", start, end, app_id="nope")
    with pytest.raises(ValueError, match="Invalid segment_id"):
        sim.truth("day", start, end, segment_id="nope")
    with pytest.raises(ValueError, match="no workspace"):
        sim.truth("day", start, end, workspace="elsewhere")
    with pytest.raises(ValueError, match="unit"):
        sim.truth("week", start, end)  # type: ignore[arg-type]
