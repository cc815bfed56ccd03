"""HTTP to Braze. The only module that imports aiohttp (the simulator aside).

Statuses and transport errors become the project's own exceptions here, in one place, most
specific first. The API key travels only in the Authorization header: never in a URL, a log line
or an exception message, and never over plain HTTP to a host that is not loopback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType

import aiohttp

from collector import __version__
from collector.budget.local import server_wait
from collector.clock import Clock
from collector.core.alignment import Request
from collector.core.models import Window
from collector.core.units import utc_z
from collector.errors import (
    ApiError,
    AuthError,
    ConnectError,
    PayloadError,
    RateLimited,
    RequestRejected,
    ServerError,
    TransportError,
)
from collector.http.endpoint import DEFAULT_TIMEOUT_S, check_endpoint
from collector.response import Parsed, parse_body

USER_AGENT = f"collector/{__version__} (+braze data_series bulk export)"


@dataclass(frozen=True)
class ClientSettings:
    """Where to send requests, with what key, and how long to wait for each."""

    endpoint: str
    api_key: str
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_connections: int = 8

    def __repr__(self) -> str:  # the key never appears in a repr
        return f"ClientSettings(endpoint={self.endpoint!r}, api_key='**********', timeout_s={self.timeout_s})"


class BrazeClient:
    """`async with BrazeClient(settings, clock=clock, on_headers=budget.observe) as c: ...`"""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        clock: Clock,
        on_headers: Callable[[str, Mapping[str, str]], None] = lambda path, headers: None,
    ) -> None:
        self._clock = clock
        self._endpoint = check_endpoint(settings.endpoint)
        self._settings = settings
        self._on_headers = on_headers
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._session else "new"
        return f"<BrazeClient {self._endpoint} {state}>"

    async def __aenter__(self) -> BrazeClient:
        if self._closed or self._session is not None:
            raise RuntimeError("a BrazeClient can be entered once; create a new one")
        self._session = aiohttp.ClientSession(
            headers={
                "Authorization": f"Bearer {self._settings.api_key}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            timeout=aiohttp.ClientTimeout(total=self._settings.timeout_s),
            connector=aiohttp.TCPConnector(limit=self._settings.max_connections),
            raise_for_status=False,
        )
        # aiohttp re-sends an idempotent request once, silently, when a connection drops
        # (ServerDisconnectedError/ClientOSError): a request the budget never paid for and the
        # run never counted. There is no public switch; this private flag is the one aiohttp's
        # own test client clears (aiohttp/test_utils.py). A dropped attempt surfaces as a
        # TransportError and our retry loop sends the next one, through the budget.
        self._session._retry_connection = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()

    def params(self, window: Window, request: Request) -> dict[str, str]:
        """The query of one attempt: aiohttp percent-encodes every value (names are free text)."""
        series = window.series
        stream = series.stream
        params = {
            "length": str(request.length),
            "ending_at": utc_z(series.calendar.start(series.unit, request.end)),
        }
        if not stream.daily_only:
            params["unit"] = series.unit.value
        for name, value in zip(stream.dimensions, series.dims, strict=True):
            if value:
                params[name] = value
        params.update(stream.extra_params)
        return params

    async def fetch(self, window: Window, request: Request) -> Parsed:
        """One attempt at one window: the points the server returned, validated."""
        body = await self._get(
            window.series.stream.path,
            self.params(window, request),
            window=window,
            permission=window.series.stream.permission,
        )
        return parse_body(window, body)

    async def get_json(self, path: str, params: Mapping[str, str], *, permission: str) -> object:
        """One attempt at a list or details endpoint: its JSON body (a dict), checked."""
        body = await self._get(path, params, window=None, permission=permission)
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise PayloadError(f"{path}: the body is not valid JSON ({len(body)} bytes)") from exc
        if not isinstance(doc, dict) or doc.get("message", "success") != "success":
            raise PayloadError(f"{path}: the body is not a success object: {body[:80]!r}")
        return doc

    async def _get(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        window: Window | None,
        permission: str,
    ) -> bytes:
        session = self._session
        if session is None or self._closed:
            raise RuntimeError("use the client inside `async with`")
        url = self._endpoint + path
        try:
            async with session.get(url, params=params) as response:
                body = await response.read()
                status, headers = response.status, response.headers
        except TimeoutError as exc:
            raise TransportError(
                f"no complete answer within {self._settings.timeout_s:g}s (raise --timeout if "
                "the server is slow)",
                window=window,
            ) from exc
        except aiohttp.ClientConnectorError as exc:  # refused, DNS, unreachable, TLS
            raise ConnectError(
                f"connection failed: {type(exc).__name__}: {exc}", window=window
            ) from exc
        except aiohttp.ClientPayloadError as exc:
            raise PayloadError(f"the body was cut short: {exc}", window=window) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(
                f"connection failed: {type(exc).__name__}: {exc}", window=window
            ) from exc
        if status != 401:
            self._on_headers(path, headers)
        if status == 200:
            return body
        raise self._status_error(window, permission, status, headers, body)

    def _status_error(
        self,
        window: Window | None,
        permission: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> ApiError:
        said = _message(body)
        if status == 401:
            return AuthError(
                f"401 Unauthorized ({said}): the API key was refused; check BRAZE_API_KEY and that "
                f"--endpoint is your instance's REST endpoint (a key of another instance gets 401)",
                window=window,
                status=status,
            )
        if status == 403:
            return AuthError(
                f"403 Forbidden ({said}): the key lacks the permission {permission!r}, or the "
                f"workspace is inactive; create a REST key with {permission!r}",
                window=window,
                status=status,
            )
        if status == 429:
            return RateLimited(
                f"429 rate limited ({said})",
                window=window,
                wait=server_wait(headers, self._clock.time()),
            )
        if status >= 500:
            return ServerError(f"{status} server error ({said})", window=window, status=status)
        return RequestRejected(
            f"{status} rejected ({said}); check the ids of this series"
            if window is not None
            else f"{status} rejected ({said})",
            window=window,
            status=status,
        )


def _message(body: bytes) -> str:
    """The `message` of a JSON error body, or a short, printable description of the body."""
    try:
        doc = json.loads(body)
        if isinstance(doc, dict) and isinstance(doc.get("message"), str):
            return repr(doc["message"][:200])
    except (ValueError, UnicodeDecodeError):
        pass
    return f"{len(body)}-byte non-JSON body" if body else "empty body"
