"""Building blocks of the nested day stats of campaigns, sends and Canvases (braze-api.md §10.3).

Which days: `day_series` applies the series rules of §9 (history_start, future days, the
alignment chosen by the caller's buckets) and a subject's life: a day outside it has no activity
and is an all-zero day or left out, as the caller's switch says.

How much: every figure is a hashed final value seen through a share. The day in progress shows
the elapsed share of its final figures. Counts (sent, opens, entries, unique recipients …) are
final once the day ends, or follow the late-data ramp of the scalar series with `late_data`;
conversions and revenue follow their own ramp over `conversion_settle_s` (14 days), starting at
40 % when the day ends, so a re-fetch revises a fortnight of days (`late_conversions`).

Channel counts derive from a base (`sent`, or `impressions` for in-app messages): each field is
a hashed share of the base or of an earlier field, so they stay plausible (delivered ≤ sent,
unique opens ≤ opens …). A channel the table does not know gets `sent` alone: the set is open.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from collector.simulator.buckets import HOUR_S, Bucket
from collector.simulator.config import QuietDays
from collector.simulator.context import Context
from collector.simulator.data import LATE_FLOOR, visible_share
from collector.simulator.render import instant_text

CONVERSIONS_AT_END = 0.4  # share of a day's final conversions seen when the day ends

Day = dict[str, Any]
Hash = Callable[[str], float]  # a field name → a uniform number fixed for one entry and day

# channel → (field, index of the field it is a share of (None: the base), share low, share high)
_F = tuple[str, int | None, float, float]
_PUSH: tuple[_F, ...] = (
    ("sent", None, 1.0, 1.0),
    ("direct_opens", 0, 0.01, 0.08),
    ("total_opens", 1, 1.0, 2.0),
    ("bounces", 0, 0.0, 0.03),
    ("body_clicks", 1, 0.5, 1.0),
)
CHANNEL_COUNTS: dict[str, tuple[_F, ...]] = {
    "email": (
        ("sent", None, 1.0, 1.0),
        ("delivered", 0, 0.9, 0.99),
        ("bounces", 0, 0.005, 0.05),
        ("unique_opens", 1, 0.1, 0.45),
        ("opens", 3, 1.0, 1.5),
        ("machine_open", 4, 0.0, 0.3),
        ("machine_amp_open", 5, 0.0, 0.1),
        ("unique_clicks", 3, 0.05, 0.3),
        ("clicks", 7, 1.0, 1.4),
        ("unsubscribes", 1, 0.0, 0.01),
        ("reported_spam", 1, 0.0, 0.002),
    ),
    "ios_push": _PUSH,
    "android_push": _PUSH,
    "web_push": _PUSH,
    "kindle_push": _PUSH,
    "sms": (
        ("sent", None, 1.0, 1.0),
        ("sent_to_carrier", 0, 0.97, 1.0),
        ("delivered", 1, 0.9, 0.99),
        ("rejected", 0, 0.0, 0.02),
        ("delivery_failed", 1, 0.0, 0.05),
        ("clicks", 2, 0.0, 0.1),
        ("opt_out", 2, 0.0, 0.01),
        ("help", 2, 0.0, 0.005),
    ),
    "webhook": (("sent", None, 1.0, 1.0), ("errors", 0, 0.0, 0.02)),
    "content_cards": (
        ("sent", None, 1.0, 1.0),
        ("total_impressions", 0, 0.3, 1.5),
        ("unique_impressions", 0, 0.2, 0.8),
        ("total_clicks", 1, 0.0, 0.1),
        ("unique_clicks", 3, 0.6, 1.0),
        ("total_dismissals", 1, 0.0, 0.1),
        ("unique_dismissals", 5, 0.7, 1.0),
    ),
    "in_app_message": (
        ("impressions", None, 1.0, 1.0),
        ("clicks", 0, 0.0, 0.2),
        ("first_button_clicks", 1, 0.0, 0.6),
        ("second_button_clicks", 1, 0.0, 0.3),
    ),
    "whats_app": (
        ("sent", None, 1.0, 1.0),
        ("delivered", 0, 0.9, 1.0),
        ("read", 1, 0.3, 0.9),
        ("failed", 0, 0.0, 0.05),
    ),
}
CHANNEL_COUNTS["trigger_in_app_message"] = CHANNEL_COUNTS["in_app_message"]
_GENERIC: tuple[_F, ...] = (("sent", None, 1.0, 1.0),)


@dataclass(frozen=True)
class Shares:
    """How much of a day's final figures a fetch sees now: counts, and conversions with revenue."""

    counts: float
    conversions: float


