"""A workspace's family catalogue: campaigns, their sends, and Canvases, as frozen config data.

Events and products are plain names on `Workspace`; these types carry what the list, details and
stats endpoints serve (braze-api.md §10). Ids and names are free text — quotes, control
characters and non-ASCII included — and are served byte for byte. Dates are timezone-aware.

The defaults below are the small catalogue every default `Workspace()` serves, so
`collector simulate` answers each endpoint out of the box; `presets.family_workspace` builds a
large, awkward one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from collector.simulator.checks import require_aware, require_order, require_unique

DEFAULT_CREATED = datetime(2023, 1, 2, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Variant:
    """A message variation of a campaign: its API id and dashboard name."""

    id: str
    name: str


@dataclass(frozen=True)
class Campaign:
    """A campaign: channels, variants and optional control group, its send life, its metadata.

    Days before the day of `first_sent` or after the day of `last_sent` (workspace zone) have no
    activity; `first_sent=None` is a campaign that never sent, `last_sent=None` one still sending.
    """

    id: str
    name: str = ""
    channels: tuple[str, ...] = ("email",)
    variants: tuple[Variant, ...] = (Variant("variant-1", "Variant 1"),)
    control_id: str | None = None  # the Control Group's variation_api_id; None: no control group
    archived: bool = False
    draft: bool = False
    api_campaign: bool = False
    first_sent: datetime | None = None
    last_sent: datetime | None = None
    created_at: datetime = DEFAULT_CREATED
    last_edited: datetime | None = None  # None: never edited since `created_at`
    tags: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        where = f"campaign {self.id!r}"
        for name in ("first_sent", "last_sent", "created_at", "last_edited"):
            require_aware(getattr(self, name), f"{where} {name}")
        require_order(self.first_sent, self.last_sent, f"{where} first_sent/last_sent")
        if not self.channels or not self.variants:
            raise ValueError(f"{where} needs at least one channel and one variant")
        require_unique(self.channels, f"channels in {where}")
        require_unique(
            [v.id for v in self.variants] + [self.control_id] * (self.control_id is not None),
            f"variant ids in {where}",
        )

    @property
    def edited(self) -> datetime:
        """When the campaign was last edited (its creation if never)."""
        return self.last_edited or self.created_at


@dataclass(frozen=True)
class Send:
    """A send of an API campaign (`/sends/id/create`): analytics are kept for days after it."""

    campaign_id: str
    send_id: str
    sent_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.sent_at, f"send {self.send_id!r} sent_at")


@dataclass(frozen=True)
class CanvasStep:
    """A Canvas step: the channels it messages on and the steps that follow it."""

    id: str
    name: str
    channels: tuple[str, ...] = ("email",)
    next_step_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CanvasVariant:
    """A Canvas variant and the steps users enter it through."""

    id: str
    name: str
    first_step_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Canvas:
    """A Canvas: variants and steps, its entry life (`first_entry`/`last_entry`), its metadata."""

    id: str
    name: str = ""
    variants: tuple[CanvasVariant, ...] = (CanvasVariant("variant-1", "Variant 1", ("step-1",)),)
    steps: tuple[CanvasStep, ...] = (CanvasStep("step-1", "Step 1"),)
    archived: bool = False
    draft: bool = False
    enabled: bool = True
    first_entry: datetime | None = None
    last_entry: datetime | None = None
    created_at: datetime = DEFAULT_CREATED
    last_edited: datetime | None = None
    tags: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        where = f"canvas {self.id!r}"
        for name in ("first_entry", "last_entry", "created_at", "last_edited"):
            require_aware(getattr(self, name), f"{where} {name}")
        require_order(self.first_entry, self.last_entry, f"{where} first_entry/last_entry")
        if not self.variants:
            raise ValueError(f"{where} needs at least one variant")
        require_unique([v.id for v in self.variants], f"variant ids in {where}")
        require_unique([s.id for s in self.steps], f"step ids in {where}")
        known = {s.id for s in self.steps}
        linked = [i for v in self.variants for i in v.first_step_ids]
        linked += [i for s in self.steps for i in s.next_step_ids]
        unknown = sorted(set(linked) - known)
        if unknown:
            raise ValueError(f"{where} links to unknown steps: {', '.join(map(repr, unknown))}")

    @property
    def edited(self) -> datetime:
        """When the Canvas was last edited (its creation if never)."""
        return self.last_edited or self.created_at

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels of its steps, in step order, each once."""
        return tuple(dict.fromkeys(c for s in self.steps for c in s.channels))


DEFAULT_EVENTS = (
    "added_to_cart",
    "level_complete",
    "Café \"deal\" & 50% = 5€/日本 🎉 #1? a+b 'ok'",
)
DEFAULT_PRODUCTS = ("gem_pack_100", "premium_monthly")
DEFAULT_CAMPAIGNS = (
    Campaign(
        "cmp-welcome",
        "Welcome series",
        channels=("email", "ios_push"),
        variants=(Variant("cmp-welcome-a", "Variant A"), Variant("cmp-welcome-b", "Variant B")),
        control_id="cmp-welcome-control",
        first_sent=datetime(2023, 6, 1, 14, tzinfo=UTC),
        tags=("onboarding",),
    ),
    Campaign(
        "cmp-receipts",
        "Receipts (API)",
        api_campaign=True,
        first_sent=datetime(2023, 3, 1, 8, tzinfo=UTC),
        tags=("transactional",),
    ),
    Campaign(
        "cmp-spring-sale",
        "Spring sale",
        channels=("android_push", "sms"),
        archived=True,
        first_sent=datetime(2023, 3, 20, 9, tzinfo=UTC),
        last_sent=datetime(2023, 4, 30, 18, tzinfo=UTC),
        last_edited=datetime(2023, 5, 2, 11, 4, 5, tzinfo=UTC),
    ),
    Campaign("cmp-draft", "Draft SMS", channels=("sms",), draft=True),
)
DEFAULT_SENDS = (Send("cmp-receipts", "send-0001", datetime(2024, 2, 25, 10, tzinfo=UTC)),)
DEFAULT_CANVASES = (
    Canvas(
        "cnv-onboarding",
        "Onboarding journey",
        variants=(
            CanvasVariant("cnv-onboarding-v1", "Variant 1", ("step-welcome",)),
            CanvasVariant("cnv-onboarding-v2", "Variant 2", ("step-welcome",)),
        ),
        steps=(
            CanvasStep("step-welcome", "Welcome", ("email",), ("step-nudge",)),
            CanvasStep("step-nudge", "Nudge", ("ios_push", "android_push")),
        ),
        first_entry=datetime(2023, 5, 1, tzinfo=UTC),
    ),
    Canvas(
        "cnv-winback",
        "Win-back",
        archived=True,
        enabled=False,
        first_entry=datetime(2023, 1, 10, tzinfo=UTC),
        last_entry=datetime(2023, 10, 1, tzinfo=UTC),
    ),
)
