"""The simulator's configuration: plain frozen data, validated on construction.

Every behaviour the Braze docs leave open ([UNK]/[INF] in braze-api.md §9–10) is a switch here,
so tests can pin each reading. Invalid values raise `ValueError` with a message naming the field.

What the list endpoints serve is readable here too: `Workspace.event_names` and
`Workspace.product_names` are the names in page order; segments, campaigns (by creation, that
is config order) and Canvases are the workspace's tuples, filtered as §10.2 says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collector.simulator.catalogue import (
    DEFAULT_CAMPAIGNS,
    DEFAULT_CANVASES,
    DEFAULT_EVENTS,
    DEFAULT_PRODUCTS,
    DEFAULT_SENDS,
    Campaign,
    Canvas,
    Send,
)
from collector.simulator.checks import (
    require_aware,
    require_choice,
    require_probability,
    require_unique,
)

Alignment = Literal["exclusive", "inclusive", "floor_exclusive"]
HourTimeFormat = Literal["offset", "z", "naive", "fractional"]
NaiveEndingAt = Literal["workspace", "utc"]
UnknownApp = Literal["error", "zeros"]
UntrackedSegment = Literal["zeros", "error"]
LatencyDistribution = Literal["constant", "exponential"]
Pool = Literal["default", "campaigns", "export-lists", "purchases"]
PurchasesPool = Literal["export-lists", "purchases", "default"]
RevenueFormat = Literal["decimal", "int"]
ListBehaviour = Literal["normal", "repeat_forever", "shrinking", "repeating"]
QuietDays = Literal["zeros", "omit"]
NeverSentDates = Literal["null", "absent"]
CanvasLongRange = Literal["error", "allow"]

DEFAULT_KEY = "sim-key"
# Every permission the simulator's endpoints check (braze-api.md §2, §3, §10.2).
ALL_PERMISSIONS = frozenset(
    {
        "sessions.data_series",
        "kpi.dau.data_series",
        "kpi.mau.data_series",
        "kpi.new_users.data_series",
        "kpi.uninstalls.data_series",
        "events.data_series",
        "events.list",
        "purchases.quantity_series",
        "purchases.revenue_series",
        "purchases.product_list",
        "segments.data_series",
        "segments.list",
        "campaigns.data_series",
        "campaigns.list",
        "campaigns.details",
        "sends.data_series",
        "canvas.data_series",
        "canvas.list",
        "canvas.details",
    }
)
DEFAULT_RATE_LIMIT = 250_000
DEFAULT_RATE_WINDOW_S = 3600
DEFAULT_SETTLE_PERIOD_S = 48 * 3600.0
DEFAULT_CONVERSION_SETTLE_S = 14 * 86_400.0
DEFAULT_SEND_RETENTION_DAYS = 14
DEFAULT_PRODUCT_PAGE_SIZE = 250
DEFAULT_HANG_SECONDS = 600.0

# The six error kinds `Faults.uniform` spreads a rate over (hang and latency are not errors).
ERROR_FAULT_FIELDS = (
    "error_500",
    "error_502_html",
    "error_503",
    "error_504_empty",
    "drop_connection",
    "truncated_json",
)

_SWITCH_CHOICES: dict[str, Any] = {
    "alignment": Alignment,
    "hour_time_format": HourTimeFormat,
    "naive_ending_at": NaiveEndingAt,
    "unknown_app": UnknownApp,
    "untracked_segment": UntrackedSegment,
    "purchases_pool": PurchasesPool,
    "revenue_format": RevenueFormat,
    "list_behaviour": ListBehaviour,
    "inactive_days": QuietDays,
    "expired_send_days": QuietDays,
    "never_sent_dates": NeverSentDates,
    "canvas_long_range": CanvasLongRange,
}


@dataclass(frozen=True)
class PoolLimit:
    """A rate-limit pool's budget: `limit` requests per fixed window of `window_s` seconds."""

    pool: Pool
    limit: int
    window_s: int

    def __post_init__(self) -> None:
        require_choice(self.pool, Pool, "pool_limits pool")
        if self.limit < 1 or self.window_s < 1:
            raise ValueError(f"pool_limits {self.pool}: limit and window_s must be at least 1")


# The documented budgets of the pools other than `default` (braze-api.md §10.4).
DEFAULT_POOL_LIMITS = (
    PoolLimit("campaigns", 50_000, 60),
    PoolLimit("export-lists", 1_000, 3600),
    PoolLimit("purchases", 1_000, 3600),
)


@dataclass(frozen=True)
class Segment:
    """A segment of a workspace; only tracked segments have data, and only from `tracking_since`."""

    id: str
    analytics_tracking: bool = True
    tracking_since: datetime | None = None
    name: str = ""  # as `/segments/list` shows it; empty: the id
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        require_aware(self.tracking_since, f"segment {self.id!r} tracking_since")


