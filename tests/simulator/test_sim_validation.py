"""Parameter validation and the lenient `ending_at` parser (braze-api.md §9 rules 8–12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from collector.simulator import Segment, SimulatorConfig, Workspace
from collector.simulator.timetext import parse_ending_at

from .support import SERIES_PATHS, VALID, Harness

WORKSPACE = Workspace(apps=("ios",), segments=(Segment("vip"),))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "length is required"),
        ({"length": "0"}, "length must be between 1 and 100"),
        ({"length": "101"}, "length must be between 1 and 100"),
        ({"length": "abc"}, "length must be between 1 and 100"),
        ({"length": ""}, "length must be between 1 and 100"),
        ({"length": "-1"}, "length must be between 1 and 100"),
        ({"length": "1.5"}, "length must be between 1 and 100"),
        ({"length": " 5"}, "length must be between 1 and 100"),
        ({"length": "9" * 5000}, "length must be between 1 and 100"),
        ({"length": "5", "unit": "Day"}, "unit must be day or hour"),
        ({"length": "5", "unit": "week"}, "unit must be day or hour"),
        ({"length": "5", "unit": ""}, "unit must be day or hour"),
        ({"length": "5", "ending_at": "yesterday"}, "Invalid ending_at"),
        ({"length": "5", "app_id": "web"}, "Invalid app_id"),
        ({"length": "5", "segment_id": "nobody"}, "Invalid segment_id"),
    ],
)
async def test_bad_parameters_get_400_with_message(
    braze: Harness, params: dict[str, str], message: str
) -> None:
    """Each invalid parameter gets 400 with its JSON message."""
    sim = await braze.start(SimulatorConfig(workspaces=(WORKSPACE,)))
    answer = await braze.get(sim, params)
    assert answer.status == 400
    assert answer.message == message
    assert answer.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("length", ["1", "100", "007"])
async def test_length_bounds_are_inclusive(braze: Harness, length: str) -> None:
    """length 1 and 100 are valid (leading zeros too) and give that many points."""
    sim = await braze.start()
    answer = await braze.get(sim, {"length": length})
    assert answer.status == 200
    assert len(answer.values) == int(length)


async def test_unit_defaults_to_day(braze: Harness) -> None:
    """Without `unit` the series is daily."""
    sim = await braze.start()
    answer = await braze.get(sim, {"length": "2", "ending_at": "2024-02-20"})
    assert answer.times == ["2024-02-18", "2024-02-19"]


async def test_validation_order_length_first(braze: Harness) -> None:
    """With several bad parameters the first in order (length, unit, ending_at, …) is reported."""
    sim = await braze.start()
    answer = await braze.get(sim, {"length": "0", "unit": "week", "ending_at": "x"})
    assert answer.message == "length must be between 1 and 100"


# (ending_at, last hour bucket of an exclusive hourly series, UTC workspace)
ACCEPTED = [
    ("2024-02-20", "2024-02-19T23:00:00+00:00"),
    ("2024-02-20Z", "2024-02-19T23:00:00+00:00"),
    ("2024-02-20T05:30", "2024-02-20T05:00:00+00:00"),
    ("2024-02-20T05:30:15", "2024-02-20T05:00:00+00:00"),
    ("2024-02-20T05:30:15.5", "2024-02-20T05:00:00+00:00"),
    ("2024-02-20T05:30:15.123456789", "2024-02-20T05:00:00+00:00"),
    ("2024-02-20T05:30:00Z", "2024-02-20T05:00:00+00:00"),
    ("2024-02-20T05:30:00-5:00", "2024-02-20T10:00:00+00:00"),
    ("2024-02-20T05:30:00-05:00", "2024-02-20T10:00:00+00:00"),
    ("2024-02-20T05:30:00+0100", "2024-02-20T04:00:00+00:00"),
    ("2024-02-20T05:30:00+01:00", "2024-02-20T04:00:00+00:00"),
    ("2024-02-20T05:30:00+05:45", "2024-02-19T23:00:00+00:00"),
    ("2024-02-20T05:30-0930", "2024-02-20T14:00:00+00:00"),  # 15:00Z, a boundary
]


@pytest.mark.parametrize(("ending_at", "last_hour"), ACCEPTED)
async def test_ending_at_forms_accepted(braze: Harness, ending_at: str, last_hour: str) -> None:
    """Every documented ending_at form is read, including Braze's `-5:00` and `+0100`."""
    sim = await braze.start()
    answer = await braze.get(sim, {"length": "1", "unit": "hour", "ending_at": ending_at})
    assert answer.status == 200
    assert answer.times == [last_hour]


