"""Frozen event records the scheduler and pipeline emit. Observers (logs, progress) watch; they
never steer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from collector.core.models import RunReport, StoreOutcome, Window, WindowResult


@dataclass(frozen=True)
class WindowStored:
    """A window's response was validated and committed."""

    result: WindowResult
    outcome: StoreOutcome
    attempts: int


@dataclass(frozen=True)
class RetryScheduled:
    """An attempt failed with a retryable error; the window will be tried again after `wait_s`."""

    window: Window
    attempt: int
    cause: str  # the error class name
    status: int | None
    message: str
    wait_s: float


@dataclass(frozen=True)
class WindowFailed:
    """A window gave up: a final error, or retries exhausted. Its buckets stay uncovered."""

    window: Window
    attempts: int
    cause: str
    message: str


@dataclass(frozen=True)
class RatePaused:
    """A 429 paused every worker until `until` (epoch seconds)."""

    until: float
    seconds: float


@dataclass(frozen=True)
class QuotaSeen:
    """A response's X-RateLimit-* headers: what the server says is left in its window."""

    limit: int
    remaining: int
    reset: float


@dataclass(frozen=True)
class ReadingLearned:
    """The server's reading of an on-boundary ending_at became known (or changed)."""

    reading: str


@dataclass(frozen=True)
class PassStarted:
    """The pipeline planned a pass: `windows` requests for `missing` buckets."""

    name: str
    windows: int
    missing: int


@dataclass(frozen=True)
class RunFinished:
    """The run ended; the report is final."""

    report: RunReport


Event = (
    WindowStored
    | RetryScheduled
    | WindowFailed
    | RatePaused
    | QuotaSeen
    | ReadingLearned
    | PassStarted
    | RunFinished
)
Observer = Callable[[Event], None]
