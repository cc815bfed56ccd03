"""The worker pool: an asyncio.TaskGroup of workers over a bounded queue of windows.

Each attempt takes a token from the workspace budget inside the retry loop, so retries pay for
themselves. Workers hand results downstream (`sink`) and emit events; they never reach back into
the planner. A 400/404 fails its series (its other windows are skipped); a 401/403 or a store
error ends the run by propagating out of the task group, unwrapped.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn, Protocol

from collector.budget.pools import Budgets
from collector.clock import Clock
from collector.cooperate.leases import Leases, LocalLeases
from collector.core.alignment import Aligner, Request
from collector.core.models import (
    RunReport,
    SeriesKey,
    SeriesReport,
    StoreOutcome,
    Window,
    WindowResult,
)
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
from collector.response import Parsed
from collector.work.inflight import InFlight

# The most requests in flight per pool (`--concurrency`); how many are actually in flight is
# sized from the measured latency and the pool's rate (`InFlight`). 128 sustains Braze's default
# 250,000/h (69.4/s) up to about 1.5 s per request.
DEFAULT_CONCURRENCY = 128
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


class StopRun(Exception):
    """A budget was spent during discovery: the run ends early, as with a window."""


class Fetcher(Protocol):
    """One attempt at one window (the HTTP client, or a fake in tests)."""

    async def fetch(self, window: Window, request: Request) -> Parsed: ...

    async def get_json(
        self, path: str, params: Mapping[str, str], *, permission: str
    ) -> object: ...


@dataclass
class Scheduler:
    """Runs windows concurrently; everything it learns goes to `sink`, `emit` and `report`."""

    fetcher: Fetcher
    budgets: Budgets
    aligner: Aligner
    policy: RetryPolicy
    clock: Clock
    sink: Callable[[WindowResult], Awaitable[StoreOutcome]]
    emit: Callable[[Event], None]
    report: RunReport
    concurrency: int = DEFAULT_CONCURRENCY
    limits: RunLimits = field(default_factory=RunLimits)
    rng: random.Random = field(default_factory=random.Random)
    leases: Leases | LocalLeases = field(default_factory=LocalLeases)
    rejected_series: set[SeriesKey] = field(default_factory=set)
    refused_streams: dict[str, str] = field(default_factory=dict)  # stream → the 403's message
    unreachable_after: int = UNREACHABLE_AFTER
    _answered: bool = field(default=False, init=False)  # any attempt reached the server
    _connect_failures: tuple[str, int] = field(default=("", 0), init=False)  # (how, how many)
    _gates: dict[str, InFlight] = field(default_factory=dict, init=False)  # per pool

    def in_flight(self, pool: str) -> InFlight:
        """The in-flight limit of `pool`: at most `concurrency`, sized by Little's law."""
        gate = self._gates.get(pool)
        if gate is None:
            gate = self._gates[pool] = InFlight(
                self.concurrency, lambda: self.budgets[pool].allowed_rate()
            )
        return gate

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
        refused = self.refused_streams.get(window.series.stream.name)
        if refused is not None:
            series_report.refused = refused
            return
        if await self.leases.claim(window) in ("busy", "done"):
            return  # another process holds it or has stored it: re-planning sees which
        stored = False
        try:
            stored = await self._one(window, series_report)
        finally:
            await self.leases.finish(window, stored=stored)

    async def _one(self, window: Window, series_report: SeriesReport) -> bool:
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
                    request, parsed = await self._attempt(window, failing)
                    covered = self._learn(window, request, parsed)
        except _Stop:
            return False
        except AuthError as exc:
            if exc.status != 403:
                raise
            # Keys are often scoped: a 403 fails this stream only, the others go on.
            self.refused_streams.setdefault(window.series.stream.name, str(exc))
            series_report.refused = str(exc)
            self.emit(WindowFailed(window, attempts, type(exc).__name__, str(exc)))
            return False
        except ServerUnreachable:
            raise
        except ApiError as exc:
            if isinstance(exc, RequestRejected):
                self.rejected_series.add(window.series.key)
            series_report.failed_windows += 1
            series_report.note_error(str(exc))
            self.emit(WindowFailed(window, attempts, type(exc).__name__, str(exc)))
            return False
        lo, hi = window.range_lo, window.range_hi
        result = WindowResult(
            window=window,
            covered=covered,
            points=tuple(p for p in parsed.points if lo <= p.ordinal < hi),
            fetched_at=datetime.fromtimestamp(self.clock.time(), UTC),
            raw=tuple(r for r in parsed.raw if lo <= r[0] < hi),
        )
        outcome = await self.sink(result)
        series_report.windows += 1
        series_report.inserted += outcome.inserted
        series_report.revised += outcome.revised
        series_report.removed += outcome.removed
        self.emit(WindowStored(result, outcome, attempts))
        return True

    async def _attempt(self, window: Window, failing: FailingTime) -> tuple[Request, Parsed]:
        pool = window.series.stream.pool
        async with self._slot(pool, failing) as sent:
            with failing.waiting():  # waiting for the workspace is not failing
                await self._take(pool)
            request = self.aligner.request_for(window)
            return request, await self._send(pool, self.fetcher.fetch(window, request), sent)
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def _slot(self, pool: str, failing: FailingTime) -> AsyncIterator[list[float]]:
        """A place among `pool`'s requests in flight for one attempt; `_send` notes the
        latency of its answer in the list, which sizes the pool's in-flight limit."""
        gate = self.in_flight(pool)
        with failing.waiting():
            await gate.acquire()
        latency: list[float] = []
        try:
            yield latency
        finally:
            gate.release(latency[0] if latency else None)

    async def get_json(
        self, path: str, params: Mapping[str, str], pool: str, permission: str
    ) -> Any:
        """One list or details request, paid for from `pool`'s budget and retried like a
        window; a spent --max-requests/--deadline raises `StopRun`."""
        failing = FailingTime(self.clock)
        async for attempt in retrying(
            self.policy,
            self.clock,
            on_retry=self._on_retry,
            rng=self.rng,
            failing=failing,
            sleep=self._backoff,
        ):
            with attempt:
                async with self._slot(pool, failing) as sent:
                    try:
                        with failing.waiting():
                            await self._take(pool)
                    except _Stop as stop:
                        raise StopRun(str(stop)) from None
                    get = self.fetcher.get_json(path, params, permission=permission)
                    return await self._send(pool, get, sent)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _take(self, pool: str) -> None:
        """Count the request and take a token from `pool`, or `_Stop`."""
        self._check_limits()
        self.report.requests += 1  # counted before the wait, so the budget is never overshot
        try:
            await self._acquire(pool)
        except _Stop:
            self.report.requests -= 1  # not sent
            raise

    async def _send(self, pool: str, call: Awaitable[Any], latency: list[float]) -> Any:
        """Await one request whose token is taken; account for whatever comes back, and note
        in `latency` how long an answer took."""
        sent_at = self.clock.time()
        try:
            result = await call
        except ConnectError as exc:
            self.report.statuses[0] += 1
            self._trip_if_unreachable(exc)
            raise
        except ApiError as exc:
            if exc.status is not None:
                latency.append(self.clock.time() - sent_at)
            self._answered = True
            self.report.statuses[exc.status or 0] += 1
            if isinstance(exc, RateLimited):
                self._pause(pool, exc)
            raise
        finally:
            self.budgets[pool].release()
        latency.append(self.clock.time() - sent_at)
        self._answered = True
        self.report.statuses[200] += 1
        return result

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

    async def _acquire(self, pool: str) -> None:
        """Take a token from the budget, unless the deadline comes first (then `_Stop`).

        The budget may wait a long time (a 429 pause, an hourly server window's reset): the
        wait is raced against the deadline on the run's clock, and the deadline is checked again
        once the token is held, so no request is sent after it.
        """
        budget = self.budgets[pool]
        deadline = self.limits.deadline
        if deadline is None:
            await budget.acquire()
            return
        acquire = asyncio.ensure_future(budget.acquire())
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
            budget.release()  # the token was taken, but nothing will be sent
        self._stop("--deadline reached")

    async def _backoff(self, seconds: float) -> None:
        """The retry loop's wait, cut short by the deadline (then `_Stop`)."""
        deadline = self.limits.deadline
        if deadline is not None and self.clock.time() + seconds >= deadline:
            await self.clock.sleep(deadline - self.clock.time())
            self._stop("--deadline reached")
        await self.clock.sleep(seconds)

    def _learn(self, window: Window, request: Request, parsed: Parsed) -> tuple[int, int]:
        before = self.aligner.reading
        covered = self.aligner.covered(window, request, parsed.buckets)
        if self.aligner.reading is not before:
            self.report.alignment = self.aligner.reading.value
            self.emit(ReadingLearned(self.aligner.reading.value))
        return covered

    def _pause(self, pool: str, exc: RateLimited) -> None:
        self.report.rate_limited += 1
        seconds = exc.wait if exc.wait is not None else self.policy.backoff(1, self.rng)
        until = self.budgets[pool].pause_for(seconds, jitter=self.policy.rate_limit_jitter_s)
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