REJECTED = [
    "",
    "2024-02-20T05:30:00 01:00",
    "2024-02-20 05:30:00",
    "2024-02-20T05",
    "2024-2-20",
    "20240220",
    "2024-02-20t05:30",
    "2024-02-20T05:30:00z",
    "2024-02-20T05:30:00+1",
    "2024-02-20T05:30:00+01",
    "2024-02-20T05:30:00+100",
    "2024-02-20T05:30:00+24:00",
    "2024-02-20T05:30:00+01:60",
    "2024-02-30",
    "2024-02-20T24:00",
    "2024-02-20T05:60",
    "2024-02-20T05:30:60",
    "0000-01-01",
    "2024-02-20T05:30:00.",
    "1708407000",
]


@pytest.mark.parametrize("ending_at", REJECTED)
async def test_ending_at_forms_rejected(braze: Harness, ending_at: str) -> None:
    """Anything else, such as a decoded `+` offset, is 400 "Invalid ending_at"."""
    sim = await braze.start()
    answer = await braze.get(sim, {"length": "1", "ending_at": ending_at})
    assert answer.status == 400
    assert answer.message == "Invalid ending_at"


async def test_ending_at_out_of_calendar_range_is_invalid(braze: Harness) -> None:
    """A series that would run off the calendar (year 1) is 400 Invalid ending_at, not a crash."""
    sim = await braze.start()
    answer = await braze.get(sim, {"length": "100", "ending_at": "0001-01-02"})
    assert answer.status == 400
    assert answer.message == "Invalid ending_at"


def test_parse_ending_at_offsets() -> None:
    """The parser keeps the given offset and microseconds, and localizes naive values."""
    new_york = timezone(timedelta(hours=-5))
    assert parse_ending_at("2018-06-28T23:59:59-5:00", UTC) == datetime(
        2018, 6, 28, 23, 59, 59, tzinfo=new_york
    )
    assert parse_ending_at("2024-01-01T00:00:00.1234567Z", UTC) == datetime(
        2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC
    )
    assert parse_ending_at("2024-01-01", new_york).utcoffset() == timedelta(hours=-5)


async def test_naive_ending_at_read_in_workspace_zone(braze: Harness) -> None:
    """By default an offset-less ending_at is workspace-local time."""
    config = SimulatorConfig(workspaces=(Workspace(timezone="America/New_York"),))
    sim = await braze.start(config)
    answer = await braze.get(
        sim, {"length": "1", "unit": "hour", "ending_at": "2024-02-20T00:00:00"}
    )
    assert answer.times == ["2024-02-19T23:00:00-05:00"]


async def test_naive_ending_at_read_as_utc_with_switch(braze: Harness) -> None:
    """With naive_ending_at="utc" an offset-less ending_at is UTC."""
    config = SimulatorConfig(
        workspaces=(Workspace(timezone="America/New_York"),), naive_ending_at="utc"
    )
    sim = await braze.start(config)
    answer = await braze.get(
        sim, {"length": "1", "unit": "hour", "ending_at": "2024-02-20T00:00:00"}
    )
    assert answer.times == ["2024-02-19T18:00:00-05:00"]


