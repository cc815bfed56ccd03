"""What `'*'` means: the names and ids a workspace lists, and how long each message lived.

Lists are paged from page 0 until an empty page, guarded against a server that never ends a list
(the same page again, or more than MAX_PAGES), and de-duplicated in listed order. Every result is
cached in the store with when it was listed, so a resumed or nightly run within the TTL spends
nothing on the small list pools. Names are kept exactly as listed (free text).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from collector.core.units import parse_iso
from collector.errors import PayloadError
from collector.store.base import RunStore

MAX_PAGES = 1000
MAX_ID_CHARS = 1000

# (path, params, pool, permission) → the JSON body of one successful answer
Get = Callable[[str, Mapping[str, str], str, str], Awaitable[Any]]


@dataclass(frozen=True)
class ListSpec:
    """A paged list endpoint."""

    what: str  # the cache name and what the user sees
    path: str
    key: str  # the body's array
    pool: str
    permission: str
    params: tuple[tuple[str, str], ...] = ()


LISTS = {
    "events": ListSpec("events", "/events/list", "events", "export-lists", "events.list"),
    "products": ListSpec(
        "products",
        "/purchases/product_list",
        "products",
        "export-lists",
        "purchases.product_list",
    ),
    "segments": ListSpec("segments", "/segments/list", "segments", "default", "segments.list"),
    "campaigns": ListSpec(
        "campaigns",
        "/campaigns/list",
        "campaigns",
        "default",
        "campaigns.list",
        (("include_archived", "true"),),
    ),
    "canvases": ListSpec(
        "canvases",
        "/canvas/list",
        "canvases",
        "default",
        "canvas.list",
        (("include_archived", "true"),),
    ),
}

# dimension → the list `'*'` expands to
LIST_OF_DIMENSION = {
    "event": "events",
    "product": "products",
    "segment_id": "segments",
    "campaign_id": "campaigns",
    "canvas_id": "canvases",
}


@dataclass(frozen=True)
class DetailsSpec:
    path: str
    id_param: str
    first: str
    last: str
    permission: str


DETAILS = {
    "campaign_id": DetailsSpec(
        "/campaigns/details", "campaign_id", "first_sent", "last_sent", "campaigns.details"
    ),
    "canvas_id": DetailsSpec(
        "/canvas/details", "canvas_id", "first_entry", "last_entry", "canvas.details"
    ),
}


class Discovery:
    """Lists and lives, from the cache when fresh enough, else from the server."""

    def __init__(
        self, get: Get, store: RunStore, workspace: str, ttl_s: float, now: Callable[[], float]
    ) -> None:
        self._get = get
        self._store = store
        self._workspace = workspace
        self._ttl = timedelta(seconds=ttl_s)
        self._now = now
        self.requests = 0

    async def listed(self, what: str) -> tuple[list[str], list[str]]:
        """(names or ids to collect, ids skipped as untracked) of list `what`."""
        spec = LISTS[what]
        hit = await self._fresh(spec.what)
        if hit is not None:
            return hit
        items, skipped = await self._page_all(spec)
        await self._store.remember(self._workspace, spec.what, items, skipped, self._at())
        return items, skipped

    async def life(self, dimension: str, entity: str) -> tuple[datetime, datetime] | None:
        """When a campaign or Canvas first and last sent (entered); None if it never did."""
        spec = DETAILS[dimension]
        name = f"{spec.path}?{entity}"
        hit = await self._fresh(name)
        if hit is None:
            self.requests += 1
            doc = await self._get(spec.path, {spec.id_param: entity}, "default", spec.permission)
            first, last = _instant(doc, spec.first, spec.path), _instant(doc, spec.last, spec.path)
            dates = [] if first is None else [first, last or first]
            await self._store.remember(self._workspace, name, dates, [], self._at())
        else:
            dates = hit[0]
        if not dates:
            return None
        return datetime.fromisoformat(dates[0]), datetime.fromisoformat(dates[1])

    async def _fresh(self, name: str) -> tuple[list[str], list[str]] | None:
        found = await self._store.discovered(self._workspace, name)
        if found is None:
            return None
        items, skipped, at = found
        if self._at() - at > self._ttl:
            return None
        return items, skipped

    async def _page_all(self, spec: ListSpec) -> tuple[list[str], list[str]]:
        items: dict[str, None] = {}
        skipped: dict[str, None] = {}
        previous: list[Any] | None = None
        for page in range(MAX_PAGES):
            self.requests += 1
            doc = await self._get(
                spec.path, {**dict(spec.params), "page": str(page)}, spec.pool, spec.permission
            )
            entries = doc.get(spec.key) if isinstance(doc, dict) else None
            if not isinstance(entries, list):
                raise PayloadError(f"{spec.path} page {page}: the body has no {spec.key!r} list")
            if not entries:
                return list(items), list(skipped)
            if entries == previous:
                raise PayloadError(
                    f"{spec.path} returned page {page} identical to page {page - 1}: the server "
                    "does not advance its pages, so the list cannot be read to its end"
                )
            previous = entries
            for entry in entries:
                name, tracked = _entry(spec, entry, page)
                (items if tracked else skipped)[name] = None
        raise PayloadError(
            f"{spec.path} still had entries after {MAX_PAGES} pages: giving up rather than "
            "paging forever"
        )

    def _at(self) -> datetime:
        return datetime.fromtimestamp(self._now(), UTC)


def _entry(spec: ListSpec, entry: Any, page: int) -> tuple[str, bool]:
    """(name or id, whether to collect it) of one list entry."""
    where = f"{spec.path} page {page}"
    if spec.key in ("events", "products"):
        if not isinstance(entry, str) or not entry or len(entry) > MAX_ID_CHARS:
            raise PayloadError(f"{where}: an entry is not a non-empty name: {entry!r:.60}")
        return entry, True
    if not isinstance(entry, dict):
        raise PayloadError(f"{where}: an entry is not an object: {entry!r:.60}")
    ident = entry.get("id")
    if not isinstance(ident, str) or not ident or len(ident) > MAX_ID_CHARS:
        raise PayloadError(f"{where}: an entry has no string 'id': {entry!r:.60}")
    if spec.key == "segments":
        return ident, entry.get("analytics_tracking_enabled") is True
    return ident, True


def _instant(doc: Any, field: str, path: str) -> str | None:
    raw = doc.get(field) if isinstance(doc, dict) else None
    if raw is None:
        return None
    try:
        if not isinstance(raw, str):
            raise ValueError("not a string")
        parsed = parse_iso(raw)
        when = parsed.wall.replace(tzinfo=timezone(parsed.offset or timedelta(0)))
    except (ValueError, OverflowError) as exc:
        raise PayloadError(f"{path}: {field} {raw!r:.40} is not a time: {exc}") from exc
    return when.isoformat()
