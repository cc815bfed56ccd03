"""`truth()` and `truth_days()` equal what a fault-free request serves, for every series."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collector.clock import VirtualClock
from collector.simulator import Segment, SimulatorConfig, Workspace
from collector.simulator.endpoints import SCALAR
from collector.simulator.presets import family_workspace

from .support import T0, Harness

AWKWARD = "a+b & c=d/e?f#g%h 'q' \"dq\" é 日本 🎉"
WORKSPACE = Workspace(
    timezone="Europe/Berlin",
    apps=("ios", "web"),
    segments=(Segment("vip"), Segment("late", tracking_since=datetime(2024, 2, 27, tzinfo=UTC))),
    events=("open", AWKWARD),
    products=("gems", "pass+"),
    history_start=datetime(2024, 2, 24, 6, tzinfo=UTC),
)
CONFIGS = {
    "plain": SimulatorConfig(workspaces=(WORKSPACE,), seed=8),
    "late": SimulatorConfig(workspaces=(WORKSPACE,), seed=8, late_data=True, omit_future=True),
    "int": SimulatorConfig(workspaces=(WORKSPACE,), seed=8, revenue_format="int", late_data=True),
}
CASES: list[tuple[str, str, dict[str, str]]] = [
    ("/sessions/data_series", "hour", {"app_id": "ios", "segment_id": "vip"}),
    ("/kpi/dau/data_series", "day", {}),
    ("/kpi/dau/data_series", "day", {"app_id": "web"}),
    ("/kpi/mau/data_series", "day", {}),
    ("/kpi/new_users/data_series", "day", {"app_id": "ios"}),
    ("/kpi/uninstalls/data_series", "day", {}),
    ("/events/data_series", "hour", {"event": AWKWARD, "segment_id": "late"}),
    ("/events/data_series", "day", {"event": "open", "app_id": "web"}),
    ("/purchases/quantity_series", "hour", {"product": "pass+"}),
    ("/purchases/revenue_series", "day", {}),
    ("/purchases/revenue_series", "hour", {"app_id": "ios", "product": "gems"}),
    ("/segments/data_series", "day", {"segment_id": "late"}),
]


def test_cases_cover_every_scalar_series() -> None:
    """The parametrization below reaches each scalar endpoint."""
    assert {path for path, _, _ in CASES} == set(SCALAR)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
@pytest.mark.parametrize(("path", "unit", "filters"), CASES)
async def test_truth_is_what_is_served(
    braze: Harness, config: SimulatorConfig, path: str, unit: str, filters: dict[str, str]
) -> None:
    """truth() returns the served buckets (as UTC starts) and values (revenue as Decimal)."""
    sim = await braze.start(config)
    zone = ZoneInfo(WORKSPACE.timezone)
    ending = datetime(2024, 3, 3, tzinfo=zone)  # two days after "now"
    length = 10 if unit == "day" else 100
    params = {"length": str(length), "unit": unit, "ending_at": ending.isoformat(), **filters}
    answer = await braze.get(sim, params, path=path)
    assert answer.status == 200, answer.body
    field = SCALAR[path].field
    served = []
    for time, value in answer.pairs(field):
        if unit == "day":
            start = datetime.combine(date.fromisoformat(time), datetime.min.time(), zone)
        else:
            start = datetime.fromisoformat(time)
        served.append((start.astimezone(UTC), value))
    step = timedelta(days=length) if unit == "day" else timedelta(hours=length)
    truth = sim.truth(unit, ending - step, ending, path=path, **filters)  # type: ignore[arg-type]
    assert truth == served
    assert any(v for _, v in truth)
    if path == "/purchases/revenue_series":
        assert all(isinstance(v, Decimal) for _, v in truth)


DAY_CASES: list[tuple[str, dict[str, str], dict[str, str]]] = [
    ("/campaigns/data_series", {"campaign_id": "cmp-welcome"}, {}),
    ("/sends/data_series", {"campaign_id": "cmp-receipts", "send_id": "send-0001"}, {}),
    (
        "/canvas/data_series",
        {"canvas_id": "cnv-onboarding"},
        {"include_variant_breakdown": "true", "include_step_breakdown": "true"},
    ),
]


@pytest.mark.parametrize("late", [False, True])
@pytest.mark.parametrize(("path", "ids", "flags"), DAY_CASES)
async def test_truth_days_is_what_is_served(
    braze: Harness, path: str, ids: dict[str, str], flags: dict[str, str], late: bool
) -> None:
    """truth_days() returns the served day objects, decoded with Decimal, now and later."""
    clock = VirtualClock(T0)
    sim = await braze.start(SimulatorConfig(late_data=late, omit_future=late), clock)
    params = {"length": "14", "ending_at": "2024-03-03", **ids, **flags}
    for _ in range(2):
        body = (await braze.get(sim, params, path=path)).decoded()
        served = body["data"]["stats"] if path == "/canvas/data_series" else body["data"]
        start, end = datetime(2024, 2, 18, tzinfo=UTC), datetime(2024, 3, 3, tzinfo=UTC)
        assert sim.truth_days(path, start, end, **ids) == served
        assert any(day.get("unique_recipients") or day.get("total_stats") for day in served)
        clock.advance(3 * 86_400)


async def test_truth_reads_the_family_catalogue(braze: Harness) -> None:
    """truth() finds an awkward event of the family catalogue just as the endpoint does."""
    workspace = family_workspace(events=20, control_characters=True)
    sim = await braze.start(SimulatorConfig(workspaces=(workspace,)))
    event = workspace.event_names[0]
    answer = await braze.get(
        sim, {"length": "2", "event": event, "ending_at": "2024-02-20"}, path="/events/data_series"
    )
    start, end = datetime(2024, 2, 18, tzinfo=UTC), datetime(2024, 2, 20, tzinfo=UTC)
    truth = sim.truth("day", start, end, path="/events/data_series", event=event)
    assert [v for _, v in truth] == answer.series("count")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"path": "/nowhere"}, "no such series"),
        ({"path": "/kpi/dau/data_series", "unit": "hour"}, "unit must be 'day'"),
        ({"path": "/sessions/data_series", "event": "open"}, "takes no event"),
        ({"path": "/events/data_series"}, "event is required"),
        ({"path": "/events/data_series", "event": "nope"}, "Invalid event"),
        ({"path": "/purchases/revenue_series", "product": "nope"}, "Invalid product"),
        ({"path": "/segments/data_series"}, "segment_id is required"),
        ({"path": "/campaigns/data_series"}, "no such series"),
    ],
)
async def test_truth_rejects_what_the_endpoint_rejects(
    braze: Harness, kwargs: dict[str, Any], needle: str
) -> None:
    """truth() raises ValueError for unknown series, wrong units, foreign or invalid filters."""
    sim = await braze.start(CONFIGS["plain"])
    start, end = datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 2, 2, tzinfo=UTC)
    unit = kwargs.pop("unit", "day")
    with pytest.raises(ValueError, match=needle):
        sim.truth(unit, start, end, **kwargs)


@pytest.mark.parametrize(
    ("path", "kwargs", "needle"),
    [
        ("/sessions/data_series", {}, "no such series"),
        ("/campaigns/data_series", {"campaign_id": "nope"}, "Invalid campaign_id"),
        ("/campaigns/data_series", {"canvas_id": "cnv-onboarding"}, "takes no canvas_id"),
        ("/sends/data_series", {"campaign_id": "cmp-receipts"}, "send_id is required"),
        ("/canvas/data_series", {}, "canvas_id is required"),
    ],
)
async def test_truth_days_rejects_what_the_endpoint_rejects(
    braze: Harness, path: str, kwargs: dict[str, str], needle: str
) -> None:
    """truth_days() raises ValueError for other paths, missing, unknown or foreign ids."""
    sim = await braze.start()
    start, end = datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 2, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match=needle):
        sim.truth_days(path, start, end, **kwargs)
