"""Segments: the size series and the segment list (braze-api.md §1.7, §10.2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collector.simulator import Segment, SimulatorConfig, Workspace
from collector.simulator.presets import family_workspace

from .support import Harness

SIZE = "/segments/data_series"
LIST = "/segments/list"
SINCE = datetime(2024, 2, 18, 12, tzinfo=UTC)
WORKSPACE = Workspace(
    segments=(
        Segment("vip", name="VIP buyers", tags=("money",)),
        Segment("quiet", analytics_tracking=False),
        Segment("new", tracking_since=SINCE),
    )
)
CONFIG = SimulatorConfig(workspaces=(WORKSPACE,))


async def test_size_is_daily_and_at_most_the_mau(braze: Harness) -> None:
    """Segment size is a daily series (unit ignored), positive and never above the MAU."""
    sim = await braze.start(CONFIG)
    params = {"length": "30", "ending_at": "2024-02-20", "segment_id": "vip"}
    size = await braze.get(sim, params, path=SIZE)
    hourly = await braze.get(sim, params | {"unit": "hour"}, path=SIZE)
    mau = await braze.get(
        sim, {"length": "30", "ending_at": "2024-02-20"}, path="/kpi/mau/data_series"
    )
    assert size.times == mau.times
    assert hourly.body == size.body
    assert all(0 < s <= m for s, m in zip(size.series("size"), mau.series("mau"), strict=True))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"length": "3"}, "segment_id is required"),
        ({"length": "3", "segment_id": "nope"}, "Invalid segment_id"),
        ({"length": "0", "segment_id": "nope"}, "length must be between 1 and 100"),
    ],
)
async def test_size_validation(braze: Harness, params: dict[str, str], message: str) -> None:
    """segment_id is required and must be a segment of the workspace."""
    sim = await braze.start(CONFIG)
    answer = await braze.get(sim, params, path=SIZE)
    assert (answer.status, answer.message) == (400, message)


async def test_untracked_segment_size_follows_the_switch(braze: Harness) -> None:
    """An untracked segment's size is all zero, or a 400 with untracked_segment="error"."""
    zeros = await braze.start(CONFIG)
    error = await braze.start(SimulatorConfig(workspaces=(WORKSPACE,), untracked_segment="error"))
    params = {"length": "4", "segment_id": "quiet"}
    assert (await braze.get(zeros, params, path=SIZE)).series("size") == [0] * 4
    assert (await braze.get(error, params, path=SIZE)).status == 400


async def test_size_before_tracking_since_is_zero(braze: Harness) -> None:
    """Days starting before tracking_since are 0: nothing is backfilled."""
    sim = await braze.start(CONFIG)
    params = {"length": "4", "ending_at": "2024-02-21", "segment_id": "new"}
    sizes = (await braze.get(sim, params, path=SIZE)).series("size")  # 02-17 … 02-20
    assert sizes[:2] == [0, 0]
    assert all(s > 0 for s in sizes[2:])


async def test_segment_list_items(braze: Harness) -> None:
    """Items carry id, name (the id when unnamed), analytics_tracking_enabled and tags."""
    sim = await braze.start(CONFIG)
    answer = await braze.get(sim, None, path=LIST)
    assert answer.json() == {
        "segments": [
            {
                "id": "vip",
                "name": "VIP buyers",
                "analytics_tracking_enabled": True,
                "tags": ["money"],
            },
            {"id": "quiet", "name": "quiet", "analytics_tracking_enabled": False, "tags": []},
            {"id": "new", "name": "new", "analytics_tracking_enabled": True, "tags": []},
        ],
        "message": "success",
    }


async def test_segment_list_pages_100_in_creation_order(braze: Harness) -> None:
    """The list pages 100 segments in config (creation) order; past the end it is empty."""
    workspace = family_workspace(segments=150)
    sim = await braze.start(SimulatorConfig(workspaces=(workspace,)))
    pages = [
        (await braze.get(sim, {"page": str(n)}, path=LIST)).json()["segments"] for n in range(3)
    ]
    assert [len(p) for p in pages] == [100, 50, 0]
    assert [s["id"] for p in pages for s in p] == [s.id for s in workspace.segments]
    assert {s["analytics_tracking_enabled"] for p in pages for s in p} == {True, False}
