"""`/campaigns/data_series`, `/campaigns/list`, `/campaigns/details` (braze-api.md §10).

A campaign day (also a send's, see `sends`) is
`{time, messages: {channel: [per-variant entry, …]}, <totals>}`:

- each variant of each channel has an entry with `variation_api_id`, `variation_name`, the
  channel's counts, and its own `revenue`, `unique_recipients`, `conversions[1-3]` and
  `conversions[1-3]_by_send_time`; the day's totals are the sums over these entries;
- with a control group each channel also lists a "Control Group" entry: `enrolled` and its own
  conversions, `null` for the counts and unique recipients that do not apply (not in the totals);
- on active days each channel but the first is missing on some days (channels come and go);
  channels the campaign does not use appear on some days as `null`, on some as `[]`.

A multichannel campaign's message ids are `<variant id>-<channel>`; a one-channel campaign's are
the variant ids. Days outside first..last sent carry no activity (`inactive_days`). The series
counts in the `campaigns` pool; list and details in `default`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from collector.simulator import params
from collector.simulator.buckets import Bucket
from collector.simulator.catalogue import Campaign
from collector.simulator.context import BadRequest, Context
from collector.simulator.families.daystats import (
    Day,
    Hash,
    Shares,
    between,
    channel_counts,
    count_fields,
    day_series,
    hasher,
    life,
    life_dates,
    seen,
    shares,
)
from collector.simulator.families.listing import filtered, list_body, paged
from collector.simulator.render import instant_text, json_body, money
from collector.simulator.routes import DayStats, Route
from collector.simulator.timetext import format_day

PAGE_SIZE = 100
CONTROL_NAME = "Control Group"
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
UNUSED_CHANNELS = ("sms", "webhook", "content_cards", "web_push", "in_app_message")

_GONE = 0.15  # chance that a channel other than the first is missing on an active day
_LEVEL = (20.0, 6000.0)  # a variant's daily sends on a channel, low and high
_DETAILS: dict[str, dict[str, Any]] = {
    "email": {"subject": "Hello", "from": "Simulator <sim@example.com>", "extras": {}},
    "ios_push": {"alert": "Hello", "extras": {}},
    "android_push": {"alert": "Hello", "extras": {}},
    "sms": {"body": "Hello", "from": ["+15555550100"], "subscription_group_id": "sg-sim"},
    "webhook": {"url": "https://example.com/hook", "body": "{}", "method": "POST"},
}
_BEHAVIORS = (
    {"type": "Makes Any Purchase", "window": 259_200},
    {"type": "Starts Session", "window": 86_400, "app_ids": None},
    {"type": "Opens Email", "window": 86_400},
    {"type": "Clicks Email", "window": 604_800},
)


def message_id(campaign: Campaign, variant_id: str, channel: str) -> str:
    """The variation_api_id of a variant's (or the control's) message on `channel`."""
    return variant_id if len(campaign.channels) == 1 else f"{variant_id}-{channel}"


def _outcomes(base: int, h: Hash, share: Shares) -> dict[str, int]:
    """Revenue (cents), unique recipients and conversions of an entry of `base` final sends."""
    recipients = math.floor(base * between(h("recipients"), 0.85, 1.0))
    conversions = [math.floor(recipients * between(h("conversions"), 0.005, 0.08))]
    for n in (1, 2, 3):
        conversions.append(math.floor(conversions[-1] * between(h(f"conversions{n}"), 0.0, 0.8)))
    revenue = conversions[0] * (500 + math.floor(7500 * h("order")))
    result = {
        "revenue": seen(revenue, share.conversions),
        "unique_recipients": seen(recipients, share.counts),
    }
    for n, final in enumerate(conversions):
        name = f"conversions{n or ''}"
        by_send = math.floor(final * between(h(f"{name}_by_send_time"), 0.8, 1.2))
        result[name] = seen(final, share.conversions)
        result[f"{name}_by_send_time"] = seen(by_send, share.conversions)
    return result


def _written(outcome: dict[str, int]) -> dict[str, Any]:
    return {k: money(v) if k == "revenue" else v for k, v in outcome.items()}


def campaign_day(ctx: Context, campaign: Campaign, bucket: Bucket, level: float, salt: str) -> Day:
    """One day of `campaign` (of one of its sends when `salt` names it) at activity `level`."""
    share = shares(ctx, bucket)
    totals = dict.fromkeys(TOTALS, 0)
    messages: dict[str, list[dict[str, Any]] | None] = {}
    for n, channel in enumerate(campaign.channels):
        key = (salt, campaign.id, channel, bucket.day)
        if level > 0 and n > 0 and ctx.hashed(*key, "gone") < _GONE:
            continue
        entries, sends = [], 0
        for variant in campaign.variants:
            h = hasher(ctx, *key, variant.id)
            size = between(ctx.hashed(salt, campaign.id, variant.id, channel) ** 2, *_LEVEL)
            base = math.floor(size * level * between(h("day"), 0.3, 1.7))
            sends += base
            outcome = _outcomes(base, h, share)
            for name in TOTALS:
                totals[name] += outcome[name]
            entries.append(
                {
                    "variation_api_id": message_id(campaign, variant.id, channel),
                    "variation_name": variant.name,
                    **channel_counts(channel, base, h, share.counts),
                    **_written(outcome),
                }
            )
        if campaign.control_id is not None:
            control = message_id(campaign, campaign.control_id, channel)
            entries.append(_control(ctx, control, channel, key, sends, share))
        messages[channel] = entries
    for channel in UNUSED_CHANNELS:
        pick = ctx.hashed(salt, campaign.id, channel, bucket.day, "unused")
        if channel not in campaign.channels and pick < 2 / 3:
            messages[channel] = None if pick < 1 / 3 else []
    return {
        "time": format_day(bucket.day),
        "messages": messages,
        **_written({name: totals[name] for name in TOTALS}),
    }


def _control(
    ctx: Context,
    control_id: str,
    channel: str,
    key: tuple[object, ...],
    sends: int,
    share: Shares,
) -> dict[str, Any]:
    """The Control Group entry of a channel, sized on the final sends of its variants."""
    h = hasher(ctx, *key, control_id)
    enrolled = math.floor(sends * between(h("enrolled"), 0.05, 0.15))
    outcome = _written(_outcomes(enrolled, h, share))
    return {
        "variation_api_id": control_id,
        "variation_name": CONTROL_NAME,
        **dict.fromkeys(count_fields(channel)),
        "enrolled": seen(enrolled, share.counts),
        **outcome,
        "unique_recipients": None,
    }


def campaign_days(ctx: Context, campaign: Campaign, buckets: Sequence[Bucket]) -> list[Day]:
    """The day objects of `buckets` as `/campaigns/data_series` serves them."""
    return day_series(
        ctx,
        buckets,
        life(ctx, campaign.first_sent, campaign.last_sent),
        ctx.config.inactive_days,
        lambda bucket, level: campaign_day(ctx, campaign, bucket, level, ""),
    )


def lookup(ctx: Context, campaign_id: str | None) -> Campaign:
    """The campaign `campaign_id` names; BadRequest when missing or unknown."""
    if campaign_id is None:
        raise BadRequest("campaign_id is required")
    campaign = ctx.workspace.campaign(campaign_id)
    if campaign is None:
        raise BadRequest("Invalid campaign_id")
    return campaign


def _series(ctx: Context, query: params.Params) -> bytes:
    _, span = params.span(ctx, query, ("day",))
    days = campaign_days(ctx, lookup(ctx, query.get("campaign_id")), span)
    return json_body({"data": days, "message": "success"})


def _truth(ctx: Context, ids: Mapping[str, str | None], buckets: Sequence[Bucket]) -> list[Day]:
    return campaign_days(ctx, lookup(ctx, ids.get("campaign_id")), buckets)


def _list(ctx: Context, query: params.Params) -> bytes:
    page = paged(ctx, query, filtered(ctx, query, ctx.workspace.campaigns), PAGE_SIZE)
    items = [
        {
            "id": c.id,
            "name": c.name,
            "is_api_campaign": c.api_campaign,
            "tags": list(c.tags),
            "last_edited": instant_text(c.edited),
        }
        for c in page
    ]
    return list_body("campaigns", items)


def _messages(campaign: Campaign) -> dict[str, dict[str, Any]]:
    messages: dict[str, dict[str, Any]] = {}
    for channel in campaign.channels:
        for variant in campaign.variants:
            messages[message_id(campaign, variant.id, channel)] = {
                "channel": channel,
                "name": variant.name,
                **_DETAILS.get(channel, {"extras": {}}),
            }
        if campaign.control_id is not None:
            control = message_id(campaign, campaign.control_id, channel)
            messages[control] = {"channel": channel, "type": "control"}
    return messages


def _details(ctx: Context, query: params.Params) -> bytes:
    campaign = lookup(ctx, query.get("campaign_id"))
    dates = life_dates(ctx, ("first_sent", "last_sent"), campaign.first_sent, campaign.last_sent)
    body = {
        "created_at": instant_text(campaign.created_at),
        "updated_at": instant_text(campaign.edited),
        "archived": campaign.archived,
        "draft": campaign.draft,
        "name": campaign.name,
        "description": campaign.description,
        "schedule_type": "api_triggered" if campaign.api_campaign else "time_based",
        "channels": list(campaign.channels),
        **dates,
        "tags": list(campaign.tags),
        "messages": _messages(campaign),
        "conversion_behaviors": list(_BEHAVIORS),
        "message": "success",
    }
    return json_body(body)


SERIES = Route("/campaigns/data_series", "campaigns.data_series", "campaigns", _series)
STATS = DayStats("/campaigns/data_series", ("campaign_id",), _truth)
LIST = Route("/campaigns/list", "campaigns.list", "default", _list)
DETAILS = Route("/campaigns/details", "campaigns.details", "default", _details)
