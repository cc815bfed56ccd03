"""What the pipeline and the read-outs need from a store, whichever engine holds it.

The run path is async (`RunStore`): SQLite answers it from its own thread, PostgreSQL natively,
so the event loop never waits on a lock. Read-outs (`status`, `export`, `plot`, `discover`) are
short and sequential, and use the synchronous `ReadStore`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from collector.core.models import RunReport, SeriesKey, StoreOutcome, Value, WindowResult

Interval = tuple[int, int]
SCHEMA_VERSION = 2


def fingerprint(salt: str, api_key: str) -> str:
    """A non-reversible fingerprint of the key: tells keys apart, never gives one back."""
    return hmac.new(salt.encode(), api_key.encode(), hashlib.sha256).hexdigest()[:24]


@dataclass(frozen=True)
class SeriesStatus:
    """Coverage of one stored series, and how the last run that asked for it ended."""

    key: SeriesKey
    points: int
    first: str | None
    last: str | None
    last_fetched: str | None
    coverage: tuple[Interval, ...]
    outcome: str | None = None  # complete, failed, refused, incomplete (last run naming it)
    error: str | None = None  # its last error in that run


@dataclass(frozen=True)
class StoredPoint:
    """One stored value, for export: the series' dimension values as they were listed."""

    dims: tuple[str, ...]
    unit: str
    time: str
    facet: str
    metric: str
    value: Value


@dataclass(frozen=True)
class RunRow:
    id: int
    workspace: str
    command: str
    started_at: str
    finished_at: str | None
    outcome: str | None
    requests: int | None


class RunStore(Protocol):
    """The run path."""

    notices: list[str]

    async def prepare(self, workspace: str, timezone: str) -> None: ...
    async def check_key(self, workspace: str, api_key: str, *, rotated: bool) -> None: ...
    async def covered(self, keys: Sequence[SeriesKey]) -> dict[SeriesKey, list[Interval]]: ...
    async def last_time(self, key: SeriesKey) -> str | None: ...
    async def commit(self, result: WindowResult) -> StoreOutcome: ...
    async def begin_run(self, workspace: str, command: str, started_at: datetime) -> int: ...
    async def finish_run(
        self, run_id: int, finished_at: datetime, outcome: str, report: RunReport
    ) -> None: ...
    async def discovered(
        self, workspace: str, what: str
    ) -> tuple[list[str], list[str], datetime] | None: ...
    async def remember(
        self, workspace: str, what: str, items: list[str], skipped: list[str], at: datetime
    ) -> None: ...
    async def close(self) -> None: ...


class ReadStore(Protocol):
    """The read-outs; a context manager that closes the store."""

    def __enter__(self) -> ReadStore: ...
    def __exit__(self, *exc: object) -> None: ...
    def timezone(self, workspace: str) -> str | None: ...
    def covered(self, keys: Sequence[SeriesKey]) -> dict[SeriesKey, list[Interval]]: ...
    def last_time(self, key: SeriesKey) -> str | None: ...
    def workspaces(self) -> list[str]: ...
    def status(self, workspace: str | None = None) -> list[SeriesStatus]: ...
    def iter_points(self, workspace: str, stream: str) -> Iterator[StoredPoint]: ...
    def iter_raw(
        self, workspace: str, stream: str
    ) -> Iterator[tuple[tuple[str, ...], str, str]]: ...
    def runs(self, workspace: str | None = None, limit: int = 1) -> list[RunRow]: ...
    def discovered_now(
        self, workspace: str, what: str
    ) -> tuple[list[str], list[str], str] | None: ...
    def close(self) -> None: ...


# --- `db copy`: the whole content of a store, engine-neutral -----------------------------------


@dataclass(frozen=True)
class PointRow:
    """One stored point as it is kept: value, when it was fetched, how often it changed."""

    time: str
    facet: str
    metric: str
    value: Value
    fetched_at: str
    revisions: int


@dataclass(frozen=True)
class SeriesRows:
    """Everything stored for one series."""

    points: tuple[PointRow, ...]
    raw: tuple[tuple[str, str, str], ...]  # (time, day object as JSON, fetched_at)
    coverage: tuple[tuple[int, int, str], ...]  # (lo, hi, fetched_at), merged, by lo


@dataclass(frozen=True)
class RunRecord:
    """One run, every column."""

    id: int
    workspace: str
    command: str
    started_at: str
    finished_at: str | None
    outcome: str | None
    requests: int | None
    inserted: int | None
    revised: int | None


class CopyStore(Protocol):
    """Both ends of `collector db copy`: dump everything, put rows back exactly."""

    def __enter__(self) -> CopyStore: ...
    def __exit__(self, *exc: object) -> None: ...
    def salt(self) -> str: ...
    def dump_workspaces(self) -> list[tuple[str, str | None, str | None]]: ...
    def dump_series(self) -> list[SeriesKey]: ...
    def dump_series_rows(self, key: SeriesKey) -> SeriesRows: ...
    def dump_runs(self) -> list[RunRecord]: ...
    def dump_run_series(self) -> list[tuple[int, SeriesKey, str, str | None]]: ...
    def dump_discovery(self) -> list[tuple[str, str, str, str, str]]: ...
    def has_fingerprints(self) -> bool: ...
    def put_salt(self, salt: str) -> None: ...
    def put_workspace(
        self, name: str, timezone: str | None, key_fingerprint: str | None
    ) -> None: ...
    def put_series_rows(
        self,
        key: SeriesKey,
        points: Sequence[PointRow],
        raw: Sequence[tuple[str, str, str]],
        coverage: Sequence[tuple[int, int, str]] | None,
    ) -> None: ...
    def put_run(self, run: RunRecord, *, new: bool) -> int: ...
    def put_run_series(self, run: int, key: SeriesKey, outcome: str, error: str | None) -> None: ...
    def put_discovery(self, row: tuple[str, str, str, str, str]) -> None: ...
    def close(self) -> None: ...
