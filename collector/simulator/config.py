"""The simulator's configuration: plain frozen data, validated on construction.

Every behaviour the Braze docs leave open ([UNK]/[INF] in braze-api.md §9) is a switch here, so
tests can pin each reading. Invalid values raise `ValueError` with a message naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Alignment = Literal["exclusive", "inclusive", "floor_exclusive"]
HourTimeFormat = Literal["offset", "z", "naive", "fractional"]
NaiveEndingAt = Literal["workspace", "utc"]
UnknownApp = Literal["error", "zeros"]
UntrackedSegment = Literal["zeros", "error"]
LatencyDistribution = Literal["constant", "exponential"]

DEFAULT_KEY = "sim-key"
DEFAULT_PERMISSION = "sessions.data_series"
DEFAULT_RATE_LIMIT = 250_000
DEFAULT_RATE_WINDOW_S = 3600
DEFAULT_SETTLE_PERIOD_S = 48 * 3600.0
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
}


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def _require_probability(value: float, name: str) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")


def _require_choice(value: str, choices: Any, name: str) -> None:
    allowed = get_args(choices)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def _require_unique(ids: list[str], what: str) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate {what}: {', '.join(duplicates)}")


@dataclass(frozen=True)
class Segment:
    """A segment of a workspace; only tracked segments have data, and only from `tracking_since`."""

    id: str
    analytics_tracking: bool = True
    tracking_since: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self.tracking_since, f"segment {self.id!r} tracking_since")


@dataclass(frozen=True)
class Workspace:
    """A Braze workspace: its time zone, apps, segments and how far back its data goes."""

    id: str = "ws"
    timezone: str = "UTC"
    active: bool = True
    apps: tuple[str, ...] = ("app-ios", "app-android")
    segments: tuple[Segment, ...] = ()
    history_start: datetime | None = None

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"workspace {self.id!r}: unknown time zone {self.timezone!r}; "
                "use an IANA name such as 'UTC' or 'America/New_York'"
            ) from exc
        _require_unique(list(self.apps), f"app ids in workspace {self.id!r}")
        _require_unique([s.id for s in self.segments], f"segment ids in workspace {self.id!r}")
        _require_aware(self.history_start, f"workspace {self.id!r} history_start")


@dataclass(frozen=True)
class ApiKey:
    """A REST API key: the workspace it belongs to and the endpoint permissions it carries."""

    key: str
    workspace: str = "ws"
    permissions: frozenset[str] = frozenset({DEFAULT_PERMISSION})


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
            _require_probability(getattr(self, name), f"faults.{name}")
        if self.hang_seconds < 0 or self.latency_ms < 0:
            raise ValueError("faults.hang_seconds and faults.latency_ms must not be negative")
        _require_choice(
            self.latency_distribution, LatencyDistribution, "faults.latency_distribution"
        )

    @classmethod
    def uniform(cls, rate: float, seed: int = 0, **kw: Any) -> Faults:
        """Spread `rate` evenly over the six error kinds (500, 502, 503, 504, drop, truncated)."""
        _require_probability(rate, "fault rate")
        shares: dict[str, Any] = dict.fromkeys(ERROR_FAULT_FIELDS, rate / len(ERROR_FAULT_FIELDS))
        return cls(seed=seed, **shares, **kw)


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything the simulator serves: workspaces, keys, limits, and the switches of §9."""

    workspaces: tuple[Workspace, ...] = (Workspace(),)
    keys: tuple[ApiKey, ...] = (ApiKey(DEFAULT_KEY),)
    seed: int = 0
    rate_limit: int = DEFAULT_RATE_LIMIT
    rate_window_s: int = DEFAULT_RATE_WINDOW_S
    alignment: Alignment = "exclusive"
    hour_time_format: HourTimeFormat = "offset"
    naive_ending_at: NaiveEndingAt = "workspace"
    unknown_app: UnknownApp = "error"
    untracked_segment: UntrackedSegment = "zeros"
    late_data: bool = False
    settle_period_s: float = DEFAULT_SETTLE_PERIOD_S
    omit_future: bool = False
    emit_retry_after: bool = False
    emit_x_ratelimit_retry_after: bool = False
    omit_ratelimit_headers_probability: float = 0.0
    legacy_api_key_param: bool = True
    faults: Faults = Faults()

    def __post_init__(self) -> None:
        if not self.workspaces:
            raise ValueError("at least one workspace is required")
        _require_unique([w.id for w in self.workspaces], "workspace ids")
        _require_unique([k.key for k in self.keys], "API keys")
        known = {w.id for w in self.workspaces}
        for key in self.keys:
            if key.workspace not in known:
                raise ValueError(
                    f"API key {key.key!r} names workspace {key.workspace!r}, which is not "
                    f"configured (known: {', '.join(sorted(known))})"
                )
        if self.rate_limit < 1 or self.rate_window_s < 1:
            raise ValueError("rate_limit and rate_window_s must be at least 1")
        if self.settle_period_s < 0:
            raise ValueError("settle_period_s must not be negative")
        _require_probability(
            self.omit_ratelimit_headers_probability, "omit_ratelimit_headers_probability"
        )
        for name, choices in _SWITCH_CHOICES.items():
            _require_choice(getattr(self, name), choices, name)

    def workspace(self, workspace_id: str) -> Workspace:
        """The workspace called `workspace_id`; `ValueError` naming the known ones otherwise."""
        for ws in self.workspaces:
            if ws.id == workspace_id:
                return ws
        known = ", ".join(w.id for w in self.workspaces)
        raise ValueError(f"no workspace {workspace_id!r} (known: {known})")