async def test_docs_example_ending_at_ends_on_that_day(braze: Harness) -> None:
    """Braze's own example `2018-06-28T23:59:59-5:00` ends a daily series on 2018-06-28."""
    config = SimulatorConfig(workspaces=(Workspace(timezone="America/Chicago"),))
    sim = await braze.start(config)
    answer = await braze.get(sim, {"length": "14", "ending_at": "2018-06-28T23:59:59-5:00"})
    assert answer.times[-1] == "2018-06-28"
    assert answer.times[0] == "2018-06-15"


def _series_config(**switches: Any) -> SimulatorConfig:
    return SimulatorConfig(workspaces=(Workspace(segments=(Segment("s"),)),), **switches)


@pytest.mark.parametrize("path", SERIES_PATHS)
async def test_every_series_validates_length_and_ending_at(braze: Harness, path: str) -> None:
    """Each series needs a length in range (1..14 for Canvas) and a readable ending_at."""
    sim = await braze.start(_series_config())
    top = "14" if path == "/canvas/data_series" else "100"
    missing = (
        "length or starting_at is required"
        if path == "/canvas/data_series"
        else "length is required"
    )
    cases = [
        ({"length": None}, missing),
        ({"length": str(int(top) + 1)}, f"length must be between 1 and {top}"),
        ({"ending_at": "2024-02-20T05:30:00 01:00"}, "Invalid ending_at"),
    ]
    for change, message in cases:
        params = {k: v for k, v in (VALID[path] | change).items() if v is not None}
        answer = await braze.get(sim, params, path=path)
        assert (answer.status, answer.message) == (400, message), (path, change)
    assert (await braze.get(sim, VALID[path] | {"length": top}, path=path)).status == 200


@pytest.mark.parametrize("path", SERIES_PATHS)
async def test_every_series_honours_history_start_and_omit_future(
    braze: Harness, path: str
) -> None:
    """Days before history_start are left out everywhere; omit_future drops days after now."""
    history = datetime(2024, 2, 27, tzinfo=UTC)
    workspace = Workspace(segments=(Segment("s"),), history_start=history)
    params = VALID[path] | {"length": "7", "ending_at": "2024-03-04"}  # 02-26 … 03-03
    dense = await braze.start(SimulatorConfig(workspaces=(workspace,)))
    sparse = await braze.start(SimulatorConfig(workspaces=(workspace,), omit_future=True))
    assert (await braze.get(dense, params, path=path)).times == [
        "2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01", "2024-03-02", "2024-03-03"
    ]  # fmt: skip
    assert (await braze.get(sparse, params, path=path)).times == [
        "2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"
    ]  # fmt: skip


@pytest.mark.parametrize("path", SERIES_PATHS)
@pytest.mark.parametrize(
    ("alignment", "last"), [("exclusive", "2024-02-19"), ("inclusive", "2024-02-20")]
)
async def test_every_series_honours_alignment_and_zone(
    braze: Harness, path: str, alignment: str, last: str
) -> None:
    """ending_at at a local midnight is exclusive or inclusive per the switch, in the zone."""
    workspace = Workspace(timezone="America/New_York", segments=(Segment("s"),))
    config = SimulatorConfig(workspaces=(workspace,), alignment=alignment)  # type: ignore[arg-type]
    sim = await braze.start(config)
    params = VALID[path] | {"length": "2", "ending_at": "2024-02-20T05:00:00Z"}
    assert (await braze.get(sim, params, path=path)).times[-1] == last


@pytest.mark.parametrize(
    "path", ["/events/data_series", "/purchases/quantity_series", "/purchases/revenue_series"]
)
async def test_hourly_series_honour_hour_time_format(braze: Harness, path: str) -> None:
    """Hourly events and purchases write times in the hour_time_format style."""
    sim = await braze.start(_series_config(hour_time_format="z"))
    params = VALID[path] | {"length": "1", "unit": "hour", "ending_at": "2024-02-20T06:00:00Z"}
    assert (await braze.get(sim, params, path=path)).times == ["2024-02-20T05:00:00Z"]
