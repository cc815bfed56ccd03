"""Helpers for the family scenarios: one job per stream, run in-process against the simulator on a
virtual clock, into SQLite or PostgreSQL, and everything stored read back through the store's own
read-out (`open_read_store`), so both engines are compared the same way."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collector.core.models import RunReport
from collector.pipeline import collect
from collector.simulator import RequestRecord, Segment, SimulatorConfig, Workspace
from collector.store import open_read_store
from tests.integration.family import make_job

NOW = 1_718_447_400.0  # 2024-06-15T10:30:00Z, mid-hour: the current day and hour are partial
START = "2023-01-01"  # 531 days before NOW: 6 windows of 100, 38 of 14 (Canvas)
ZONE = "UTC"
APPS = ("app-ios",)

# The one family job per stream the matrix runs: every stream of the brief, each fanned out a
# little (with '*' where the stream lists), so a window per series is spread over several series.
STREAM_FLAGS: dict[str, dict[str, Any]] = {
    "sessions": {"app_id": ["", "app-ios"], "segment_id": ["", "vip"]},
    "dau": {"app_id": ["", "app-ios"]},
    "events": {"event": ["*"], "app_id": [""]},
    "purchase_revenue": {"product": ["", "*"], "app_id": [""]},
    "segment_size": {"segment_id": ["*"]},
    "campaign_stats": {"campaign_id": ["*"]},
    "canvas_stats": {"canvas_id": ["*"]},
}
DATA_PATHS = {
    "sessions": "/sessions/data_series",
    "dau": "/kpi/dau/data_series",
    "events": "/events/data_series",
    "purchase_revenue": "/purchases/revenue_series",
    "segment_size": "/segments/data_series",
    "campaign_stats": "/campaigns/data_series",
    "canvas_stats": "/canvas/data_series",
}


def workspace(**kw: Any) -> Workspace:
    """The simulator's default catalogue (events, products, campaigns, Canvases), one app and
    one tracked segment besides an untracked one."""
    kw.setdefault("segments", (Segment("vip"), Segment("quiet", analytics_tracking=False)))
    return Workspace(timezone=ZONE, apps=APPS, **kw)


def sim_config(**kw: Any) -> SimulatorConfig:
    return SimulatorConfig(workspaces=(workspace(),), **kw)


def job_flags(stream: str, **extra: Any) -> dict[str, Any]:
    return {"stream": [stream], "start": START, "timezone": ZONE, **STREAM_FLAGS[stream], **extra}


async def run_job(
    sim: Any, clock: Any, db: str | Path, observers: Sequence[Any] = (), **flags: Any
) -> RunReport:
    """The real pipeline: `flags` as the CLI's, against `sim`, into `db` (a path or a DSN)."""
    job = make_job(sim, clock, db, **flags)  # type: ignore[arg-type]
    return await collect(job, clock=clock, observers=observers)


def stored_twice(events: Sequence[Any]) -> int:
    """Windows the collectors stored more than once (from their own WindowStored events)."""
    from collector.observe.events import WindowStored

    seen = Counter(
        (e.result.window.series.key, e.result.window.lo, e.result.window.hi)
        for e in events
        if isinstance(e, WindowStored)
    )
    return sum(n - 1 for n in seen.values() if n > 1)


Key = tuple[str, tuple[str, ...], str, str, str, str]  # stream, dims, unit, time, facet, metric


@dataclass
class Contents:
    """Everything one database holds for some streams: points and nested streams' raw days."""

    points: dict[Key, Any]
    raw: dict[tuple[str, tuple[str, ...], str], Any]
    duplicates: int

    def values_ok(self) -> bool:
        """Every value is an int in range or a finite, non-negative decimal."""
        from decimal import Decimal

        for v in self.points.values():
            if isinstance(v, bool):
                return False
            if isinstance(v, int) and not 0 <= v <= 2**63 - 1:
                return False
            if isinstance(v, Decimal) and not (v.is_finite() and v >= 0):
                return False
            if not isinstance(v, int | Decimal):
                return False
        return True


def contents(db: str | Path, streams: Sequence[str], workspace_name: str = "default") -> Contents:
    """Read back every point and raw day of `streams`; duplicates counted, never merged."""
    points: dict[Key, Any] = {}
    raw: dict[tuple[str, tuple[str, ...], str], Any] = {}
    n = 0
    with open_read_store(str(db)) as store:
        for stream in streams:
            for p in store.iter_points(workspace_name, stream):
                n += 1
                points[(stream, tuple(p.dims), p.unit, p.time, p.facet, p.metric)] = p.value
            for dims, t, body in store.iter_raw(workspace_name, stream):
                raw[(stream, tuple(dims), t)] = json.loads(body)
    return Contents(points, raw, n - len(points))


def data_requests(log: Sequence[RequestRecord], paths: Sequence[str]) -> list[RequestRecord]:
    return [r for r in log if r.path in paths]


def faults_of(log: Sequence[RequestRecord]) -> Counter[str]:
    return Counter(r.fault for r in log if r.fault is not None and r.fault != "hang") + Counter(
        "hang" for r in log if r.fault == "hang"
    )


def describe(counter: Counter[str]) -> str:
    return ", ".join(f"{k}×{v}" for k, v in sorted(counter.items())) or "none"


class FrozenClock:
    """Time that stands still at `now`; a wait yields for a few real milliseconds instead.

    For collectors cooperating through a real PostgreSQL: a VirtualClock jumps to the next
    sleeper whenever the loop idles on the server's socket, so a lease can "expire" in the middle
    of one real round trip. With time frozen no lease expires (no process dies here), the
    simulator's figures are those of one instant (so a fault-free run is an exact oracle), and
    every wait still yields to the other collector (for a hundredth of its length, at most
    50 ms of real time).
    """

    def __init__(self, now: float) -> None:
        self._now = now

    def time(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        import asyncio

        await asyncio.sleep(min(max(seconds, 0.0) / 100, 0.05))

    def __repr__(self) -> str:
        return f"FrozenClock(now={self._now:.3f})"
