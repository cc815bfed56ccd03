"""What is retried, and how long to wait. The only module that imports tenacity.

Retried: `ApiError`s whose class says `retryable` (transport failures, 429, 5xx, bad bodies).
Never retried: 400/404 (`RequestRejected`), 401/403 (`AuthError`), `SeriesMismatch`.
Bounded by attempts *and* total time. The time bound counts only time spent *failing*, on the
injected clock (`FailingTime`): waiting for the workspace (a 429 pause, a server window's reset,
pacing) is not failing, so an hourly server window cannot use up a window's budget. Backoff is
capped exponential with full jitter; after a 429 the server's wait wins: the budget pauses every
worker for it, and this loop only adds a little jitter so the workers do not all resume in the
same millisecond.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from collector.clock import Clock
from collector.errors import ApiError, RateLimited

DEFAULT_MAX_RETRIES = 8
DEFAULT_MAX_TOTAL_S = 900.0
DEFAULT_BACKOFF_BASE_S = 0.5
DEFAULT_BACKOFF_CAP_S = 60.0
RATE_LIMIT_JITTER_S = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    """How persistently one window is retried."""

    max_retries: int = DEFAULT_MAX_RETRIES
    max_total_s: float = DEFAULT_MAX_TOTAL_S
    backoff_base_s: float = DEFAULT_BACKOFF_BASE_S
    backoff_cap_s: float = DEFAULT_BACKOFF_CAP_S
    rate_limit_jitter_s: float = RATE_LIMIT_JITTER_S

    @classmethod
    def for_tests(cls, max_retries: int = DEFAULT_MAX_RETRIES) -> RetryPolicy:
        """No backoff, no jitter: retries happen at once (the budget still honours 429 waits)."""
        return cls(max_retries=max_retries, backoff_base_s=0.0, rate_limit_jitter_s=0.0)

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base·2^(attempt-1))]."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1))
        return rng.uniform(0, ceiling)


class FailingTime:
    """How long one window has been failing: time on the injected clock since it was created,
    less the time spent inside `waiting()` (for the workspace's budget: 429 pauses, server window
    resets, pacing)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._started = clock.time()
        self._waited = 0.0

    def __repr__(self) -> str:
        return f"<FailingTime elapsed={self.elapsed():.3f}s waited={self._waited:.3f}s>"

    def elapsed(self) -> float:
        return self._clock.time() - self._started - self._waited

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Time spent in this block is waiting, not failing."""
        began = self._clock.time()
        try:
            yield
        finally:
            self._waited += self._clock.time() - began


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ApiError) and exc.retryable


def retrying(
    policy: RetryPolicy,
    clock: Clock,
    *,
    on_retry: Callable[[ApiError, int, float], None],
    rng: random.Random | None = None,
    failing: FailingTime | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> AsyncRetrying:
    """A tenacity loop: `async for attempt in retrying(...): with attempt: ...`.

    `on_retry(error, attempt_number, wait_s)` is called before each wait. The loop stops after
    `policy.max_retries` retries or once `failing` (default: from now on `clock`) has reached
    `policy.max_total_s`. Backoff waits go through `sleep` (default `clock.sleep`).
    """
    rng = rng or random.Random()
    failed_for = failing or FailingTime(clock)

    def stop(state: RetryCallState) -> bool:
        return (
            state.attempt_number > policy.max_retries or failed_for.elapsed() >= policy.max_total_s
        )

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.wait is not None:
            return rng.uniform(0, policy.rate_limit_jitter_s)
        return policy.backoff(state.attempt_number, rng)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ApiError):
            wait_s = state.next_action.sleep if state.next_action else 0.0
            on_retry(exc, state.attempt_number, wait_s)

    return AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=retry_if_exception(is_retryable),
        sleep=sleep or clock.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
