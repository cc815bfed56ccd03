"""Reading query parameters: each reader returns the value or raises `BadRequest` with the 400 text.

Validation order within an endpoint follows the order the readers are called in: `length`,
`unit`, `ending_at` (together, `span`), then the endpoint's subject and filters (§9 rules 8–13).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC

from collector.simulator import buckets
from collector.simulator.buckets import Bucket, Unit
from collector.simulator.context import BadRequest, Context
from collector.simulator.timetext import parse_ending_at

MAX_LENGTH = 100

_DIGITS = re.compile(r"[0-9]+")
_MAX_PAGE_DIGITS = 18

Params = Mapping[str, str]


def required(params: Params, name: str) -> str:
    """The value of `name`, which must be present."""
    value = params.get(name)
    if value is None:
        raise BadRequest(f"{name} is required")
    return value


def length(raw: str | None, maximum: int = MAX_LENGTH) -> int:
    """`length`: digits (leading zeros allowed) between 1 and `maximum`."""
    if raw is None:
        raise BadRequest("length is required")
    digits = raw.lstrip("0")
    if not _DIGITS.fullmatch(raw) or len(digits) > 3 or not 1 <= int(digits or 0) <= maximum:
        raise BadRequest(f"length must be between 1 and {maximum}")
    return int(digits)


def unit(params: Params, units: tuple[Unit, ...]) -> Unit:
    """`unit` among `units` (case-sensitive), `day` when absent; ignored when only `day` exists."""
    if units == ("day",):
        return "day"
    raw = params.get("unit", "day")
    chosen = next((u for u in units if u == raw), None)
    if chosen is None:
        raise BadRequest(f"unit must be {' or '.join(units)}")
    return chosen


def instant(ctx: Context, params: Params, name: str) -> float:
    """The epoch instant `params[name]` names; offset-less values per `naive_ending_at`."""
    naive = ctx.zone if ctx.config.naive_ending_at == "workspace" else UTC
    try:
        return parse_ending_at(params[name], naive).timestamp()
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"Invalid {name}") from exc


def ending_at(ctx: Context, params: Params) -> float:
    """`ending_at` as an epoch instant; now when absent."""
    return instant(ctx, params, "ending_at") if "ending_at" in params else ctx.now


def span(
    ctx: Context, params: Params, units: tuple[Unit, ...], maximum: int = MAX_LENGTH
) -> tuple[Unit, tuple[Bucket, ...]]:
    """The unit and the buckets `length`, `unit` and `ending_at` select (§9 rule 18)."""
    count = length(params.get("length"), maximum)
    chosen = unit(params, units)
    end = ending_at(ctx, params)
    try:
        return chosen, buckets.ending_series(chosen, ctx.zone, end, count, ctx.config.alignment)
    except (ValueError, OverflowError) as exc:
        raise BadRequest("Invalid ending_at") from exc


def flag(params: Params, name: str) -> bool:
    """A boolean parameter: `true` or `false`, false when absent."""
    raw = params.get(name, "false")
    if raw not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false")
    return raw == "true"


def page(params: Params) -> int:
    """`page`: a non-negative integer, 0 when absent."""
    raw = params.get("page", "0")
    if not _DIGITS.fullmatch(raw) or len(raw) > _MAX_PAGE_DIGITS:
        raise BadRequest("page must be a non-negative integer")
    return int(raw)