@dataclass(frozen=True)
class Workspace:
    """A Braze workspace: its time zone, apps, segments, family catalogue, and data history.

    `segments`, `campaigns` and `canvases` are in creation order, the order their lists page in.
    """

    id: str = "ws"
    timezone: str = "UTC"
    active: bool = True
    apps: tuple[str, ...] = ("app-ios", "app-android")
    segments: tuple[Segment, ...] = ()
    history_start: datetime | None = None
    events: tuple[str, ...] = DEFAULT_EVENTS
    products: tuple[str, ...] = DEFAULT_PRODUCTS
    campaigns: tuple[Campaign, ...] = DEFAULT_CAMPAIGNS
    canvases: tuple[Canvas, ...] = DEFAULT_CANVASES
    sends: tuple[Send, ...] = DEFAULT_SENDS

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"workspace {self.id!r}: unknown time zone {self.timezone!r}; "
                "use an IANA name such as 'UTC' or 'America/New_York'"
            ) from exc
        where = f"in workspace {self.id!r}"
        require_unique(self.apps, f"app ids {where}")
        require_unique([s.id for s in self.segments], f"segment ids {where}")
        require_aware(self.history_start, f"workspace {self.id!r} history_start")
        require_unique(self.events, f"event names {where}")
        require_unique(self.products, f"product names {where}")
        require_unique([c.id for c in self.campaigns], f"campaign ids {where}")
        require_unique([c.id for c in self.canvases], f"canvas ids {where}")
        require_unique([(s.campaign_id, s.send_id) for s in self.sends], f"sends {where}")
        for send in self.sends:
            campaign = self.campaign(send.campaign_id)
            if campaign is None or not campaign.api_campaign:
                raise ValueError(
                    f"send {send.send_id!r} {where} needs an API campaign; "
                    f"{send.campaign_id!r} is {'not one' if campaign else 'not configured'}"
                )

    @cached_property
    def event_names(self) -> tuple[str, ...]:
        """The event names in `/events/list` order: by code point."""
        return tuple(sorted(self.events))

    @cached_property
    def product_names(self) -> tuple[str, ...]:
        """The product names in `/purchases/product_list` order: by code point."""
        return tuple(sorted(self.products))

    @cached_property
    def _event_set(self) -> frozenset[str]:
        return frozenset(self.events)

    @cached_property
    def _product_set(self) -> frozenset[str]:
        return frozenset(self.products)

    @cached_property
    def _segments(self) -> dict[str, Segment]:
        return {s.id: s for s in self.segments}

    @cached_property
    def _campaigns(self) -> dict[str, Campaign]:
        return {c.id: c for c in self.campaigns}

    @cached_property
    def _canvases(self) -> dict[str, Canvas]:
        return {c.id: c for c in self.canvases}

    @cached_property
    def _sends(self) -> dict[tuple[str, str], Send]:
        return {(s.campaign_id, s.send_id): s for s in self.sends}

    def has_event(self, name: str) -> bool:
        """Whether `name` is an event of the workspace."""
        return name in self._event_set

    def has_product(self, name: str) -> bool:
        """Whether `name` is a product of the workspace."""
        return name in self._product_set

    def segment(self, segment_id: str) -> Segment | None:
        """The segment with this id, if any."""
        return self._segments.get(segment_id)

    def campaign(self, campaign_id: str) -> Campaign | None:
        """The campaign with this id, if any."""
        return self._campaigns.get(campaign_id)

    def canvas(self, canvas_id: str) -> Canvas | None:
        """The Canvas with this id, if any."""
        return self._canvases.get(canvas_id)

    def send(self, campaign_id: str, send_id: str) -> Send | None:
        """The send `send_id` of campaign `campaign_id`, if configured."""
        return self._sends.get((campaign_id, send_id))


@dataclass(frozen=True)
class ApiKey:
    """A REST API key: the workspace it belongs to and the endpoint permissions it carries."""

    key: str
    workspace: str = "ws"
    permissions: frozenset[str] = ALL_PERMISSIONS