def shares(ctx: Context, bucket: Bucket) -> Shares:
    """The shares seen at `ctx.now` of the day `bucket`: 0 before it starts, the elapsed share
    while it runs (times the ramp's start when that ramp is on), then the ramp."""
    config = ctx.config

    def share(ramp: bool, at_end: float, settle: float) -> float:
        if bucket.start > ctx.now:
            return 0.0
        if not ramp:
            at_end, settle = 1.0, 0.0
        seen = visible_share(bucket.start, bucket.end, ctx.now, at_end, settle)
        return 1.0 if seen is None else seen

    return Shares(
        share(config.late_data, LATE_FLOOR, config.settle_period_s),
        share(config.late_conversions, CONVERSIONS_AT_END, config.conversion_settle_s),
    )


def seen(final: int, share: float) -> int:
    """A final figure as seen through `share`."""
    return math.floor(final * share)


def between(h: float, low: float, high: float) -> float:
    """`h` in [0, 1) mapped onto [low, high)."""
    return low + (high - low) * h


def count_fields(channel: str) -> tuple[str, ...]:
    """The count fields of `channel`, in the order they are written."""
    return tuple(f[0] for f in CHANNEL_COUNTS.get(channel, _GENERIC))


def channel_counts(channel: str, base: int, h: Hash, share: float) -> dict[str, int]:
    """The counts of one message entry of `channel` whose final base figure is `base`."""
    finals: list[int] = []
    for name, parent, low, high in CHANNEL_COUNTS.get(channel, _GENERIC):
        of = base if parent is None else finals[parent]
        finals.append(math.floor(of * between(h(name), low, high)))
    return {f: seen(v, share) for f, v in zip(count_fields(channel), finals, strict=True)}


def day_series(
    ctx: Context,
    buckets: Sequence[Bucket],
    intensity: Callable[[Bucket], float],
    quiet: QuietDays,
    build: Callable[[Bucket, float], Day],
) -> list[Day]:
    """The day objects of `buckets`; `intensity` is 0 outside the subject's life.

    Left out: days before `history_start`, future days with `omit_future`, days outside the
    life when `quiet` is "omit". Future days and days outside the life are all-zero days
    (built with intensity 0).
    """
    history = ctx.workspace.history_start
    first = history.timestamp() if history is not None else None
    days = []
    for bucket in buckets:
        future = bucket.start > ctx.now
        if (first is not None and bucket.start < first) or (future and ctx.config.omit_future):
            continue
        level = intensity(bucket)
        if level == 0 and quiet == "omit":
            continue
        days.append(build(bucket, 0.0 if future else level))
    return days


def hasher(ctx: Context, *parts: object) -> Hash:
    """Hashes of one entry: `field` → a uniform number fixed by the seed, `parts` and `field`."""
    return lambda field: ctx.hashed(*parts, field)


def life(ctx: Context, first: datetime | None, last: datetime | None) -> Callable[[Bucket], float]:
    """1.0 on the local days from that of `first` to that of `last` (open-ended if None), else 0.

    Without `first` (never sent, never entered) every day is 0.
    """
    zone = ctx.zone
    first_day = first.astimezone(zone).date() if first is not None else None
    last_day = last.astimezone(zone).date() if last is not None else None

    def intensity(bucket: Bucket) -> float:
        if first_day is None or bucket.day < first_day:
            return 0.0
        return 1.0 if last_day is None or bucket.day <= last_day else 0.0

    return intensity


def life_dates(
    ctx: Context, names: tuple[str, str], first: datetime | None, last: datetime | None
) -> dict[str, str | None]:
    """The first/last sent (or entry) fields of a details body.

    Never sent: both null, or both absent with `never_sent_dates="absent"`. Still running (no
    `last`): the last is the latest top of an hour not after now (and not before the first).
    """
    if first is None:
        return {} if ctx.config.never_sent_dates == "absent" else dict.fromkeys(names)
    if last is None:
        hour = datetime.fromtimestamp(ctx.now // HOUR_S * HOUR_S, UTC)
        last = max(first, hour)
    return {names[0]: instant_text(first), names[1]: instant_text(last)}
