"""`/canvas/data_series`, `/canvas/list`, `/canvas/details` (braze-api.md §10.3).

The series body is `{"data": {"name", "stats": [day, …]}, "message"}`. A day is
`{time, total_stats, variant_stats?, step_stats?}`: `total_stats` is the sum of the variants'
`{revenue, conversions, conversions_by_entry_time, entries}`; `variant_stats` (with
`include_variant_breakdown=true`) and `step_stats` (with `include_step_breakdown=true`) are maps
keyed by API id; a step adds `unique_recipients` and `messages {channel: [counts]}`.
`include_deleted_step_data` is accepted and ignored.

Which days: `length` (1–14, a string of digits) before `ending_at`, or every day from the one
holding `starting_at` to the last one `ending_at` selects; a `starting_at` range over 14 days is
a 400 or served, as `canvas_long_range` says. `length` wins when both are given. Days outside
first..last entry carry no activity (`inactive_days`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from collector.simulator import buckets, params
from collector.simulator.buckets import Bucket
from collector.simulator.catalogue import Canvas, CanvasStep
from collector.simulator.context import BadRequest, Context
from collector.simulator.families.daystats import (
    Day,
    Hash,
    Shares,
    between,
    channel_counts,
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

MAX_DAYS = 14
PAGE_SIZE = 100

_LEVEL = (10.0, 3000.0)  # a variant's daily entries, low and high


def _finals(people: int, h: Hash) -> dict[str, int]:
    """Final revenue (cents) and conversions of `people` entries."""
    conversions = math.floor(people * between(h("conversions"), 0.01, 0.1))
    return {
        "revenue": conversions * (500 + math.floor(7500 * h("order"))),
        "conversions": conversions,
        "conversions_by_entry_time": math.floor(conversions * between(h("by_entry"), 0.8, 1.2)),
    }


def _seen(finals: dict[str, int], share: Shares) -> dict[str, int]:
    """Final figures as seen now: conversions and revenue ramp, entries are counts."""
    return {
        k: seen(v, share.counts if k in ("entries", "unique_recipients") else share.conversions)
        for k, v in finals.items()
    }


def _written(stats: dict[str, int]) -> dict[str, Any]:
    return {k: money(v) if k == "revenue" else v for k, v in stats.items()}


def _step(
    ctx: Context, step: CanvasStep, totals: dict[str, int], key: tuple[object, ...], share: Shares
) -> dict[str, Any]:
    """A step's stats: a hashed share of the Canvas's final totals of the day."""
    h = hasher(ctx, *key, step.id)
    finals = {k: math.floor(v * between(h(k), 0.1, 0.9)) for k, v in totals.items()}
    recipients = finals.pop("entries")
    messages = {
        channel: [
            channel_counts(
                channel,
                math.floor(recipients * between(h(channel), 0.9, 1.0)),
                hasher(ctx, *key, step.id, channel),
                share.counts,
            )
        ]
        for channel in step.channels
    }
    return {
        "name": step.name,
        **_written(_seen({**finals, "unique_recipients": recipients}, share)),
        "messages": messages,
    }


def canvas_day(
    ctx: Context, canvas: Canvas, bucket: Bucket, level: float, variants: bool, steps: bool
) -> Day:
    """One day of `canvas` at activity `level`, with the breakdowns asked for.

    `total_stats` is the sum of the variants' stats; each step has a share of the final totals.
    """
    share = shares(ctx, bucket)
    key = ("canvas", canvas.id, bucket.day)
    finals = {"revenue": 0, "conversions": 0, "conversions_by_entry_time": 0, "entries": 0}
    totals = dict(finals)
    per_variant = {}
    for variant in canvas.variants:
        h = hasher(ctx, *key, variant.id)
        size = between(ctx.hashed("canvas", canvas.id, variant.id) ** 2, *_LEVEL)
        entries = math.floor(size * level * between(h("day"), 0.3, 1.7))
        final = {**_finals(entries, h), "entries": entries}
        stats = _seen(final, share)
        for name in totals:
            finals[name] += final[name]
            totals[name] += stats[name]
        per_variant[variant.id] = {"name": variant.name, **_written(stats)}
    day: Day = {"time": format_day(bucket.day), "total_stats": _written(totals)}
    if variants:
        day["variant_stats"] = per_variant
    if steps:
        day["step_stats"] = {s.id: _step(ctx, s, finals, key, share) for s in canvas.steps}
    return day


def canvas_days(
    ctx: Context, canvas: Canvas, days: Sequence[Bucket], variants: bool, steps: bool
) -> list[Day]:
    """The day objects of `days` as `/canvas/data_series` serves them."""
    return day_series(
        ctx,
        days,
        life(ctx, canvas.first_entry, canvas.last_entry),
        ctx.config.inactive_days,
        lambda bucket, level: canvas_day(ctx, canvas, bucket, level, variants, steps),
    )


def lookup(ctx: Context, canvas_id: str | None) -> Canvas:
    """The Canvas `canvas_id` names; BadRequest when missing or unknown."""
    if canvas_id is None:
        raise BadRequest("canvas_id is required")
    canvas = ctx.workspace.canvas(canvas_id)
    if canvas is None:
        raise BadRequest("Invalid canvas_id")
    return canvas


def _span(ctx: Context, query: params.Params) -> tuple[Bucket, ...]:
    """The days `length` or `starting_at` select before `ending_at`."""
    if "length" in query:
        return params.span(ctx, query, ("day",), MAX_DAYS)[1]
    if "starting_at" not in query:
        raise BadRequest("length or starting_at is required")
    end = params.ending_at(ctx, query)
    start = params.instant(ctx, query, "starting_at")
    try:
        last = buckets.last_bucket("day", ctx.zone, end, ctx.config.alignment)
        first = buckets.containing("day", ctx.zone, start)
    except (ValueError, OverflowError) as exc:
        raise BadRequest("Invalid ending_at") from exc
    if first.start > last.start:
        raise BadRequest("starting_at must not be after ending_at")
    days = buckets.starting_between("day", ctx.zone, first.start, last.end)
    if len(days) > MAX_DAYS and ctx.config.canvas_long_range == "error":
        raise BadRequest(f"starting_at must be at most {MAX_DAYS} days before ending_at")
    return tuple(days)


def _series(ctx: Context, query: params.Params) -> bytes:
    days = _span(ctx, query)
    canvas = lookup(ctx, query.get("canvas_id"))
    variants = params.flag(query, "include_variant_breakdown")
    steps = params.flag(query, "include_step_breakdown")
    stats = canvas_days(ctx, canvas, days, variants, steps)
    return json_body({"data": {"name": canvas.name, "stats": stats}, "message": "success"})


def _truth(ctx: Context, ids: Mapping[str, str | None], days: Sequence[Bucket]) -> list[Day]:
    return canvas_days(ctx, lookup(ctx, ids.get("canvas_id")), days, True, True)


def _list(ctx: Context, query: params.Params) -> bytes:
    page = paged(ctx, query, filtered(ctx, query, ctx.workspace.canvases), PAGE_SIZE)
    items = [
        {"id": c.id, "name": c.name, "tags": list(c.tags), "last_edited": instant_text(c.edited)}
        for c in page
    ]
    return list_body("canvases", items)


def _details(ctx: Context, query: params.Params) -> bytes:
    canvas = lookup(ctx, query.get("canvas_id"))
    body = {
        "created_at": instant_text(canvas.created_at),
        "updated_at": instant_text(canvas.edited),
        "name": canvas.name,
        "description": canvas.description,
        "archived": canvas.archived,
        "draft": canvas.draft,
        "enabled": canvas.enabled,
        "schedule_type": "time_based",
        **life_dates(ctx, ("first_entry", "last_entry"), canvas.first_entry, canvas.last_entry),
        "channels": list(canvas.channels),
        "variants": [
            {"name": v.name, "id": v.id, "first_step_ids": list(v.first_step_ids)}
            for v in canvas.variants
        ],
        "tags": list(canvas.tags),
        "steps": [
            {
                "name": s.name,
                "type": "message",
                "id": s.id,
                "next_step_ids": list(s.next_step_ids),
                "channels": list(s.channels),
            }
            for s in canvas.steps
        ],
        "message": "success",
    }
    return json_body(body)


SERIES = Route("/canvas/data_series", "canvas.data_series", "default", _series)
STATS = DayStats("/canvas/data_series", ("canvas_id",), _truth)
LIST = Route("/canvas/list", "canvas.list", "default", _list)
DETAILS = Route("/canvas/details", "canvas.details", "default", _details)
