"""Canvas: the data.stats series with breakdowns, its day range rules, list and details (§10)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from collector.simulator import SimulatorConfig, Workspace
from collector.simulator.catalogue import Canvas, CanvasStep, CanvasVariant

from .support import Harness

SERIES = "/canvas/data_series"
STAT_FIELDS = ("revenue", "conversions", "conversions_by_entry_time", "entries")
JOURNEY = Canvas(
    "cv-1",
    "Journey 'one'",
    variants=(CanvasVariant("v1", "Variant 1", ("s1",)), CanvasVariant("v2", "Variant 2", ("s1",))),
    steps=(
        CanvasStep("s1", "Welcome", ("email",), ("s2",)),
        CanvasStep("s2", "Nudge", ("ios_push", "sms")),
    ),
    first_entry=datetime(2024, 1, 15, tzinfo=UTC),
    last_entry=datetime(2024, 2, 15, tzinfo=UTC),
    created_at=datetime(2023, 12, 1, tzinfo=UTC),
    last_edited=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    tags=("x",),
)
OLD = Canvas("cv-old", "Old", archived=True, enabled=False)
WORKSPACE = Workspace(canvases=(JOURNEY, OLD))
CONFIG = SimulatorConfig(workspaces=(WORKSPACE,), seed=3)
BOTH = {"include_variant_breakdown": "true", "include_step_breakdown": "true"}


async def _get(braze: Harness, config: SimulatorConfig, **params: str) -> Any:
    sim = await braze.start(config)
    return await braze.get(sim, {"canvas_id": "cv-1", **params}, path=SERIES)


async def _stats(braze: Harness, config: SimulatorConfig, **params: str) -> list[dict[str, Any]]:
    answer = await _get(braze, config, **params)
    assert answer.status == 200, answer.body
    stats: list[dict[str, Any]] = answer.decoded()["data"]["stats"]
    return stats


@pytest.mark.parametrize(
    ("flags", "keys"),
    [
        ({}, ["time", "total_stats"]),
        ({"include_variant_breakdown": "true"}, ["time", "total_stats", "variant_stats"]),
        ({"include_step_breakdown": "true"}, ["time", "total_stats", "step_stats"]),
        (
            BOTH | {"include_deleted_step_data": "maybe"},
            ["time", "total_stats", "variant_stats", "step_stats"],
        ),
        ({"include_variant_breakdown": "false"}, ["time", "total_stats"]),
    ],
)
async def test_breakdowns_only_when_asked(
    braze: Harness, flags: dict[str, str], keys: list[str]
) -> None:
    """variant_stats and step_stats appear only with their flag true; deleted-step data is ignored."""
    answer = await _get(braze, CONFIG, length="2", ending_at="2024-02-01", **flags)
    body = answer.decoded()
    assert list(body) == ["data", "message"]
    assert body["data"]["name"] == "Journey 'one'"
    assert [list(day) for day in body["data"]["stats"]] == [keys, keys]


async def test_canvas_day_contents(braze: Harness) -> None:
    """Totals, variants by id and steps by id carry their documented fields and channels."""
    (day,) = await _stats(braze, CONFIG, length="1", ending_at="2024-02-01", **BOTH)
    assert day["time"] == "2024-01-31"
    assert list(day["total_stats"]) == list(STAT_FIELDS)
    assert isinstance(day["total_stats"]["revenue"], Decimal)
    assert {k: v["name"] for k, v in day["variant_stats"].items()} == {
        "v1": "Variant 1",
        "v2": "Variant 2",
    }
    assert list(day["step_stats"]) == ["s1", "s2"]
    nudge = day["step_stats"]["s2"]
    assert list(nudge) == [
        "name",
        "revenue",
        "conversions",
        "conversions_by_entry_time",
        "unique_recipients",
        "messages",
    ]
    assert list(nudge["messages"]) == ["ios_push", "sms"]
    assert nudge["messages"]["sms"][0]["sent"] > 0


@pytest.mark.parametrize("late", [False, True])
async def test_total_stats_sum_the_variants_and_steps_stay_within(
    braze: Harness, late: bool
) -> None:
    """total_stats = Σ variant_stats for every field; no step exceeds the totals."""
    config = SimulatorConfig(workspaces=(WORKSPACE,), seed=3, late_data=late)
    stats = await _stats(braze, config, length="14", ending_at="2024-02-14", **BOTH)
    for day in stats:
        total = day["total_stats"]
        for field in STAT_FIELDS:
            zero = Decimal(0) if field == "revenue" else 0
            assert total[field] == sum((v[field] for v in day["variant_stats"].values()), zero)
        for step in day["step_stats"].values():
            assert step["conversions"] <= total["conversions"]
            assert step["revenue"] <= total["revenue"]
            assert step["unique_recipients"] <= total["entries"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "length or starting_at is required"),
        ({"length": "15"}, "length must be between 1 and 14"),
        ({"length": "0"}, "length must be between 1 and 14"),
        ({"length": "1", "canvas_id": "nope"}, "Invalid canvas_id"),
        (
            {"length": "1", "include_step_breakdown": "yes"},
            "include_step_breakdown must be true or false",
        ),
        (
            {"starting_at": "2024-02-10", "ending_at": "2024-02-05"},
            "starting_at must not be after ending_at",
        ),
        (
            {"starting_at": "2024-01-01", "ending_at": "2024-02-05"},
            "starting_at must be at most 14 days before ending_at",
        ),
        ({"starting_at": "soon"}, "Invalid starting_at"),
        ({"starting_at": "2024-02-01", "ending_at": "later"}, "Invalid ending_at"),
    ],
)
async def test_canvas_series_validation(
    braze: Harness, params: dict[str, str], message: str
) -> None:
    """length is 1..14; starting_at must parse and lie at most 14 days before ending_at."""
    answer = await _get(braze, CONFIG, **params)
    assert (answer.status, answer.message) == (400, message)


async def test_starting_at_selects_the_days_up_to_ending_at(braze: Harness) -> None:
    """starting_at picks every day from its own to the last one ending_at selects; 14 is fine."""
    short = await _stats(braze, CONFIG, starting_at="2024-02-01T10:00:00Z", ending_at="2024-02-04")
    full = await _stats(braze, CONFIG, starting_at="2024-02-01", ending_at="2024-02-15")
    assert [d["time"] for d in short] == ["2024-02-01", "2024-02-02", "2024-02-03"]
    assert len(full) == 14


async def test_long_starting_at_range_allowed_by_switch(braze: Harness) -> None:
    """With canvas_long_range="allow" a 36-day starting_at range is served."""
    config = SimulatorConfig(workspaces=(WORKSPACE,), canvas_long_range="allow")
    stats = await _stats(braze, config, starting_at="2024-01-01", ending_at="2024-02-06")
    assert len(stats) == 36


async def test_length_wins_over_starting_at(braze: Harness) -> None:
    """Given both, length decides the days."""
    stats = await _stats(
        braze, CONFIG, length="2", starting_at="2024-01-01", ending_at="2024-02-06"
    )
    assert [d["time"] for d in stats] == ["2024-02-04", "2024-02-05"]


@pytest.mark.parametrize(("switch", "count"), [("zeros", 6), ("omit", 3)])
async def test_days_before_first_entry(braze: Harness, switch: str, count: int) -> None:
    """Days before first_entry have no entries: zero days, or omitted."""
    config = SimulatorConfig(workspaces=(WORKSPACE,), inactive_days=switch)  # type: ignore[arg-type]
    stats = await _stats(braze, config, length="6", ending_at="2024-01-18", **BOTH)
    assert len(stats) == count
    entries = [d["total_stats"]["entries"] for d in stats]
    assert all(e > 0 for e in entries[-3:])
    assert all(e == 0 for e in entries[:-3])


async def test_canvas_list_and_details(braze: Harness) -> None:
    """The list hides archived Canvases by default; details describe variants and steps."""
    sim = await braze.start(CONFIG)
    listed = (await braze.get(sim, None, path="/canvas/list")).json()["canvases"]
    everything = (await braze.get(sim, {"include_archived": "true"}, path="/canvas/list")).json()
    details = (await braze.get(sim, {"canvas_id": "cv-1"}, path="/canvas/details")).json()
    assert listed == [
        {
            "id": "cv-1",
            "name": "Journey 'one'",
            "tags": ["x"],
            "last_edited": "2024-01-02T03:04:05+00:00",
        }
    ]
    assert [c["id"] for c in everything["canvases"]] == ["cv-1", "cv-old"]
    assert details["variants"] == [
        {"name": "Variant 1", "id": "v1", "first_step_ids": ["s1"]},
        {"name": "Variant 2", "id": "v2", "first_step_ids": ["s1"]},
    ]
    assert [(s["id"], s["next_step_ids"], s["channels"]) for s in details["steps"]] == [
        ("s1", ["s2"], ["email"]),
        ("s2", [], ["ios_push", "sms"]),
    ]
    assert details["channels"] == ["email", "ios_push", "sms"]
    assert (details["first_entry"], details["last_entry"]) == (
        "2024-01-15T00:00:00+00:00",
        "2024-02-15T00:00:00+00:00",
    )
    assert (details["archived"], details["enabled"], details["message"]) == (False, True, "success")
    assert (await braze.get(sim, {"canvas_id": "x"}, path="/canvas/details")).status == 400
