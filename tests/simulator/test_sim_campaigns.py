"""Campaigns: nested day stats, life bounds, late conversions, list and details (§10.2, §10.3)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from collector.clock import VirtualClock
from collector.simulator import SimulatorConfig, Workspace
from collector.simulator.catalogue import Campaign, Variant
from collector.simulator.presets import family_workspace

from .support import T0, Harness

SERIES = "/campaigns/data_series"
LIST = "/campaigns/list"
DETAILS = "/campaigns/details"
DAY = 86_400
TOTALS = (
    "conversions_by_send_time",
    "conversions1_by_send_time",
    "conversions2_by_send_time",
    "conversions3_by_send_time",
    "conversions",
    "conversions1",
    "conversions2",
    "conversions3",
    "unique_recipients",
    "revenue",
)
MULTI = Campaign(
    "c-multi",
    "Multi",
    channels=("email", "ios_push", "sms"),
    variants=(Variant("va", "A"), Variant("vb", "B")),
    control_id="ctl",
    first_sent=datetime(2024, 1, 10, 15, tzinfo=UTC),
    last_sent=datetime(2024, 2, 20, 9, tzinfo=UTC),
    created_at=datetime(2023, 12, 1, tzinfo=UTC),
    last_edited=datetime(2024, 1, 9, 8, 7, 6, tzinfo=UTC),
    tags=("t1",),
    description="three channels",
)
ONGOING = Campaign("c-on", "On", first_sent=datetime(2024, 1, 1, tzinfo=UTC))
NEVER = Campaign("c-never", "Never", draft=True, created_at=datetime(2023, 12, 2, tzinfo=UTC))
OLD = Campaign(
    "c-old",
    "Old",
    archived=True,
    first_sent=datetime(2023, 1, 1, tzinfo=UTC),
    last_sent=datetime(2023, 2, 1, tzinfo=UTC),
    created_at=datetime(2023, 12, 3, tzinfo=UTC),
)
WORKSPACE = Workspace(campaigns=(MULTI, ONGOING, NEVER, OLD), sends=())
CONFIG = SimulatorConfig(workspaces=(WORKSPACE,), seed=9)


async def _days(braze: Harness, config: SimulatorConfig, **params: str) -> list[dict[str, Any]]:
    sim = await braze.start(config)
    answer = await braze.get(sim, params, path=SERIES)
    assert answer.status == 200, answer.body
    days: list[dict[str, Any]] = answer.decoded()["data"]
    return days


def _entries(day: dict[str, Any], *, control: bool = False) -> list[dict[str, Any]]:
    return [
        e
        for entries in day["messages"].values()
        for e in entries or []
        if (e["variation_name"] == "Control Group") == control
    ]


async def test_campaign_day_shape(braze: Harness) -> None:
    """A day has time, messages {channel: [per-variant entries]} and the totals, in that order."""
    days = await _days(braze, CONFIG, campaign_id="c-multi", length="3", ending_at="2024-02-01")
    assert [d["time"] for d in days] == ["2024-01-29", "2024-01-30", "2024-01-31"]
    for day in days:
        assert list(day) == ["time", "messages", *TOTALS]
        assert isinstance(day["revenue"], Decimal)
        assert day["messages"]["email"][0]["variation_api_id"] == "va-email"
        email = day["messages"]["email"][0]
        assert {"sent", "opens", "unique_opens", "machine_open", "machine_amp_open"} <= set(email)
        for push in day["messages"].get("ios_push", [])[:-1]:  # the last is the control group
            assert {"sent", "direct_opens", "total_opens", "bounces", "body_clicks"} <= set(push)
        assert all(isinstance(e["revenue"], Decimal) for e in _entries(day))


async def test_control_group_entry(braze: Harness) -> None:
    """Each channel lists a Control Group entry: enrolled and conversions, null counts."""
    days = await _days(braze, CONFIG, campaign_id="c-multi", length="5", ending_at="2024-02-01")
    for day in days:
        for channel, entries in day["messages"].items():
            if channel not in MULTI.channels:
                continue
            control = entries[-1]
            assert control["variation_name"] == "Control Group"
            assert control["variation_api_id"] == f"ctl-{channel}"
            assert isinstance(control["enrolled"], int) and control["enrolled"] > 0
            assert control["sent"] is None and control["unique_recipients"] is None
            assert isinstance(control["conversions"], int)


@pytest.mark.parametrize("late", [False, True])
async def test_totals_are_sums_over_the_variant_entries(braze: Harness, late: bool) -> None:
    """Each total equals the sum of that field over the non-control entries, revenue to the cent."""
    config = SimulatorConfig(workspaces=(WORKSPACE,), seed=9, late_data=late)
    days = await _days(braze, config, campaign_id="c-multi", length="100", ending_at="2024-03-02")
    assert any(d["conversions"] > 0 for d in days)
    for day in days:
        for field in TOTALS:
            start = Decimal(0) if field == "revenue" else 0
            assert day[field] == sum((e[field] for e in _entries(day)), start), (day["time"], field)


async def test_channels_come_and_go_and_unused_ones_are_null_or_empty(braze: Harness) -> None:
    """The first channel is always there, others come and go; unused ones are null or []."""
    days = await _days(braze, CONFIG, campaign_id="c-multi", length="40", ending_at="2024-02-20")
    present = [set(d["messages"]) & set(MULTI.channels) for d in days]
    assert all("email" in p for p in present)
    assert any("sms" not in p for p in present) and any("sms" in p for p in present)
    unused = [v for d in days for k, v in d["messages"].items() if k not in MULTI.channels]
    assert None in unused and [] in unused


@pytest.mark.parametrize(("switch", "kept"), [("zeros", 5), ("omit", 2)])
async def test_days_outside_the_campaign_life(braze: Harness, switch: str, kept: int) -> None:
    """Days before first_sent or after last_sent have no activity: zero days, or omitted."""
    config = SimulatorConfig(workspaces=(WORKSPACE,), inactive_days=switch)  # type: ignore[arg-type]
    before = await _days(braze, config, campaign_id="c-multi", length="5", ending_at="2024-01-12")
    after = await _days(braze, config, campaign_id="c-multi", length="5", ending_at="2024-02-24")
    assert len(before) == len(after) == kept
    assert [d["time"] for d in before][-2:] == ["2024-01-10", "2024-01-11"]
    assert [d["time"] for d in after][:2] == ["2024-02-19", "2024-02-20"]
    for day in before[:-2] + after[2:]:
        assert all(day[f] == 0 for f in TOTALS)
        assert all(e.get("sent") in (0, None) for e in _entries(day) + _entries(day, control=True))
    assert all(day["unique_recipients"] > 0 for day in before[-2:] + after[:2])


@pytest.mark.parametrize(("switch", "count"), [("zeros", 4), ("omit", 0)])
async def test_never_sent_campaign_has_no_activity(braze: Harness, switch: str, count: int) -> None:
    """A campaign that never sent reports only zero days (or none)."""
    config = SimulatorConfig(workspaces=(WORKSPACE,), inactive_days=switch)  # type: ignore[arg-type]
    days = await _days(braze, config, campaign_id="c-never", length="4")
    assert len(days) == count
    assert all(d["unique_recipients"] == 0 and d["revenue"] == 0 for d in days)


async def test_conversions_keep_growing_for_14_days_while_sends_are_final(braze: Harness) -> None:
    """A day's conversions and revenue grow on re-fetch until 14 days after it; sent is final."""
    clock = VirtualClock(T0)
    sim = await braze.start(CONFIG, clock)
    params = {"campaign_id": "c-on", "length": "1", "ending_at": "2024-03-01"}  # 02-29
    seen = []
    for step in (0, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY):
        clock.set(T0 + step)
        day = (await braze.get(sim, params, path=SERIES)).decoded()["data"][0]
        seen.append((day["conversions"], day["revenue"], day["messages"]["email"][0]["sent"]))
    conversions, revenue, sent = zip(*seen, strict=True)
    assert conversions[0] < conversions[2] < conversions[3] == conversions[4]
    assert revenue[0] < revenue[2] < revenue[3] == revenue[4]
    assert len(set(sent)) == 1


