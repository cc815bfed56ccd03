"""Job settings: a TOML file under config/, `COLLECTOR_*` environment variables, and flags, in
rising order of precedence, validated by pydantic into one frozen `Job`. Every failure is a ConfigError that
names the flag or field and says how to fix it; nothing here does I/O beyond reading the file.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from collector.budget.local import Rate
from collector.cooperate.leases import DEFAULT_LEASE_S
from collector.core.models import DEFAULT_WORKSPACE
from collector.core.streams import DIMENSION_FLAGS, POOL_RATES, STREAMS, Stream
from collector.core.units import Calendar, Unit, parse_iso
from collector.errors import ConfigError
from collector.http.endpoint import DEFAULT_TIMEOUT_S, check_endpoint
from collector.http.retry import DEFAULT_MAX_RETRIES, RetryPolicy
from collector.store import DEFAULT_PG_SCHEMA, display
from collector.work.scheduler import DEFAULT_CONCURRENCY

ENV_API_KEY = "BRAZE_API_KEY"
ENV_ENDPOINT = "BRAZE_REST_ENDPOINT"
ENV_PREFIX = "COLLECTOR_"
_LIST_FIELDS = (
    "stream",
    "app_id",
    "segment_id",
    "event",
    "product",
    "campaign_id",
    "canvas_id",
    "send_id",
    "rate_limit",
)
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")
DEFAULT_DB = "collector.db"
DEFAULT_DISCOVERY_TTL = "24h"
ENV_DB = ENV_PREFIX + "DB"
ENV_PG_SCHEMA = ENV_PREFIX + "PG_SCHEMA"
Command = Literal["backfill", "sync", "plan"]


class Settings(BaseModel):
    """One field per flag; the same names (with underscores) in a TOML job file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str | None = None
    end: str | None = None
    unit: Unit = Unit.DAY
    stream: list[str] = Field(default_factory=lambda: ["sessions"])
    app_id: list[str] = Field(default_factory=lambda: [""])
    segment_id: list[str] = Field(default_factory=lambda: [""])
    event: list[str] = Field(default_factory=list)
    product: list[str] = Field(default_factory=lambda: [""])
    campaign_id: list[str] = Field(default_factory=list)
    canvas_id: list[str] = Field(default_factory=list)
    send_id: list[str] = Field(default_factory=list)
    workspace: str = Field(DEFAULT_WORKSPACE, min_length=1, max_length=200)
    key_rotated: bool = False
    discovery_ttl: str = DEFAULT_DISCOVERY_TTL
    lease: float = Field(DEFAULT_LEASE_S, ge=3, le=600)
    endpoint: str | None = None
    db: str = DEFAULT_DB
    pg_schema: str = Field(DEFAULT_PG_SCHEMA, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    timezone: str = "UTC"
    concurrency: int = Field(DEFAULT_CONCURRENCY, ge=1, le=256)
    rate_limit: list[str] = Field(default_factory=list)
    max_retries: int = Field(DEFAULT_MAX_RETRIES, ge=0, le=100)
    timeout: float = Field(DEFAULT_TIMEOUT_S, gt=0, le=3600)
    lookback: int | None = Field(None, ge=1, le=10_000)
    api_key_file: Path | None = None
    progress: bool = True
    log_format: Literal["text", "json"] = "text"
    verbose: int = Field(0, ge=0, le=3)
    quiet: bool = False
    max_requests: int | None = Field(None, ge=1)
    deadline: str | None = None

    @field_validator("app_id", "segment_id")
    @classmethod
    def _distinct_or_all(cls, ids: list[str]) -> list[str]:
        return list(dict.fromkeys(i.strip() for i in ids)) or [""]

    @field_validator("product")
    @classmethod
    def _products(cls, names: list[str]) -> list[str]:
        return list(dict.fromkeys(names)) or [""]  # free text: kept exactly

    @field_validator("stream", "campaign_id", "canvas_id", "send_id")
    @classmethod
    def _distinct(cls, ids: list[str]) -> list[str]:
        return list(dict.fromkeys(i.strip() for i in ids))

    @field_validator("event")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        return list(dict.fromkeys(names))  # free text: kept exactly, spaces included

    @field_validator("rate_limit", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("db", mode="before")
    @classmethod
    def _location(cls, value: object) -> object:
        return str(value) if isinstance(value, Path) else value


def load_file(path: Path) -> dict[str, Any]:
    """A TOML job file as a dict, or a ConfigError saying what is wrong with it."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist: check --config") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not UTF-8 text (byte {exc.start}): save it as UTF-8"
        ) from exc


def env_values(env: Mapping[str, str]) -> dict[str, Any]:
    """`COLLECTOR_<FIELD>` variables as settings; lists are comma-separated (`,ios` = total + ios)."""
    out: dict[str, Any] = {}
    for name in Settings.model_fields:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            out[name] = raw.split(",") if name in _LIST_FIELDS else raw
    return out


def settings_from(
    file_values: Mapping[str, Any],
    flags: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    source: str = "",
) -> Settings:
    """Defaults < file < COLLECTOR_* environment < flags that were given (not None)."""
    from_env = env_values(os.environ if env is None else env)
    given = {k: v for k, v in flags.items() if v is not None}
    merged = {**file_values, **from_env, **given}
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            flag = "--" + name.replace("_", "-")
            where = (
                f" (from ${ENV_PREFIX}{name.upper()})"
                if name in from_env and name not in given
                else f" (in {source})"
                if source and name in file_values and name not in given
                else ""
            )
            if err["type"] == "extra_forbidden":
                lines.append(
                    f"unknown setting {name!r}{where}: remove it (see config/example.toml)"
                )
            else:
                lines.append(f"{flag}{where}: {err['msg']} (got {err.get('input')!r:.60})")
        raise ConfigError("; ".join(lines)) from exc


@dataclass(frozen=True)
class Job:
    """Everything a run needs, validated. `selectors` holds, per dimension, the values asked
    for (`'*'` still unexpanded: discovery expands it against the workspace's lists)."""

    command: Command
    streams: tuple[Stream, ...]
    selectors: Mapping[str, tuple[str, ...]]
    calendar: Calendar
    unit: Unit
    start: int | None  # bucket ordinal, inclusive
    end: int  # bucket ordinal, exclusive
    lookback: int | None  # None: each stream's own default
    db: str
    workspace: str
    base_url: str | None
    api_key: SecretStr | None
    concurrency: int
    rates: Mapping[str, Rate]  # per rate-limit pool
    retry: RetryPolicy
    timeout_s: float
    discovery_ttl_s: float = 24 * 3600.0
    lease_s: float = DEFAULT_LEASE_S
    key_rotated: bool = False
    max_requests: int | None = None
    deadline_s: float | None = None
    pg_schema: str = DEFAULT_PG_SCHEMA

    def __repr__(self) -> str:
        names = ",".join(s.name for s in self.streams)
        return f"Job({self.command}, streams={names}, db={self.db!r})"

    @property
    def rate(self) -> Rate:
        """The default pool's rate."""
        return self.rates["default"]

    def lookback_of(self, stream: Stream) -> int:
        return self.lookback if self.lookback is not None else stream.lookback(self.unit)


def build_job(
    command: Command,
    settings: Settings,
    *,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    need_key: bool = True,
) -> Job:
    """Validate settings into a Job: streams, dates, zone, rates, endpoint and key, before any I/O."""
    env = os.environ if env is None else env
    now = now or datetime.now(UTC)
    streams = _streams(settings)
    selectors = _selectors(settings, streams)
    calendar = Calendar(settings.timezone)
    unit = settings.unit
    current = calendar.current(unit, now)
    end = current if settings.end is None else _bucket("--end", settings.end, calendar, unit)
    if end > current:
        raise ConfigError(
            f"--end {settings.end} is after the last complete {unit} "
            f"(which ends at {calendar.key(unit, current)}): the current {unit} is still "
            "partial; omit --end to stop there"
        )
    start = None if settings.start is None else _bucket("--start", settings.start, calendar, unit)
    if command != "sync" and start is None:
        raise ConfigError(f"--start is required for {command}: e.g. --start 2024-01-01")
    if start is not None and start >= end:
        raise ConfigError(
            f"--start {settings.start} is not before --end ({calendar.key(unit, end)}): "
            "the range is half-open [start, end), so start must be earlier"
        )
    endpoint_url = settings.endpoint or env.get(ENV_ENDPOINT) or None
    if command != "plan" and endpoint_url is None:
        raise ConfigError(
            f"no REST endpoint: pass --endpoint, set {ENV_ENDPOINT}, or set endpoint in the "
            "config file (e.g. https://rest.iad-01.braze.com)"
        )
    base_url = check_endpoint(endpoint_url) if endpoint_url else None
    api_key = _api_key(settings, env, streams) if need_key and command != "plan" else None
    return Job(
        command=command,
        streams=streams,
        selectors=selectors,
        calendar=calendar,
        unit=unit,
        start=start,
        end=end,
        lookback=settings.lookback,
        db=settings.db,
        pg_schema=settings.pg_schema,
        workspace=settings.workspace,
        base_url=base_url,
        api_key=api_key,
        concurrency=settings.concurrency,
        rates=parse_rates(settings.rate_limit),
        retry=RetryPolicy(max_retries=settings.max_retries),
        timeout_s=settings.timeout,
        discovery_ttl_s=parse_duration(settings.discovery_ttl, flag="--discovery-ttl"),
        lease_s=settings.lease,
        key_rotated=settings.key_rotated,
        max_requests=settings.max_requests,
        deadline_s=None if settings.deadline is None else parse_duration(settings.deadline),
    )


def streams_named(names: list[str]) -> tuple[Stream, ...]:
    """The streams `--stream` names (default: sessions), each once; else a ConfigError."""
    unknown = [n for n in names if n not in STREAMS]
    if unknown:
        raise ConfigError(
            f"--stream {unknown[0]!r} does not exist: choose from {', '.join(STREAMS)}"
        )
    return tuple(STREAMS[n] for n in dict.fromkeys(names or ["sessions"]))


def _streams(settings: Settings) -> tuple[Stream, ...]:
    streams = streams_named(settings.stream)
    for stream in streams:
        if settings.unit not in stream.units:
            offered = " or ".join(sorted(u.value for u in stream.units))
            raise ConfigError(
                f"--stream {stream.name} is daily only ({stream.path} accepts unit {offered}): "
                f"drop --unit {settings.unit}, or collect {stream.name} in a run of its own"
            )
    return streams


def _selectors(settings: Settings, streams: tuple[Stream, ...]) -> dict[str, tuple[str, ...]]:
    """The values asked for per dimension; checks each stream gets what it requires."""
    selectors: dict[str, tuple[str, ...]] = {
        "app_id": tuple(settings.app_id),
        "segment_id": tuple(settings.segment_id),
        "event": tuple(settings.event),
        "product": tuple(settings.product),
        "campaign_id": tuple(settings.campaign_id),
        "canvas_id": tuple(settings.canvas_id),
        "send_id": tuple(settings.send_id),
    }
    for value in settings.send_id:
        campaign, sep, send = value.partition(":")
        if not sep or not campaign or not send or value == "*":
            raise ConfigError(
                f"--send-id {value!r} is not CAMPAIGN_ID:SEND_ID (sends cannot be listed, so "
                "each is named with its campaign), e.g. --send-id 3c1b…:summer-1"
            )
    for stream in streams:
        for dim in stream.required:
            if dim == "send_id":
                if not selectors["send_id"]:
                    raise ConfigError(
                        "--stream send_stats needs --send-id CAMPAIGN_ID:SEND_ID (repeatable)"
                    )
                continue
            if dim == "campaign_id" and stream.name == "send_stats":
                continue
            if not any(selectors[dim]):
                flag = DIMENSION_FLAGS[dim]
                raise ConfigError(
                    f"--stream {stream.name} needs {flag} with a non-empty value (or {flag} '*' "
                    f"for every one the workspace lists)"
                )
    return selectors


def parse_rates(values: list[str]) -> dict[str, Rate]:
    """`N/s|m|h` sets the default pool; `POOL=N/s|m|h` another (repeatable)."""
    rates = {pool: Rate.parse(text) for pool, text in POOL_RATES.items()}
    for value in values:
        pool, sep, text = value.rpartition("=")
        pool = pool.strip() if sep else "default"
        if pool not in POOL_RATES:
            raise ConfigError(
                f"--rate-limit {value!r}: no rate-limit pool {pool!r}; pools are "
                f"{', '.join(POOL_RATES)} (e.g. --rate-limit export-lists=500/h)"
            )
        rates[pool] = Rate.parse(text)
    return rates


def resolve(
    command: Command,
    flags: Mapping[str, Any],
    *,
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    need_key: bool = True,
) -> tuple[Settings, Job]:
    """The one way settings become a job, for the CLI and the Python API alike."""
    env = os.environ if env is None else env
    file_values = load_file(config) if config is not None else {}
    settings = settings_from(file_values, flags, env=env, source=str(config))
    return settings, build_job(command, settings, env=env, now=now, need_key=need_key)


def masked(settings: Settings, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The resolved settings as plain data, with where the key comes from but never the key."""
    env = os.environ if env is None else env
    data = settings.model_dump(mode="json")
    key_source = (
        f"file {settings.api_key_file}"
        if settings.api_key_file
        else f"${ENV_API_KEY} ({'set' if env.get(ENV_API_KEY) else 'NOT SET'})"
    )
    data["api_key"] = f"********** from {key_source}"
    data["endpoint"] = settings.endpoint or env.get(ENV_ENDPOINT)
    data["db"] = display(settings.db)
    return data


def parse_duration(text: str, *, flag: str = "--deadline") -> float:
    """`90`, `90s`, `45m`, `2h`, `1h30m` → seconds; else a ConfigError with examples."""
    m = _DURATION.match(text.strip())
    if not text.strip() or m is None or not any(m.groups()):
        raise ConfigError(f"{flag} {text!r} is not a duration: use e.g. 90s, 45m, 2h or 1h30m")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0 and flag == "--deadline":
        raise ConfigError(f"{flag} {text!r} must be longer than zero")
    return total


def _bucket(flag: str, text: str, calendar: Calendar, unit: Unit) -> int:
    try:
        instant = calendar.instant(parse_iso(text))
        ordinal = calendar.ordinal(unit, instant)
        on_boundary = calendar.start(unit, ordinal) == instant
        before, after = calendar.key(unit, ordinal), calendar.key(unit, ordinal + 1)
    except (ValueError, OverflowError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else "outside years 1..9999"
        raise ConfigError(
            f"{flag} {text!r} is not a valid date or datetime ({reason}): use YYYY-MM-DD or "
            "YYYY-MM-DDTHH:MM:SSZ"
        ) from exc
    if not on_boundary:
        raise ConfigError(
            f"{flag} {text!r} is not on a {unit} boundary in {calendar.zone_name}: "
            f"use {before} or {after}"
        )
    return ordinal


def _api_key(settings: Settings, env: Mapping[str, str], streams: tuple[Stream, ...]) -> SecretStr:
    if settings.api_key_file is not None:
        try:
            key = settings.api_key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"--api-key-file {settings.api_key_file}: cannot read it ({exc.strerror})"
            ) from exc
        except UnicodeDecodeError:  # never echo the bytes: they may be the key
            raise ConfigError(
                f"--api-key-file {settings.api_key_file}: not UTF-8 text; store the bare key"
            ) from None
        source = f"--api-key-file {settings.api_key_file}"
    else:
        key = env.get(ENV_API_KEY, "").strip()
        source = f"${ENV_API_KEY}"
    if not key:
        raise ConfigError(
            f"no API key: set {ENV_API_KEY} or pass --api-key-file PATH (a REST key with the "
            f"permissions {', '.join(repr(s.permission) for s in streams)})"
        )
    if key[0] in "'\"" or any(c.isspace() for c in key):
        raise ConfigError(
            f"the API key from {source} contains quotes or spaces: store the bare key"
        )
    return SecretStr(key)
