"""Test support: a harness that starts simulators and reads their answers, and shared constants.

Every test talks to a real simulator on a loopback socket through aiohttp, with a `VirtualClock`
unless it is about real time (latency, hangs, shutdown).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from collector.clock import Clock, VirtualClock
from collector.simulator import Simulator, SimulatorConfig, run_simulator

SESSIONS = "/sessions/data_series"
# 2024-03-01T12:30:00Z: half past an hour, so "now" is inside a day and an hour.
T0 = datetime(2024, 3, 1, 12, 30, tzinfo=UTC).timestamp()
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
# A valid request to every path, for the default catalogue plus a segment "s".
VALID: dict[str, dict[str, str]] = {
    "/sessions/data_series": {"length": "1"},
    "/kpi/dau/data_series": {"length": "1"},
    "/kpi/mau/data_series": {"length": "1"},
    "/kpi/new_users/data_series": {"length": "1"},
    "/kpi/uninstalls/data_series": {"length": "1"},
    "/events/data_series": {"length": "1", "event": "added_to_cart"},
    "/events/list": {},
    "/purchases/quantity_series": {"length": "1"},
    "/purchases/revenue_series": {"length": "1", "product": "gem_pack_100"},
    "/purchases/product_list": {},
    "/segments/data_series": {"length": "1", "segment_id": "s"},
    "/segments/list": {},
    "/campaigns/data_series": {"length": "1", "campaign_id": "cmp-welcome"},
    "/campaigns/list": {},
    "/campaigns/details": {"campaign_id": "cmp-welcome"},
    "/sends/data_series": {"length": "1", "campaign_id": "cmp-receipts", "send_id": "send-0001"},
    "/canvas/data_series": {"length": "1", "canvas_id": "cnv-onboarding"},
    "/canvas/list": {},
    "/canvas/details": {"canvas_id": "cnv-onboarding"},
}
SERIES_PATHS = sorted(p for p in VALID if p.endswith("_series"))


@dataclass
class Answer:
    """One HTTP answer, read in full."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def decoded(self) -> Any:
        """The body with JSON floats as `Decimal`, digits as sent."""
        return json.loads(self.body, parse_float=Decimal)

    def series(self, field: str) -> list[Any]:
        """The `field` values of a `{time, field}` series."""
        return [p[field] for p in self.decoded()["data"]]

    def pairs(self, field: str) -> list[tuple[str, Any]]:
        """The `(time, field value)` points of a `{time, field}` series."""
        return [(p["time"], p[field]) for p in self.decoded()["data"]]

    @property
    def message(self) -> str:
        return str(self.json()["message"])

    @property
    def times(self) -> list[str]:
        """The `time` of every point or day (Canvas days sit under `data.stats`)."""
        data = self.json()["data"]
        return [p["time"] for p in (data["stats"] if isinstance(data, dict) else data)]

    @property
    def values(self) -> list[int]:
        return [p["sessions"] for p in self.json()["data"]]

    @property
    def points(self) -> list[tuple[str, int]]:
        return list(zip(self.times, self.values, strict=True))


class Harness:
    """Starts simulators for one test (stopped at teardown) and sends requests to them."""

    def __init__(self, session: aiohttp.ClientSession, stack: AsyncExitStack) -> None:
        self.session = session
        self._stack = stack

    async def start(
        self, config: SimulatorConfig | None = None, clock: Clock | None = None
    ) -> Simulator:
        """A running simulator; a `VirtualClock` at `T0` unless a clock is given."""
        return await self._stack.enter_async_context(
            run_simulator(config or SimulatorConfig(), clock=clock or VirtualClock(T0))
        )

    async def get(
        self,
        sim: Simulator,
        params: Mapping[str, str] | None = None,
        *,
        key: str | None = "sim-key",
        path: str = SESSIONS,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        raw_query: str | None = None,
        timeout_s: float = 10.0,
    ) -> Answer:
        """Send one request; `key` goes in a Bearer header, `raw_query` is sent unencoded."""
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        url: Any = f"{sim.url}{path}"
        if raw_query is not None:
            url = URL(f"{url}?{raw_query}", encoded=True)
        async with self.session.request(
            method,
            url,
            params=params,
            headers=sent,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            return Answer(response.status, response.headers, await response.read())