async def test_late_conversions_switch_off_gives_final_figures_at_once(braze: Harness) -> None:
    """With late_conversions=False a past day's conversions never change."""
    clock = VirtualClock(T0)
    config = SimulatorConfig(workspaces=(WORKSPACE,), late_conversions=False)
    sim = await braze.start(config, clock)
    params = {"campaign_id": "c-on", "length": "3", "ending_at": "2024-03-01"}
    first = await braze.get(sim, params, path=SERIES)
    clock.advance(20 * DAY)
    assert (await braze.get(sim, params, path=SERIES)).body == first.body


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"length": "3"}, "campaign_id is required"),
        ({"length": "3", "campaign_id": "nope"}, "Invalid campaign_id"),
        ({"length": "101", "campaign_id": "c-on"}, "length must be between 1 and 100"),
        ({"campaign_id": "c-on"}, "length is required"),
    ],
)
async def test_campaign_series_validation(
    braze: Harness, params: dict[str, str], message: str
) -> None:
    """campaign_id is required and known, length lies in 1..100."""
    sim = await braze.start(CONFIG)
    answer = await braze.get(sim, params, path=SERIES)
    assert (answer.status, answer.message) == (400, message)


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({}, ["c-multi", "c-on", "c-never"]),
        ({"include_archived": "true"}, ["c-multi", "c-on", "c-never", "c-old"]),
        ({"include_archived": "false", "sort_direction": "desc"}, ["c-never", "c-on", "c-multi"]),
        ({"last_edit.time[gt]": "2024-01-09T08:07:05Z"}, ["c-multi"]),
        ({"last_edit.time[gt]": "2024-01-09T08:07:06Z"}, []),
    ],
)
async def test_campaign_list_filters_and_order(
    braze: Harness, params: dict[str, str], ids: list[str]
) -> None:
    """Archived ones only with include_archived=true; desc reverses; last_edit filters strictly."""
    sim = await braze.start(CONFIG)
    answer = await braze.get(sim, params, path=LIST)
    assert [c["id"] for c in answer.json()["campaigns"]] == ids


