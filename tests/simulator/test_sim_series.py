"""Which buckets a series holds and how their `time` is written (braze-api.md §9 rules 18–19)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collector.simulator import SimulatorConfig, Workspace

from .support import Harness

NEW_YORK = Workspace(timezone="America/New_York")


@pytest.mark.parametrize(
    ("alignment", "unit", "ending_at", "expected"),
    [
        # day, ending_at on a boundary (midnight)
        ("exclusive", "day", "2024-02-20T00:00:00Z", ["2024-02-17", "2024-02-18", "2024-02-19"]),
        ("inclusive", "day", "2024-02-20T00:00:00Z", ["2024-02-18", "2024-02-19", "2024-02-20"]),
        (
            "floor_exclusive",
            "day",
            "2024-02-20T00:00:00Z",
            ["2024-02-17", "2024-02-18", "2024-02-19"],
        ),
        # day, ending_at inside a day
        ("exclusive", "day", "2024-02-20T10:00:00Z", ["2024-02-18", "2024-02-19", "2024-02-20"]),
        ("inclusive", "day", "2024-02-20T10:00:00Z", ["2024-02-18", "2024-02-19", "2024-02-20"]),
        (
            "floor_exclusive",
            "day",
            "2024-02-20T10:00:00Z",
            ["2024-02-17", "2024-02-18", "2024-02-19"],
        ),
        # hour, on a boundary (top of the hour)
        ("exclusive", "hour", "2024-02-20T10:00:00Z", ["07", "08", "09"]),
        ("inclusive", "hour", "2024-02-20T10:00:00Z", ["08", "09", "10"]),
        ("floor_exclusive", "hour", "2024-02-20T10:00:00Z", ["07", "08", "09"]),
        # hour, inside an hour (one microsecond past counts)
        ("exclusive", "hour", "2024-02-20T10:00:00.000001Z", ["08", "09", "10"]),
        ("inclusive", "hour", "2024-02-20T10:15:00Z", ["08", "09", "10"]),
        ("floor_exclusive", "hour", "2024-02-20T10:15:00Z", ["07", "08", "09"]),
    ],
)
async def test_alignment_readings(
    braze: Harness, alignment: str, unit: str, ending_at: str, expected: list[str]
) -> None:
    """Each alignment switch picks its last bucket, on and off a unit boundary."""
    sim = await braze.start(SimulatorConfig(alignment=alignment))  # type: ignore[arg-type]
    answer = await braze.get(sim, {"length": "3", "unit": unit, "ending_at": ending_at})
    if unit == "hour":
        expected = [f"2024-02-20T{h}:00:00+00:00" for h in expected]
    assert answer.times == expected


async def test_default_ending_at_is_now(braze: Harness) -> None:
    """Without ending_at the series ends with the bucket in progress at the clock's now."""
    sim = await braze.start()  # VirtualClock at 2024-03-01T12:30Z
    days = await braze.get(sim, {"length": "2"})
    hours = await braze.get(sim, {"length": "2", "unit": "hour"})
    assert days.times == ["2024-02-29", "2024-03-01"]
    assert hours.times == ["2024-03-01T11:00:00+00:00", "2024-03-01T12:00:00+00:00"]


async def test_days_are_calendar_days_of_the_workspace_zone(braze: Harness) -> None:
    """A day bucket starts at local midnight: 05:00Z in New York winter."""
    sim = await braze.start(SimulatorConfig(workspaces=(NEW_YORK,)))
    before = await braze.get(sim, {"length": "1", "ending_at": "2024-02-20T04:59:59Z"})
    after = await braze.get(sim, {"length": "1", "ending_at": "2024-02-20T05:00:01Z"})
    assert before.times == ["2024-02-19"]
    assert after.times == ["2024-02-20"]


async def test_spring_forward_day_has_23_hours_summing_to_the_day(braze: Harness) -> None:
    """On a spring-forward day the hourly series has 23 buckets and they sum to the day."""
    sim = await braze.start(SimulatorConfig(workspaces=(NEW_YORK,)))
    day = await braze.get(sim, {"length": "1", "ending_at": "2024-03-11"})
    hours = await braze.get(sim, {"length": "23", "unit": "hour", "ending_at": "2024-03-11"})
    assert day.times == ["2024-03-10"]
    assert hours.times[0] == "2024-03-10T00:00:00-05:00"
    assert hours.times[1:3] == ["2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00"]
    assert sum(hours.values) == day.values[0]
    start = datetime(2024, 3, 10, 5, tzinfo=UTC)
    end = datetime(2024, 3, 11, 4, tzinfo=UTC)
    assert len(sim.truth("hour", start, end)) == 23


async def test_fall_back_day_has_25_hours_with_both_one_oclocks(braze: Harness) -> None:
    """On a fall-back day there are 25 buckets; the two local 01:00 hours are separate."""
    sim = await braze.start(SimulatorConfig(workspaces=(NEW_YORK,)))
    day = await braze.get(sim, {"length": "1", "ending_at": "2024-11-04"})
    hours = await braze.get(sim, {"length": "25", "unit": "hour", "ending_at": "2024-11-04"})
    assert day.times == ["2024-11-03"]
    assert hours.times[0] == "2024-11-03T00:00:00-04:00"
    assert hours.times[1:3] == ["2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00"]
    assert hours.times[-1] == "2024-11-03T23:00:00-05:00"
    assert sum(hours.values) == day.values[0]


