"""The worker pool: an asyncio.TaskGroup of workers over a bounded queue of windows.

Each attempt takes a token from the workspace budget inside the retry loop, so retries pay for
themselves. Workers hand results downstream (`sink`) and emit events; they never reach back into
the planner. A 400/404 fails its series (its other windows are skipped); a 401/403 or a store
error ends the run by propagating out of the task group, unwrapped.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NoReturn, Protocol

from collector.budget.local import WorkspaceBudget
from collector.clock import Clock
from collector.core.alignment import Aligner, Request
from collector.core.models import Point, RunReport, StoreOutcome, Window, WindowResult
from collector.errors import (
    ApiError,
    AuthError,
    ConnectError,
    RateLimited,
    RequestRejected,
    ServerUnreachable,
)
from collector.http.retry import FailingTime, RetryPolicy, retrying
from collector.observe.events import (
    Event,
    RatePaused,
    ReadingLearned,
    RetryScheduled,
    WindowFailed,
    WindowStored,
)

DEFAULT_CONCURRENCY = 8
# Identical connect failures in a row, with nothing answered yet, that end the run (at most a
# window's attempts, so the first window never fails on its own): ~4 s of backoff by default.
UNREACHABLE_AFTER = 5


@dataclass(frozen=True)
class RunLimits:
    """Budgets for a job with a time slot: stop cleanly once either is spent."""

    max_requests: int | None = None
    deadline: float | None = None  # epoch seconds on the run's clock

    def reason(self, requests: int, now: float) -> str | None:
        if self.max_requests is not None and requests >= self.max_requests:
            return f"--max-requests {self.max_requests} reached"
        if self.deadline is not None and now >= self.deadline:
            return "--deadline reached"
        return None


class _Stop(Exception):
    """A budget is spent: the window is left for the next run, not failed."""


class Fetcher(Protocol):
    """One attempt at one window (the HTTP client, or a fake in tests)."""

    async def fetch(self, window: Window, request: Request) -> list[Point]: ...


@dataclass
class Scheduler:
    """Runs windows concurrently; everything it learns goes to `sink`, `emit` and `report`."""

    fetcher: Fetcher
    budget: WorkspaceBudget
    aligner: Aligner
    policy: RetryPolicy
    clock: Clock
    sink: Callable[[WindowResult], StoreOutcome]
    emit: Callable[[Event], None]
    report: RunReport
    concurrency: int = DEFAULT_CONCURRENCY
    limits: RunLimits = field(default_factory=RunLimits)
    rng: random.Random = field(default_factory=random.Random)
    rejected_series: set[tuple[str, str, str, str]] = field(default_factory=set)
    unreachable_after: int = UNREACHABLE_AFTER
    _answered: bool = field(default=False, init=False)  # any attempt reached the server
    _connect_failures: tuple[str, int] = field(default=("", 0), init=False)  # (how, how many)

    async def run(self, windows: Iterable[Window]) -> None:
        """Fetch every window; returns when all are stored or failed."""
        queue: asyncio.Queue[Window | None] = asyncio.Queue(maxsize=2 * self.concurrency)

        async def produce() -> None:
            for window in windows:
                if self.report.stopped:
                    break
                await queue.put(window)
            for _ in range(self.concurrency):
                await queue.put(None)

        async def work() -> None:
            while (window := await queue.get()) is not None:
                await self.one(window)

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(produce())
                for _ in range(self.concurrency):
                    group.create_task(work())
        except BaseExceptionGroup as group_error:
            raise _first(group_error) from None

    async def one(self, window: Window) -> None:
        """Fetch, validate and store one window, retrying what may succeed on another try."""
        series_report = self.report.for_series(window.series)
        if self.report.stopped:
            return
        if window.series.key in self.rejected_series:
            series_report.failed_windows += 1
            return
        attempts = 0
        failing = FailingTime(self.clock)
        try:
            async for attempt in retrying(
                self.policy,
                self.clock,
                on_retry=self._on_retry,
                rng=self.rng,
                failing=failing,
                sleep=self._backoff,
            ):
                with attempt:
                    attempts += 1
                    request, points = await self._attempt(window, failing)
                    covered = self._learn(window, request, points)
        except _Stop:
            return
        except (AuthError, ServerUnreachable):
            raise
        except ApiError as exc:
            if isinstance(exc, RequestRejected):
                self.rejected_series.add(window.series.key)
            series_report.failed_windows += 1
            series_report.note_error(str(exc))
            self.emit(WindowFailed(window, attempts, type(exc).__name__, str(exc)))
            return
        lo, hi = window.range_lo, window.range_hi
        result = WindowResult(
            window=window,
            covered=covered,
            points=tuple(p for p in points if lo <= p.ordinal < hi),
            fetched_at=datetime.fromtimestamp(self.clock.time(), UTC),
        )
        outcome = self.sink(result)
        series_report.windows += 1
        series_report.inserted += outcome.inserted
        series_report.revised += outcome.revised
        self.emit(WindowStored(result, outcome, attempts))

    async def _attempt(self, window: Window, failing: FailingTime) -> tuple[Request, list[Point]]:
        self._check_limits()
        self.report.requests += 1  # counted before the wait, so the budget is never overshot
        try:
            with failing.waiting():  # waiting for the workspace is not failing
                await self._acquire()
        except _Stop:
            self.report.requests -= 1  # not sent
            raise
        request = self.aligner.request_for(window)
        try:
            points = await self.fetcher.fetch(window, request)
        except ConnectError as exc:
            self.report.statuses[0] += 1
            self._trip_if_unreachable(exc)
            raise
        except ApiError as exc:
            self._answered = True
            self.report.statuses[exc.status or 0] += 1
            if isinstance(exc, RateLimited):
                self._pause(exc)
            raise
        finally:
            self.budget.release()
        self._answered = True
        self.report.statuses[200] += 1
        return request, points

    def _trip_if_unreachable(self, exc: ConnectError) -> None:
        """The circuit breaker: while nothing has reached the server, `unreachable_after`
        connect failures in a row, all the same, end the run (ServerUnreachable)."""
        if self._answered:
            return
        cause = exc.__cause__
        how = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc.args[0])
        last, count = self._connect_failures
        count = count + 1 if how == last else 1
        self._connect_failures = (how, count)
        if count >= min(self.unreachable_after, self.policy.max_retries + 1):
            raise ServerUnreachable(
                f"cannot reach the server: the first {count} attempts all failed the same way "
                f"({how}) and none got an answer; check --endpoint (your instance's REST "
                "endpoint, e.g. https://rest.iad-01.braze.com), DNS and the network, then re-run "
                "(finished windows are kept)"
            ) from exc

    def _check_limits(self) -> None:
        stop = self.limits.reason(self.report.requests, self.clock.time())
        if stop is not None:
            self._stop(stop)

    def _stop(self, reason: str) -> NoReturn:
        self.report.stopped = self.report.stopped or reason
        raise _Stop(reason)

    async def _acquire(self) -> None:
        """Take a token from the budget, unless the deadline comes first (then `_Stop`).

        The budget may wait a long time (a 429 pause, an hourly server window's reset): the
        wait is raced against the deadline on the run's clock, and the deadline is checked again
        once the token is held, so no request is sent after it.
        """
        deadline = self.limits.deadline
        if deadline is None:
            await self.budget.acquire()
            return
        acquire = asyncio.ensure_future(self.budget.acquire())
        timer = asyncio.ensure_future(self.clock.sleep(deadline - self.clock.time()))
        try:
            await asyncio.wait((acquire, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (acquire, timer):
                if not task.done():
                    task.cancel()
            await asyncio.gather(acquire, timer, return_exceptions=True)
        if not acquire.cancelled():
            acquire.result()  # re-raises what the budget raised, if anything
            if self.clock.time() < deadline:
                return
            self.budget.release()  # the token was taken, but nothing will be sent
        self._stop("--deadline reached")

    async def _backoff(self, seconds: float) -> None:
        """The retry loop's wait, cut short by the deadline (then `_Stop`)."""
        deadline = self.limits.deadline
        if deadline is not None and self.clock.time() + seconds >= deadline:
            await self.clock.sleep(deadline - self.clock.time())
            self._stop("--deadline reached")
        await self.clock.sleep(seconds)

    def _learn(self, window: Window, request: Request, points: list[Point]) -> tuple[int, int]:
        before = self.aligner.reading
        covered = self.aligner.covered(window, request, points)
        if self.aligner.reading is not before:
            self.report.alignment = self.aligner.reading.value
            self.emit(ReadingLearned(self.aligner.reading.value))
        return covered

    def _pause(self, exc: RateLimited) -> None:
        self.report.rate_limited += 1
        seconds = exc.wait if exc.wait is not None else self.policy.backoff(1, self.rng)
        until = self.budget.pause_for(seconds, jitter=self.policy.rate_limit_jitter_s)
        self.emit(RatePaused(until=until, seconds=until - self.clock.time()))

    def _on_retry(self, exc: ApiError, attempt: int, wait_s: float) -> None:
        cause = type(exc).__name__
        self.report.retries[cause] += 1
        window = exc.window
        if window is not None:
            self.emit(RetryScheduled(window, attempt, cause, exc.status, str(exc), wait_s))


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error users should see: a single cause, not a group of one."""
    leaves: list[BaseException] = []
    stack: list[BaseException] = [group]
    while stack:
        exc = stack.pop()
        if isinstance(exc, BaseExceptionGroup):
            stack.extend(reversed(exc.exceptions))
        else:
            leaves.append(exc)
    return leaves[0]