async def test_campaign_list_item_fields(braze: Harness) -> None:
    """An item is {id, name, is_api_campaign, tags, last_edited} with a +00:00 datetime."""
    sim = await braze.start(CONFIG)
    item = (await braze.get(sim, None, path=LIST)).json()["campaigns"][0]
    assert item == {
        "id": "c-multi",
        "name": "Multi",
        "is_api_campaign": False,
        "tags": ["t1"],
        "last_edited": "2024-01-09T08:07:06+00:00",
    }


async def test_campaign_list_pages_100(braze: Harness) -> None:
    """The family catalogue lists 100 campaigns a page, then the rest, then an empty page."""
    workspace = family_workspace(campaigns=130)
    sim = await braze.start(SimulatorConfig(workspaces=(workspace,)))
    pages = [
        (await braze.get(sim, {"page": str(n), "include_archived": "true"}, path=LIST)).json()
        for n in range(3)
    ]
    assert [len(p["campaigns"]) for p in pages] == [100, 30, 0]
    listed = [c["id"] for p in pages for c in p["campaigns"]]
    assert listed == [c.id for c in workspace.campaigns]


@pytest.mark.parametrize(
    "params",
    [{"include_archived": "yes"}, {"sort_direction": "up"}, {"last_edit.time[gt]": "soon"}],
)
async def test_campaign_list_rejects_bad_parameters(braze: Harness, params: dict[str, str]) -> None:
    """Malformed list parameters are 400."""
    sim = await braze.start(CONFIG)
    assert (await braze.get(sim, params, path=LIST)).status == 400


async def test_campaign_details(braze: Harness) -> None:
    """Details carry the metadata, sent dates, messages by id (control typed) and behaviours."""
    sim = await braze.start(CONFIG)
    body = (await braze.get(sim, {"campaign_id": "c-multi"}, path=DETAILS)).json()
    assert body["message"] == "success"
    assert (body["created_at"], body["updated_at"]) == (
        "2023-12-01T00:00:00+00:00",
        "2024-01-09T08:07:06+00:00",
    )
    assert (body["first_sent"], body["last_sent"]) == (
        "2024-01-10T15:00:00+00:00",
        "2024-02-20T09:00:00+00:00",
    )
    assert (body["name"], body["description"], body["archived"], body["draft"]) == (
        "Multi",
        "three channels",
        False,
        False,
    )
    assert body["channels"] == ["email", "ios_push", "sms"]
    assert body["messages"]["vb-sms"]["channel"] == "sms"
    assert body["messages"]["ctl-email"] == {"channel": "email", "type": "control"}
    assert len(body["messages"]) == 9
    assert all("type" in b and "window" in b for b in body["conversion_behaviors"])


async def test_running_campaign_last_sent_is_recent(braze: Harness) -> None:
    """A campaign still sending reports the latest top of the hour as last_sent."""
    sim = await braze.start(CONFIG)  # now 2024-03-01T12:30Z
    body = (await braze.get(sim, {"campaign_id": "c-on"}, path=DETAILS)).json()
    assert body["last_sent"] == "2024-03-01T12:00:00+00:00"


@pytest.mark.parametrize(("switch", "present"), [("null", True), ("absent", False)])
async def test_never_sent_dates_switch(braze: Harness, switch: str, present: bool) -> None:
    """A never-sent campaign's first_sent/last_sent are null, or absent with the switch."""
    config = SimulatorConfig(workspaces=(WORKSPACE,), never_sent_dates=switch)  # type: ignore[arg-type]
    sim = await braze.start(config)
    body = (await braze.get(sim, {"campaign_id": "c-never"}, path=DETAILS)).json()
    assert ("first_sent" in body, "last_sent" in body) == (present, present)
    assert body.get("first_sent") is None and body["draft"] is True


async def test_campaign_details_unknown_id(braze: Harness) -> None:
    """An unknown campaign_id is 400."""
    sim = await braze.start(CONFIG)
    answer = await braze.get(sim, {"campaign_id": "x"}, path=DETAILS)
    assert (answer.status, answer.message) == (400, "Invalid campaign_id")
