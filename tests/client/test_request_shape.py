"""The exact request a window becomes: path, params, Authorization header (aioresponses)."""

import re
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientResponse
from aioresponses import aioresponses

from collector.clock import VirtualClock
from collector.core.alignment import Aligner, Reading
from collector.core.models import Series, Window
from collector.core.streams import SESSIONS
from collector.core.units import Calendar, Unit
from collector.errors import AuthError, RateLimited, RequestRejected, ServerError
from collector.http.client import BrazeClient, ClientSettings

BASE = "https://rest.iad-01.braze.com"
KEY = "shape-test-key-7f3a"
URL = re.compile(r"^https://rest\.iad-01\.braze\.com/sessions/data_series\?.*$")


class _Response(ClientResponse):
    """aioresponses 0.7.9 omits `stream_writer`, which aiohttp ≥ 3.14 requires (aioresponses#289)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(*args, **kwargs)


UTC_CAL = Calendar("UTC")


def window(app="", segment="", unit=Unit.DAY, cal=UTC_CAL):
    s = Series(SESSIONS, (app, segment), unit, cal)
    hi = cal.from_key(unit, "2024-03-01" if unit is Unit.DAY else "2024-03-01T00:00:00Z")
    return Window(s, hi - 100, hi, hi - 1000, hi)


async def fetch_params(
    w, status=200, payload=None, headers=None, reading=Reading.EXCLUSIVE, seen=None
):
    clock = VirtualClock(1_700_000_000)
    seen = [] if seen is None else seen
    with aioresponses() as mock:
        mock.get(
            URL,
            status=status,
            payload=payload or {"data": [], "message": "success"},
            headers=headers,
            response_class=_Response,
        )
        async with BrazeClient(
            ClientSettings(BASE, KEY),
            clock=clock,
            on_headers=lambda path, got: seen.append((path, dict(got))),
        ) as client:
            try:
                await client.fetch(w, Aligner(reading).request_for(w))
            finally:
                [(key, calls)] = mock.requests.items()
    return key, calls[0], seen


async def test_a_daily_window_is_one_get_with_length_unit_and_z_ending_at():
    """length = window units, unit, ending_at = window end in UTC with Z, Bearer key header."""
    (method, url), call, _ = await fetch_params(window())
    assert method == "GET" and url.path == "/sessions/data_series"
    assert dict(url.query) == {"length": "100", "unit": "day", "ending_at": "2024-03-01T00:00:00Z"}
    assert call.kwargs["headers"]["Authorization"] == f"Bearer {KEY}"
    assert KEY not in str(url)


async def test_app_and_segment_ids_are_sent_only_when_set():
    """'' means workspace total / no segment: the parameter is omitted."""
    (_, url), _, _ = await fetch_params(window(app="ios", segment="vip"))
    assert url.query["app_id"] == "ios" and url.query["segment_id"] == "vip"


async def test_a_workspace_zone_day_ends_at_local_midnight_in_utc():
    """In New York, a day window ends at 05:00Z (EST)."""
    (_, url), _, _ = await fetch_params(window(cal=Calendar("America/New_York")))
    assert url.query["ending_at"] == "2024-03-01T05:00:00Z"


async def test_inclusive_reading_sends_the_start_of_the_last_bucket():
    """Under the inclusive reading, ending_at moves back one unit."""
    (_, url), _, _ = await fetch_params(window(unit=Unit.HOUR), reading=Reading.INCLUSIVE)
    assert url.query["ending_at"] == "2024-02-29T23:00:00Z" and url.query["unit"] == "hour"


async def test_the_key_travels_only_in_the_authorization_header():
    """The session sends `Authorization: Bearer KEY`; never a query parameter."""
    clock = VirtualClock(0)
    client = BrazeClient(ClientSettings(BASE, KEY), clock=clock)
    async with client:
        assert client._session is not None
        assert client._session.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(client) and KEY not in repr(ClientSettings(BASE, KEY))


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (401, AuthError, "BRAZE_API_KEY"),
        (403, AuthError, "sessions.data_series"),
        (400, RequestRejected, "400"),
        (404, RequestRejected, "404"),
        (503, ServerError, "503"),
    ],
)
async def test_statuses_map_to_the_error_tree(status, error, text):
    """401/403 → AuthError naming the fix; 400/404 → RequestRejected; 5xx → ServerError."""
    with pytest.raises(error, match=text) as info:
        await fetch_params(window(), status=status, payload={"message": "nope"})
    assert KEY not in str(info.value)


async def test_429_carries_the_servers_wait_and_headers_are_observed():
    """A 429's Retry-After becomes the wait; rate headers reach the budget."""
    headers = {
        "Retry-After": "12",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Reset": "1700000060",
    }
    seen = []
    with pytest.raises(RateLimited) as info:
        await fetch_params(
            window(),
            status=429,
            payload={"message": "Rate limit exceeded"},
            headers=headers,
            seen=seen,
        )
    assert info.value.wait == 12
    [(path, observed)] = seen
    assert path == "/sessions/data_series" and observed["X-RateLimit-Remaining"] == "0"


def test_a_client_cannot_be_reused_after_close():
    """Lifecycle only through `async with`, once."""
    import asyncio

    async def twice():
        client = BrazeClient(ClientSettings(BASE, KEY), clock=VirtualClock(0))
        async with client:
            pass
        with pytest.raises(RuntimeError, match="once"):
            async with client:
                pass

    asyncio.run(twice())
