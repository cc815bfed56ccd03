"""Paging and filtering of the list endpoints (braze-api.md §10.2), honest or hostile.

`page` counts from 0; a page past the end is empty. `list_behaviour` plays a hostile server:

- `repeat_forever`: every page is page 0, so a client paging until an empty page never stops;
- `shrinking`: page n holds `size >> n` items (at least one), so an early page is short although
  more follow; paging until an empty page still sees every item once;
- `repeating`: each page starts `size // 10` (at least one) items before the previous one ended,
  so names repeat across pages; paging until an empty page sees every item, some twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from collector.simulator import params
from collector.simulator.config import ListBehaviour
from collector.simulator.context import BadRequest, Context
from collector.simulator.render import json_body

T = TypeVar("T")

_SHIFT_LIMIT = 64  # `size >> n` is 0 beyond this for any page size that fits in memory


def _start(number: int, size: int, behaviour: ListBehaviour) -> tuple[int, int]:
    """Where page `number` starts and how many items it holds."""
    if behaviour == "repeat_forever":
        return 0, size
    if behaviour == "shrinking":
        shrunk = sum(max(1, size >> i) for i in range(min(number, _SHIFT_LIMIT)))
        return shrunk + max(0, number - _SHIFT_LIMIT), max(1, size >> number)
    if behaviour == "repeating":
        overlap = max(1, size // 10) if size > 1 else 0
        return number * (size - overlap), size
    return number * size, size


def paged(ctx: Context, query: params.Params, items: Sequence[T], size: int) -> list[T]:
    """The page of `items` that `query`'s `page` asks for, in pages of `size`."""
    start, count = _start(params.page(query), size, ctx.config.list_behaviour)
    return list(items[start : start + count])


class Listed(Protocol):
    """A campaign or Canvas as its list sees it."""

    @property
    def archived(self) -> bool: ...

    @property
    def edited(self) -> datetime: ...


L = TypeVar("L", bound=Listed)


def filtered(ctx: Context, query: params.Params, items: Sequence[L]) -> list[L]:
    """`items` in creation order, as `include_archived`, `last_edit.time[gt]`, `sort_direction` ask.

    Archived items are listed only with `include_archived=true`; `sort_direction=desc` lists the
    newest first.
    """
    include = params.flag(query, "include_archived")
    direction = query.get("sort_direction", "asc")
    if direction not in ("asc", "desc"):
        raise BadRequest("sort_direction must be asc or desc")
    after = None
    if "last_edit.time[gt]" in query:
        after = params.instant(ctx, query, "last_edit.time[gt]")
    kept = [
        item
        for item in items
        if (include or not item.archived) and (after is None or item.edited.timestamp() > after)
    ]
    return kept[::-1] if direction == "desc" else kept


def list_body(key: str, items: list[Any]) -> bytes:
    """`{key: [...], "message": "success"}`."""
    return json_body({key: items, "message": "success"})