async def test_half_hour_zone_hours_start_at_half_past_utc(braze: Harness) -> None:
    """In a +05:30 zone hour buckets are local clock hours, i.e. start at :30 UTC."""
    kolkata = Workspace(timezone="Asia/Kolkata")
    local = await braze.start(SimulatorConfig(workspaces=(kolkata,)))
    utc = await braze.start(SimulatorConfig(workspaces=(kolkata,), hour_time_format="z"))
    params = {"length": "1", "unit": "hour", "ending_at": "2024-02-20T10:00Z"}
    assert (await braze.get(local, params)).times == ["2024-02-20T15:00:00+05:30"]
    assert (await braze.get(utc, params)).times == ["2024-02-20T09:30:00Z"]


async def test_skipped_calendar_day_has_no_buckets(braze: Harness) -> None:
    """Pacific/Apia skipped 2011-12-30: the daily series steps over it without failing."""
    sim = await braze.start(SimulatorConfig(workspaces=(Workspace(timezone="Pacific/Apia"),)))
    days = await braze.get(sim, {"length": "3", "ending_at": "2012-01-01"})
    hours = await braze.get(sim, {"length": "30", "unit": "hour", "ending_at": "2011-12-31T02:00"})
    assert days.times == ["2011-12-28", "2011-12-29", "2011-12-31"]
    assert hours.times[27:] == [
        "2011-12-29T23:00:00-10:00",
        "2011-12-31T00:00:00+14:00",
        "2011-12-31T01:00:00+14:00",
    ]


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("offset", "2024-03-01T12:00:00-05:00"),
        ("z", "2024-03-01T17:00:00Z"),
        ("naive", "2024-03-01T12:00:00"),
        ("fractional", "2024-03-01T12:00:00.000-05:00"),
    ],
)
async def test_hour_time_formats(braze: Harness, style: str, expected: str) -> None:
    """hour_time_format writes the hour bucket 17:00Z (12:00 in New York) in its style."""
    config = SimulatorConfig(workspaces=(NEW_YORK,), hour_time_format=style)  # type: ignore[arg-type]
    sim = await braze.start(config)
    answer = await braze.get(
        sim, {"length": "1", "unit": "hour", "ending_at": "2024-03-01T18:00:00Z"}
    )
    assert answer.times == [expected]


async def test_day_time_format_ignores_hour_format(braze: Harness) -> None:
    """Day buckets are always written YYYY-MM-DD."""
    sim = await braze.start(SimulatorConfig(hour_time_format="fractional"))
    answer = await braze.get(sim, {"length": "1", "ending_at": "2024-03-01"})
    assert answer.times == ["2024-02-29"]


async def test_history_start_shortens_day_series(braze: Harness) -> None:
    """Days starting before history_start are left out, so the series is shorter than length."""
    history = datetime(2024, 2, 18, tzinfo=UTC)
    sim = await braze.start(SimulatorConfig(workspaces=(Workspace(history_start=history),)))
    answer = await braze.get(sim, {"length": "5", "ending_at": "2024-02-20"})
    assert answer.times == ["2024-02-18", "2024-02-19"]


async def test_history_start_shortens_hour_series(braze: Harness) -> None:
    """Hours starting before history_start are left out; a history after the series empties it."""
    history = datetime(2024, 2, 19, 22, 30, tzinfo=UTC)
    sim = await braze.start(SimulatorConfig(workspaces=(Workspace(history_start=history),)))
    answer = await braze.get(sim, {"length": "5", "unit": "hour", "ending_at": "2024-02-20"})
    empty = await braze.get(sim, {"length": "5", "unit": "hour", "ending_at": "2024-02-19"})
    assert answer.times == ["2024-02-19T23:00:00+00:00"]
    assert empty.status == 200
    assert empty.json()["data"] == []


async def test_future_buckets_are_zero(braze: Harness) -> None:
    """Buckets starting after now are reported as 0; the one in progress is not."""
    sim = await braze.start()  # now = 2024-03-01T12:30Z
    answer = await braze.get(
        sim, {"length": "6", "unit": "hour", "ending_at": "2024-03-01T16:00:00Z"}
    )
    assert [t[11:13] for t in answer.times] == ["10", "11", "12", "13", "14", "15"]
    assert all(v > 0 for v in answer.values[:3])
    assert answer.values[3:] == [0, 0, 0]


async def test_omit_future_removes_future_buckets(braze: Harness) -> None:
    """With omit_future, buckets starting after now are left out."""
    sim = await braze.start(SimulatorConfig(omit_future=True))
    hours = await braze.get(
        sim, {"length": "6", "unit": "hour", "ending_at": "2024-03-01T16:00:00Z"}
    )
    days = await braze.get(sim, {"length": "5", "ending_at": "2024-03-04"})
    assert [t[11:13] for t in hours.times] == ["10", "11", "12"]
    assert days.times == ["2024-02-28", "2024-02-29", "2024-03-01"]


async def test_current_day_is_the_sum_of_hours_so_far(braze: Harness) -> None:
    """The day in progress reports the hours that have started (00:00–12:00 at 12:30)."""
    sim = await braze.start()
    day = await braze.get(sim, {"length": "1"})
    hours = await braze.get(
        sim, {"length": "24", "unit": "hour", "ending_at": "2024-03-02T00:00:00Z"}
    )
    assert sum(hours.values[:13]) == day.values[0]
    assert hours.values[13:] == [0] * 11