@dataclass(frozen=True)
class Faults:
    """Injected failures and latency; each probability is per request, drawn in arrival order."""

    seed: int = 0
    error_500: float = 0.0
    error_502_html: float = 0.0
    error_503: float = 0.0
    error_504_empty: float = 0.0
    drop_connection: float = 0.0
    truncated_json: float = 0.0
    hang: float = 0.0
    hang_seconds: float = DEFAULT_HANG_SECONDS
    latency_ms: float = 0.0
    latency_distribution: LatencyDistribution = "constant"

    def __post_init__(self) -> None:
        for name in (*ERROR_FAULT_FIELDS, "hang"):
            require_probability(getattr(self, name), f"faults.{name}")
        if self.hang_seconds < 0 or self.latency_ms < 0:
            raise ValueError("faults.hang_seconds and faults.latency_ms must not be negative")
        require_choice(
            self.latency_distribution, LatencyDistribution, "faults.latency_distribution"
        )

    @classmethod
    def uniform(cls, rate: float, seed: int = 0, **kw: Any) -> Faults:
        """Spread `rate` evenly over the six error kinds (500, 502, 503, 504, drop, truncated)."""
        require_probability(rate, "fault rate")
        shares: dict[str, Any] = dict.fromkeys(ERROR_FAULT_FIELDS, rate / len(ERROR_FAULT_FIELDS))
        return cls(seed=seed, **shares, **kw)


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything the simulator serves: workspaces, keys, limits, and the switches of §9–10.

    `rate_limit`/`rate_window_s` budget the `default` pool; `pool_limits` overrides the others
    (`campaigns`, `export-lists`, `purchases`), which otherwise keep `DEFAULT_POOL_LIMITS`.
    """

    workspaces: tuple[Workspace, ...] = (Workspace(),)
    keys: tuple[ApiKey, ...] = (ApiKey(DEFAULT_KEY),)
    seed: int = 0
    rate_limit: int = DEFAULT_RATE_LIMIT
    rate_window_s: int = DEFAULT_RATE_WINDOW_S
    pool_limits: tuple[PoolLimit, ...] = ()
    # Where /purchases/*_series count (§10.4 conflict): shared with the lists, their own
    # 1,000/h pool, or the default pool.
    purchases_pool: PurchasesPool = "export-lists"
    alignment: Alignment = "exclusive"
    hour_time_format: HourTimeFormat = "offset"
    naive_ending_at: NaiveEndingAt = "workspace"
    unknown_app: UnknownApp = "error"
    untracked_segment: UntrackedSegment = "zeros"
    late_data: bool = False
    settle_period_s: float = DEFAULT_SETTLE_PERIOD_S
    # Campaign, send and Canvas conversions (and revenue) keep growing after their day.
    late_conversions: bool = True
    conversion_settle_s: float = DEFAULT_CONVERSION_SETTLE_S
    omit_future: bool = False
    # `/purchases/revenue_series`: a decimal amount (12.0, 17.05) or the docs' int (whole units).
    revenue_format: RevenueFormat = "decimal"
    # Campaign and Canvas days outside their life (first..last sent or entry): zeros or omitted.
    inactive_days: QuietDays = "zeros"
    # Send days outside the `send_retention_days` kept from the day of the send.
    expired_send_days: QuietDays = "zeros"
    send_retention_days: int = DEFAULT_SEND_RETENTION_DAYS
    # `first_sent`/`last_sent` (`first_entry`/`last_entry`) of what never sent: null or absent.
    never_sent_dates: NeverSentDates = "null"
    # `/canvas/data_series` with a `starting_at` more than 14 days back: 400, or served.
    canvas_long_range: CanvasLongRange = "error"
    product_page_size: int = DEFAULT_PRODUCT_PAGE_SIZE
    list_behaviour: ListBehaviour = "normal"
    emit_retry_after: bool = False
    emit_x_ratelimit_retry_after: bool = False
    omit_ratelimit_headers_probability: float = 0.0
    legacy_api_key_param: bool = True
    faults: Faults = Faults()

    def __post_init__(self) -> None:
        if not self.workspaces:
            raise ValueError("at least one workspace is required")
        require_unique([w.id for w in self.workspaces], "workspace ids")
        require_unique([k.key for k in self.keys], "API keys")
        known = {w.id for w in self.workspaces}
        for key in self.keys:
            if key.workspace not in known:
                raise ValueError(
                    f"API key {key.key!r} names workspace {key.workspace!r}, which is not "
                    f"configured (known: {', '.join(sorted(known))})"
                )
        if self.rate_limit < 1 or self.rate_window_s < 1:
            raise ValueError("rate_limit and rate_window_s must be at least 1")
        require_unique([p.pool for p in self.pool_limits], "pool_limits pools")
        if any(p.pool == "default" for p in self.pool_limits):
            raise ValueError("pool_limits: the default pool is set by rate_limit/rate_window_s")
        for name in ("settle_period_s", "conversion_settle_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in ("send_retention_days", "product_page_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        require_probability(
            self.omit_ratelimit_headers_probability, "omit_ratelimit_headers_probability"
        )
        for name, choices in _SWITCH_CHOICES.items():
            require_choice(getattr(self, name), choices, name)

    def pool_limit(self, pool: Pool) -> PoolLimit:
        """The budget of `pool`: configured, or the documented default."""
        if pool == "default":
            return PoolLimit("default", self.rate_limit, self.rate_window_s)
        overrides = {p.pool: p for p in (*DEFAULT_POOL_LIMITS, *self.pool_limits)}
        return overrides[pool]

    def workspace(self, workspace_id: str) -> Workspace:
        """The workspace called `workspace_id`; `ValueError` naming the known ones otherwise."""
        for ws in self.workspaces:
            if ws.id == workspace_id:
                return ws
        known = ", ".join(w.id for w in self.workspaces)
        raise ValueError(f"no workspace {workspace_id!r} (known: {known})")
