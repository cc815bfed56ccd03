"""The exception tree. Every error a user can meet is one of these, and its message teaches the fix.

CollectorError
├── ConfigError (also ValueError)   bad job or settings; raised before any I/O
├── ApiError                         carries the series and window it happened in
│   ├── TransportError   retried     timeouts, resets, refused connections
│   │   └── ConnectError retried     the connection could not be opened (refused, DNS, TLS)
│   ├── ServerUnreachable final      every attempt so far failed to connect the same way: ends the run
│   ├── RateLimited      retried     429, with the wait the server asked for
│   ├── ServerError      retried     5xx
│   ├── PayloadError     retried     truncated or malformed body on a 200
│   │   └── SeriesMismatch  final    well-formed body whose buckets fit no reading of the window
│   └── RequestRejected  final       other 4xx (400, 404): fails that series only
│       └── AuthError    final       401/403: ends the run
└── StoreError                       the local database cannot be opened, read or written
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collector.core.models import Window


class CollectorError(Exception):
    """Base of every error raised by collector."""


class ConfigError(CollectorError, ValueError):
    """A job file, flag or setting is invalid; nothing has been sent or written."""


class ApiError(CollectorError):
    """A request for one window failed; `window` says which."""

    retryable: bool = False

    def __init__(self, message: str, *, window: Window | None = None, status: int | None = None):
        super().__init__(message)
        self.window = window
        self.status = status

    def __str__(self) -> str:
        text = super().__str__()
        return f"{self.window.describe()}: {text}" if self.window is not None else text


class TransportError(ApiError):
    """The connection failed or timed out before a full response arrived."""

    retryable = True


class ConnectError(TransportError):
    """No connection could be opened: refused, a DNS failure, an unreachable host, TLS."""


class ServerUnreachable(ApiError):
    """Nothing has reached the server and every attempt failed to connect the same way; ends the
    run instead of retrying every window for days (a circuit breaker)."""


class RateLimited(ApiError):
    """The server answered 429; `wait` is how long it asked us to pause, if it said."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        window: Window | None = None,
        status: int | None = 429,
        wait: float | None = None,
    ):
        super().__init__(message, window=window, status=status)
        self.wait = wait


class ServerError(ApiError):
    """The server answered 5xx."""

    retryable = True


class PayloadError(ApiError):
    """A 200 whose body is truncated, not JSON, or not the documented shape."""

    retryable = True


class SeriesMismatch(PayloadError):
    """A well-formed body whose buckets fit neither reading of `ending_at`; retrying cannot help."""

    retryable = False


class RequestRejected(ApiError):
    """The server refused the request (400, 404, other 4xx); final for that series."""


class AuthError(RequestRejected):
    """401 or 403: the key is wrong, inactive, or lacks the endpoint's permission. Ends the run."""


class StoreError(CollectorError):
    """The database cannot be opened, read or written. `transient` is True when the
    connection was lost (a restarting server): the call may be repeated."""

    transient: bool = False
