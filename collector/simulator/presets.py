"""Large, awkward catalogues: a real-sized family for tests that page, encode and fan out.

`family_workspace()` builds a workspace whose lists span several pages and whose names and ids
are hostile: spaces (leading and trailing too), `& = / ? # % +`, quotes, backslashes, mixed case
and non-ASCII (é, 日本, emoji); with `control_characters=True` also NUL, other C0 controls, DEL
and U+2028. Everything is derived from the index, so the same arguments give the same workspace.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collector.simulator.catalogue import (
    Campaign,
    Canvas,
    CanvasStep,
    CanvasVariant,
    Send,
    Variant,
)
from collector.simulator.config import Segment, Workspace

AWKWARD = (" ", "&", "=", "/", "?", "#", "%", "+", "'", '"', "é", "日本", "🎉", "%20", "\\", ";")
CONTROL = ("\x00", "\x01", "\n", "\t", "\x1f", "\x7f", "\u2028")
CHANNEL_SETS = (
    ("email",),
    ("ios_push", "android_push"),
    ("sms",),
    ("email", "web_push", "content_cards"),
    ("webhook",),
    ("in_app_message", "whats_app"),
)
DEFAULT_SINCE = datetime(2023, 1, 1, tzinfo=UTC)

_STEMS = ("Event", "event", "ÉVÉNEMENT", "purchase done", "日本語")
_DAY = timedelta(days=1)


def awkward_names(stem: str, count: int, *, control_characters: bool = False) -> tuple[str, ...]:
    """`count` distinct names built on `stem`, each carrying two awkward fragments.

    Every 50th is wrapped in spaces; the stems vary in case and script, so code-point order
    differs from a case-insensitive or locale order.
    """
    pieces = AWKWARD + (CONTROL if control_characters else ())
    names = []
    for i in range(count):
        first, second = pieces[i % len(pieces)], pieces[(7 * i + 3) % len(pieces)]
        name = f"{stem or _STEMS[i % len(_STEMS)]}{first}{i:05d}{second}x"
        names.append(f" {name} " if i % 50 == 0 else name)
    return tuple(names)


def _id(prefix: str, i: int, control_characters: bool) -> str:
    """An id: plain, or every 13th with quotes, every 17th with a control character."""
    if i % 13 == 0:
        return f"{prefix}-'{i:04d}\""
    if control_characters and i % 17 == 0:
        return f"{prefix}-\x01{i:04d}"
    return f"{prefix}-{i:04d}"


def _segments(count: int, since: datetime, control_characters: bool) -> tuple[Segment, ...]:
    names = awkward_names("Segment", count, control_characters=control_characters)
    return tuple(
        Segment(
            _id("seg", i, control_characters),
            analytics_tracking=i % 4 != 3,
            tracking_since=since + i * _DAY if i % 5 == 1 else None,
            name=name,
            tags=("generated",) if i % 2 else (),
        )
        for i, name in enumerate(names)
    )


def _campaigns(count: int, since: datetime, control_characters: bool) -> tuple[Campaign, ...]:
    """Every 7th archived, every 11th never sent (half of those drafts), every 5th ended, every
    4th an API campaign, every 3rd with a control group; one to three variants."""
    names = awkward_names("Campaign", count, control_characters=control_characters)
    campaigns = []
    for i, name in enumerate(names):
        cid = _id("cmp", i, control_characters)
        first = None if i % 11 == 10 else since + (i % 200) * _DAY + timedelta(hours=i % 24)
        campaigns.append(
            Campaign(
                cid,
                name,
                channels=CHANNEL_SETS[i % len(CHANNEL_SETS)],
                variants=tuple(Variant(f"{cid}-v{n}", f"Variant {n}") for n in range(1 + i % 3)),
                control_id=f"{cid}-control" if i % 3 == 0 else None,
                archived=i % 7 == 6,
                draft=first is None and i % 2 == 0,
                api_campaign=i % 4 == 1,
                first_sent=first,
                last_sent=first + 30 * _DAY if first is not None and i % 5 == 4 else None,
                created_at=since + timedelta(hours=i),
                last_edited=since + timedelta(hours=i) + (i % 9) * _DAY,
                tags=("generated", name[:8]) if i % 2 else (),
            )
        )
    return tuple(campaigns)


def _sends(campaigns: tuple[Campaign, ...], count: int) -> tuple[Send, ...]:
    """`count` sends, spread over the API campaigns that have sent, a day apart."""
    senders: list[tuple[str, datetime]] = []
    for campaign in campaigns:
        if campaign.api_campaign and campaign.first_sent is not None:
            senders.append((campaign.id, campaign.first_sent))
    sends = []
    for i in range(count if senders else 0):
        campaign_id, first = senders[i % len(senders)]
        sends.append(Send(campaign_id, f"send-{i:04d}", first + i * _DAY))
    return tuple(sends)


def _canvases(count: int, since: datetime, control_characters: bool) -> tuple[Canvas, ...]:
    """Every 4th archived, every 5th never entered, every 3rd ended; 1–3 variants, 2–4 steps."""
    names = awkward_names("Canvas", count, control_characters=control_characters)
    canvases = []
    for i, name in enumerate(names):
        cid = _id("cnv", i, control_characters)
        step_ids = [f"{cid}-s{n}" for n in range(2 + i % 3)]
        steps = tuple(
            CanvasStep(
                sid,
                f"Step {n} {name}",
                CHANNEL_SETS[(i + n) % len(CHANNEL_SETS)],
                tuple(step_ids[n + 1 : n + 2]),
            )
            for n, sid in enumerate(step_ids)
        )
        first = None if i % 5 == 4 else since + (i % 100) * _DAY
        canvases.append(
            Canvas(
                cid,
                name,
                variants=tuple(
                    CanvasVariant(f"{cid}-v{n}", f"Variant {n}", (step_ids[0],))
                    for n in range(1 + i % 3)
                ),
                steps=steps,
                archived=i % 4 == 3,
                enabled=i % 4 != 3,
                first_entry=first,
                last_entry=first + 60 * _DAY if first is not None and i % 3 == 2 else None,
                created_at=since + timedelta(hours=i),
                tags=("generated",) if i % 2 else (),
            )
        )
    return tuple(canvases)


def family_workspace(
    workspace_id: str = "ws",
    *,
    timezone: str = "UTC",
    apps: tuple[str, ...] = ("app-ios", "app-android"),
    events: int = 300,
    products: int = 260,
    segments: int = 30,
    campaigns: int = 130,
    sends: int = 5,
    canvases: int = 12,
    control_characters: bool = False,
    history_start: datetime | None = None,
    since: datetime = DEFAULT_SINCE,
) -> Workspace:
    """A workspace with a large, awkward family catalogue (see the module docstring).

    Defaults give two pages of events (250 a page), two of products, two of campaigns (100 a
    page); some segments untracked; archived, ended and never-sent campaigns and Canvases.
    `events=10_000` gives a 10,000-entry list. Dates start at `since`.
    """
    built = _campaigns(campaigns, since, control_characters)
    return Workspace(
        workspace_id,
        timezone=timezone,
        apps=apps,
        segments=_segments(segments, since, control_characters),
        history_start=history_start,
        events=awkward_names("", events, control_characters=control_characters),
        products=awkward_names("Product", products, control_characters=control_characters),
        campaigns=built,
        canvases=_canvases(canvases, since, control_characters),
        sends=_sends(built, sends),
    )
