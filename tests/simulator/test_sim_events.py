"""Custom events: the count series and the name list (braze-api.md §10.1, §10.2)."""

from __future__ import annotations

import pytest

from collector.simulator import Segment, SimulatorConfig, Workspace
from collector.simulator.presets import family_workspace

from .support import Harness

EVENTS_SERIES = "/events/data_series"
EVENTS_LIST = "/events/list"
APPS = ("ios", "android")
WORKSPACE = Workspace(
    timezone="Europe/Berlin",
    apps=APPS,
    segments=(Segment("vip"),),
    events=("open", "buy", "a+b & c=d/e?f#g%h 'q' \"dq\" é 日本 🎉"),
)
CONFIG = SimulatorConfig(workspaces=(WORKSPACE,), seed=2)
FAMILY = SimulatorConfig(workspaces=(family_workspace(),))


def _by_day(points: list[tuple[str, int]]) -> dict[str, int]:
    days: dict[str, int] = {}
    for time, value in points:
        days[time[:10]] = days.get(time[:10], 0) + value
    return days


async def test_event_series_counts_per_event(braze: Harness) -> None:
    """Each event has its own `count` numbers, distinct from another event and from sessions."""
    sim = await braze.start(CONFIG)
    base = {"length": "7", "ending_at": "2024-02-20"}
    opens = await braze.get(sim, base | {"event": "open"}, path=EVENTS_SERIES)
    buys = await braze.get(sim, base | {"event": "buy"}, path=EVENTS_SERIES)
    sessions = await braze.get(sim, base)
    assert opens.status == 200
    assert opens.series("count") != buys.series("count")
    assert opens.series("count") != sessions.values
    assert [t for t, _ in opens.pairs("count")] == sessions.times


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"length": "3"}, "event is required"),
        ({"length": "3", "event": "nope"}, "Invalid event"),
        ({"length": "3", "event": "OPEN"}, "Invalid event"),
        ({"length": "3", "event": "open", "app_id": "web"}, "Invalid app_id"),
        ({"length": "3", "event": "open", "segment_id": "x"}, "Invalid segment_id"),
        ({"length": "3", "event": "open", "unit": "week"}, "unit must be day or hour"),
        ({"length": "101", "event": "nope"}, "length must be between 1 and 100"),
    ],
)
async def test_event_series_validation(
    braze: Harness, params: dict[str, str], message: str
) -> None:
    """A missing or unknown event, app or segment is a 400 naming it; length comes first."""
    sim = await braze.start(CONFIG)
    answer = await braze.get(sim, params, path=EVENTS_SERIES)
    assert (answer.status, answer.message) == (400, message)


async def test_awkward_event_name_round_trips_percent_encoded(braze: Harness) -> None:
    """A name with `+ & = / ? # %`, quotes and non-ASCII is found when the client encodes it."""
    sim = await braze.start(CONFIG)
    name = WORKSPACE.events[2]
    answer = await braze.get(sim, {"length": "2", "event": name}, path=EVENTS_SERIES)
    assert answer.status == 200
    assert sim.log[-1].params["event"] == name


@pytest.mark.parametrize("filters", [{}, {"app_id": "ios"}, {"segment_id": "vip"}])
async def test_event_day_is_sum_of_hours(braze: Harness, filters: dict[str, str]) -> None:
    """An event's local day equals the sum of its hours (over a DST change)."""
    sim = await braze.start(CONFIG)
    base = {"event": "buy", "ending_at": "2024-04-01", **filters}
    days = await braze.get(sim, base | {"length": "3"}, path=EVENTS_SERIES)
    hours = await braze.get(sim, base | {"length": "71", "unit": "hour"}, path=EVENTS_SERIES)
    assert dict(days.pairs("count")) == _by_day(hours.pairs("count"))


async def test_event_total_is_sum_of_apps_and_segment_is_smaller(braze: Harness) -> None:
    """Without app_id an event's count is Σ apps; within a segment it is ≤ the unsegmented one."""
    sim = await braze.start(CONFIG)
    base = {"event": "open", "length": "48", "unit": "hour", "ending_at": "2024-02-20"}
    total = (await braze.get(sim, base, path=EVENTS_SERIES)).series("count")
    apps = [
        (await braze.get(sim, base | {"app_id": a}, path=EVENTS_SERIES)).series("count")
        for a in APPS
    ]
    vip = (await braze.get(sim, base | {"segment_id": "vip"}, path=EVENTS_SERIES)).series("count")
    assert total == [sum(c) for c in zip(*apps, strict=True)]
    assert all(v <= t for v, t in zip(vip, total, strict=True))
    assert sum(vip) > 0


async def test_event_list_pages_250_names_by_code_point(braze: Harness) -> None:
    """The list pages 250 names in code-point order from page 0; past the end it is empty."""
    sim = await braze.start(FAMILY)
    pages = [(await braze.get(sim, {"page": str(n)}, path=EVENTS_LIST)).json() for n in range(3)]
    first = await braze.get(sim, None, path=EVENTS_LIST)
    assert [len(p["events"]) for p in pages] == [250, 50, 0]
    assert first.json() == pages[0]
    names = pages[0]["events"] + pages[1]["events"]
    assert names == sorted(FAMILY.workspaces[0].events)
    assert all(p["message"] == "success" for p in pages)


async def test_every_listed_event_name_is_served_byte_for_byte(braze: Harness) -> None:
    """Each awkward listed name (NUL and controls included) is accepted back by the series."""
    workspace = family_workspace(events=60, control_characters=True)
    sim = await braze.start(SimulatorConfig(workspaces=(workspace,)))
    names = (await braze.get(sim, None, path=EVENTS_LIST)).json()["events"]
    assert set(names) == set(workspace.events)
    assert any("\x00" in n for n in names) and any(n != n.strip() for n in names)
    for name in names:
        answer = await braze.get(sim, {"length": "1", "event": name}, path=EVENTS_SERIES)
        assert answer.status == 200, name
        assert sim.log[-1].params["event"] == name


@pytest.mark.parametrize("page", ["-1", "x", "1.0", ""])
async def test_event_list_rejects_a_bad_page(braze: Harness, page: str) -> None:
    """`page` must be a non-negative integer."""
    sim = await braze.start(CONFIG)
    answer = await braze.get(sim, {"page": page}, path=EVENTS_LIST)
    assert (answer.status, answer.message) == (400, "page must be a non-negative integer")
