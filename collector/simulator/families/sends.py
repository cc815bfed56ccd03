"""`/sends/data_series`: the daily stats of one send of an API campaign (braze-api.md §10).

A send day has the shape of a campaign day (`campaigns.campaign_day`), with numbers of its own:
activity is highest on the day of the send and halves each day after. Braze keeps send analytics
`send_retention_days` (14) days: days outside that window from the day of the send — before it,
or later — are all-zero days or left out (`expired_send_days`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from collector.simulator import params
from collector.simulator.buckets import Bucket
from collector.simulator.catalogue import Send
from collector.simulator.context import BadRequest, Context
from collector.simulator.families.campaigns import campaign_day, lookup
from collector.simulator.families.daystats import Day, day_series
from collector.simulator.render import json_body
from collector.simulator.routes import DayStats, Route

_DECAY = 0.5  # a day's activity relative to the day before


def send_days(ctx: Context, send: Send, buckets: Sequence[Bucket]) -> list[Day]:
    """The day objects of `buckets` as `/sends/data_series` serves them for `send`."""
    campaign = lookup(ctx, send.campaign_id)
    sent_day = send.sent_at.astimezone(ctx.zone).date()
    kept = ctx.config.send_retention_days

    def intensity(bucket: Bucket) -> float:
        age = (bucket.day - sent_day).days
        return _DECAY**age if 0 <= age < kept else 0.0

    return day_series(
        ctx,
        buckets,
        intensity,
        ctx.config.expired_send_days,
        lambda bucket, level: campaign_day(ctx, campaign, bucket, level, f"send|{send.send_id}"),
    )


def _lookup(ctx: Context, campaign_id: str | None, send_id: str | None) -> Send:
    campaign = lookup(ctx, campaign_id)
    if send_id is None:
        raise BadRequest("send_id is required")
    send = ctx.workspace.send(campaign.id, send_id)
    if send is None:
        raise BadRequest("Invalid send_id")
    return send


def _series(ctx: Context, query: params.Params) -> bytes:
    _, span = params.span(ctx, query, ("day",))
    send = _lookup(ctx, query.get("campaign_id"), query.get("send_id"))
    return json_body({"data": send_days(ctx, send, span), "message": "success"})


def _truth(ctx: Context, ids: Mapping[str, str | None], buckets: Sequence[Bucket]) -> list[Day]:
    return send_days(ctx, _lookup(ctx, ids.get("campaign_id"), ids.get("send_id")), buckets)


SERIES = Route("/sends/data_series", "sends.data_series", "default", _series)
STATS = DayStats("/sends/data_series", ("campaign_id", "send_id"), _truth)
