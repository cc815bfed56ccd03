"""Sends: the day stats of one send, kept 14 days after it (braze-api.md §10.2, §10.3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from collector.simulator import SimulatorConfig, Workspace
from collector.simulator.catalogue import Campaign, Send

from .support import Harness

SENDS = "/sends/data_series"
API = Campaign("c-api", "API", api_campaign=True, first_sent=datetime(2024, 1, 1, tzinfo=UTC))
OTHER = Campaign("c-other", "Other", api_campaign=True, first_sent=datetime(2024, 1, 1, tzinfo=UTC))
SEND = Send("c-api", "s-1", datetime(2024, 2, 10, 18, tzinfo=UTC))
WORKSPACE = Workspace(campaigns=(API, OTHER), sends=(SEND, Send("c-other", "s-2", SEND.sent_at)))
CONFIG = SimulatorConfig(workspaces=(WORKSPACE,))
# 2024-02-08 … 2024-02-25: two days before the send, its 14 days, two days after
AROUND = {"campaign_id": "c-api", "send_id": "s-1", "length": "18", "ending_at": "2024-02-26"}


async def _days(braze: Harness, config: SimulatorConfig, params: dict[str, str]) -> list[Any]:
    sim = await braze.start(config)
    answer = await braze.get(sim, params, path=SENDS)
    assert answer.status == 200, answer.body
    days: list[Any] = answer.decoded()["data"]
    return days


async def test_send_days_look_like_campaign_days_with_their_own_numbers(braze: Harness) -> None:
    """A send day has the campaign-day shape; its figures differ from the campaign's own."""
    send = await _days(braze, CONFIG, AROUND)
    sim = await braze.start(CONFIG)
    params = {k: v for k, v in AROUND.items() if k != "send_id"}
    campaign = (await braze.get(sim, params, path="/campaigns/data_series")).decoded()["data"]
    assert [list(d) for d in send] == [list(d) for d in campaign]
    assert [d["unique_recipients"] for d in send] != [d["unique_recipients"] for d in campaign]


@pytest.mark.parametrize(("switch", "kept"), [("zeros", 18), ("omit", 14)])
async def test_send_data_is_kept_14_days_from_the_send(
    braze: Harness, switch: str, kept: int
) -> None:
    """The send day and the 13 after it have activity, decaying; others are zero or omitted."""
    config = SimulatorConfig(workspaces=(WORKSPACE,), expired_send_days=switch)  # type: ignore[arg-type]
    days = await _days(braze, config, AROUND)
    assert len(days) == kept
    live = [d for d in days if d["messages"]["email"][0]["sent"] > 0]
    assert live[0]["time"] == "2024-02-10"
    assert all(d["time"] <= "2024-02-23" for d in live)
    sent = [d["messages"]["email"][0]["sent"] for d in days if d["time"] >= "2024-02-10"]
    assert sent[0] == max(sent)
    if switch == "zeros":
        quiet = days[:2] + days[16:]
        assert all(d["unique_recipients"] == 0 for d in quiet)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"length": "3", "send_id": "s-1"}, "campaign_id is required"),
        ({"length": "3", "campaign_id": "nope", "send_id": "s-1"}, "Invalid campaign_id"),
        ({"length": "3", "campaign_id": "c-api"}, "send_id is required"),
        ({"length": "3", "campaign_id": "c-api", "send_id": "s-2"}, "Invalid send_id"),
        ({"campaign_id": "c-api", "send_id": "s-1"}, "length is required"),
    ],
)
async def test_send_validation(braze: Harness, params: dict[str, str], message: str) -> None:
    """Both ids are required and must name a configured send of that campaign."""
    sim = await braze.start(CONFIG)
    answer = await braze.get(sim, params, path=SENDS)
    assert (answer.status, answer.message) == (400, message)
