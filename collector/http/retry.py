"""What is retried, and how long to wait. The only module that imports tenacity.

Retried: `ApiError`s whose class says `retryable` (transport failures, 429, 5xx, bad bodies).
Never retried: 400/404 (`RequestRejected`), 401/403 (`AuthError`), `SeriesMismatch`.
Bounded by attempts *and* total time. Backoff is capped exponential with full jitter; after a
429 the server's wait wins: the budget pauses every worker for it, and this loop only adds a
little jitter so the workers do not all resume in the same millisecond.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)

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


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ApiError) and exc.retryable


def retrying(
    policy: RetryPolicy,
    clock: Clock,
    *,
    on_retry: Callable[[ApiError, int, float], None],
    rng: random.Random | None = None,
) -> AsyncRetrying:
    """A tenacity loop: `async for attempt in retrying(...): with attempt: ...`.

    `on_retry(error, attempt_number, wait_s)` is called before each wait.
    """
    rng = rng or random.Random()

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
        stop=stop_after_attempt(policy.max_retries + 1) | stop_after_delay(policy.max_total_s),
        wait=wait,
        retry=retry_if_exception(is_retryable),
        sleep=clock.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
