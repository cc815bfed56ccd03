"""The running simulator: an aiohttp server on a loopback socket, its request log and its truth.

Per request, in arrival order: read the clock, decode the query (form-urlencoded, last value
wins), roll the dice, let `Api` answer, apply an injected fault, log a `RequestRecord`, wait out
any latency or hang (real time, cancelled on shutdown), then send — or drop the connection.
`truth` and `truth_days` answer, at the clock's now, what a fault-free request would hold.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, overload
from urllib.parse import parse_qsl

from aiohttp import web

from collector.clock import Clock, SystemClock
from collector.simulator.api import Api
from collector.simulator.buckets import Unit
from collector.simulator.config import SimulatorConfig
from collector.simulator.context import Context
from collector.simulator.data import Dataset
from collector.simulator.faults import Dice, FaultKind, injected
from collector.simulator.quota import Quota
from collector.simulator.routes import Filters
from collector.simulator.truth import days_truth, series_truth

DEFAULT_CONFIG = SimulatorConfig()
DEFAULT_HOST = "127.0.0.1"
SESSIONS_PATH = "/sessions/data_series"
# The scalar series whose values are counts (every one but revenue).
CountPath = Literal[
    "/sessions/data_series",
    "/kpi/dau/data_series",
    "/kpi/mau/data_series",
    "/kpi/new_users/data_series",
    "/kpi/uninstalls/data_series",
    "/events/data_series",
    "/purchases/quantity_series",
    "/segments/data_series",
]
SHUTDOWN_TIMEOUT_S = 2.0  # only reached by a request that arrives while the server is stopping


@dataclass(frozen=True)
class RequestRecord:
    """One request as the simulator saw it."""

    at: float  # clock.time() on arrival
    method: str
    path: str
    params: dict[str, str]  # decoded query, last value wins
    status: int | None  # None when the connection was dropped
    fault: FaultKind | None


class Simulator:
    """A configured Braze simulator; get a running one from `run_simulator`."""

    def __init__(self, config: SimulatorConfig, clock: Clock) -> None:
        self.config = config
        self.url = ""
        self.log: list[RequestRecord] = []
        self._clock = clock
        self._data = Dataset(
            config.seed, late_data=config.late_data, settle_period_s=config.settle_period_s
        )
        self._api = Api(config, self._data, Quota(config))
        self._dice = Dice(
            config.faults,
            seed=config.seed,
            omit_headers_probability=config.omit_ratelimit_headers_probability,
        )
        self._waiting: set[asyncio.Task[Any]] = set()
        self._closing = False

    def stats(self) -> Counter[int | None]:
        """How many requests got each status (None: dropped connections)."""
        return Counter(record.status for record in self.log)

    def _context(self, workspace: str) -> Context:
        return Context(
            self.config, self._data, self.config.workspace(workspace), self._clock.time()
        )

    @overload
    def truth(
        self,
        unit: Unit,
        start: datetime,
        end: datetime,
        *,
        path: Literal["/purchases/revenue_series"],
        app_id: str | None = None,
        segment_id: str | None = None,
        event: str | None = None,
        product: str | None = None,
        workspace: str = "ws",
    ) -> list[tuple[datetime, Decimal]]: ...

    @overload
    def truth(
        self,
        unit: Unit,
        start: datetime,
        end: datetime,
        *,
        path: CountPath = ...,
        app_id: str | None = None,
        segment_id: str | None = None,
        event: str | None = None,
        product: str | None = None,
        workspace: str = "ws",
    ) -> list[tuple[datetime, int]]: ...

    @overload
    def truth(
        self,
        unit: Unit,
        start: datetime,
        end: datetime,
        *,
        path: str,
        app_id: str | None = None,
        segment_id: str | None = None,
        event: str | None = None,
        product: str | None = None,
        workspace: str = "ws",
    ) -> list[tuple[datetime, int | Decimal]]: ...

    def truth(
        self,
        unit: Unit,
        start: datetime,
        end: datetime,
        *,
        path: str = SESSIONS_PATH,
        app_id: str | None = None,
        segment_id: str | None = None,
        event: str | None = None,
        product: str | None = None,
        workspace: str = "ws",
    ) -> (
        list[tuple[datetime, int]]
        | list[tuple[datetime, Decimal]]
        | list[tuple[datetime, int | Decimal]]
    ):
        """Every bucket of scalar series `path` starting in `[start, end)`, as a 200 reports now.

        Buckets come as UTC starts with their values, revenue as `Decimal` with the served
        digits. Raises `ValueError` for naive datetimes, an unknown workspace, path or unit
        (hour on a daily-only series), a filter the series does not take, or parameters the
        endpoint would answer with 400.
        """
        filters = Filters(app_id, segment_id, event, product)
        return series_truth(self._context(workspace), path, unit, start, end, filters)

    def truth_days(
        self,
        path: str,
        start: datetime,
        end: datetime,
        *,
        campaign_id: str | None = None,
        send_id: str | None = None,
        canvas_id: str | None = None,
        workspace: str = "ws",
    ) -> list[dict[str, Any]]:
        """The day objects of a nested series for days starting in `[start, end)`, as served now.

        `path` is `/campaigns/data_series`, `/sends/data_series` or `/canvas/data_series`; the
        days come JSON-decoded as a fault-free 200 holds them, floats as `Decimal`, Canvas days
        with both breakdowns. Raises `ValueError` like `truth`.
        """
        ids = {"campaign_id": campaign_id, "send_id": send_id, "canvas_id": canvas_id}
        return days_truth(self._context(workspace), path, start, end, ids)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        now = self._clock.time()
        params = dict(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))
        roll = self._dice.roll()
        reply = self._api.answer(
            request.method,
            request.path,
            params,
            request.headers.get("Authorization"),
            now,
            omit_rate_headers=roll.omit_rate_headers,
        )
        fault = roll.fault if reply.charged else None
        if fault is not None and fault != "drop":
            reply = injected(fault, reply, roll.cut)
        status = None if fault == "drop" else reply.status
        self.log.append(RequestRecord(now, request.method, request.path, params, status, fault))
        delay = roll.latency_s + (self.config.faults.hang_seconds if fault == "hang" else 0.0)
        if delay > 0 and not self._closing:
            await self._wait(delay)
        if fault == "drop" and request.transport is not None:
            # Closing first makes aiohttp's write fail quietly: the client sees a disconnect.
            request.transport.close()
        return web.Response(
            status=reply.status,
            body=reply.body,
            content_type=reply.content_type,
            headers=reply.headers,
        )

    async def _wait(self, seconds: float) -> None:
        """Sleep in real time; `_stop_waiting` cancels the sleeper when the server stops."""
        task = asyncio.current_task()
        assert task is not None
        self._waiting.add(task)
        try:
            await asyncio.sleep(seconds)
        finally:
            self._waiting.discard(task)

    def _stop_waiting(self) -> None:
        self._closing = True
        for task in self._waiting:
            task.cancel()

    def __repr__(self) -> str:
        return f"Simulator(url={self.url!r}, requests={len(self.log)}, clock={self._clock!r})"


def bind_address(host: str) -> str:
    """`host` as an address to bind, refusing anything that is not loopback."""
    candidate = "127.0.0.1" if host == "localhost" else host
    try:
        loopback = ipaddress.ip_address(candidate).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"the simulator only listens on loopback; {host!r} is not a loopback address "
            "(use 127.0.0.1, ::1 or localhost)"
        )
    return candidate


@asynccontextmanager
async def run_simulator(
    config: SimulatorConfig = DEFAULT_CONFIG,
    *,
    clock: Clock | None = None,
    host: str = DEFAULT_HOST,
    port: int = 0,
) -> AsyncIterator[Simulator]:
    """Serve `config` on `host:port` (an ephemeral port by default) until the block exits.

    On exit, pending latency and hang waits are cancelled and connections closed promptly.
    """
    bind = bind_address(host)
    simulator = Simulator(config, clock or SystemClock())
    runner = web.ServerRunner(
        web.Server(simulator._handle, access_log=None), shutdown_timeout=SHUTDOWN_TIMEOUT_S
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, bind, port).start()
        bound_port = runner.addresses[0][1]
        url_host = f"[{bind}]" if ":" in bind else bind
        simulator.url = f"http://{url_host}:{bound_port}"
        yield simulator
    finally:
        simulator._stop_waiting()
        await runner.cleanup()
