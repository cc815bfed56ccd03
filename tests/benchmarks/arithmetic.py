"""Request arithmetic for a large simulated workspace (braze-api.md §10.6), without sending.

40 apps, 6 segments, 200 events, 2,000 campaigns and 500 Canvases (the simulator's `family`
preset catalogue: first and last sends spread over the years, some never sent), 5 years of days.
The job's series come from `collector.fanout.fan_out` with a synthetic lister (the catalogue's
ids) and the preset's lives as the life bounds; the plan from `collector.core.planner.plan` on an
empty store. Per stream: requests planned, the minimum (every series' range ÷ its max length,
rounded up, i.e. nothing planned twice), and the requests the life bounds saved (the plan
without them minus the plan with them). Wall time at Braze's default quotas: each pool spends
its requests at its own rate, the pools in parallel.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from datetime import UTC, datetime, timedelta

from collector.budget.local import Rate
from collector.config import resolve
from collector.core.planner import plan
from collector.core.streams import POOL_RATES
from collector.fanout import fan_out
from collector.simulator.presets import family_workspace
from tests.benchmarks.harness import Figures

APPS, SEGMENTS, EVENTS, CAMPAIGNS, CANVASES, YEARS = 40, 6, 200, 2000, 500, 5
STREAMS = ("sessions", "dau", "mau", "new_users", "uninstalls", "events")
STREAMS += ("segment_size", "campaign_stats", "canvas_stats")


async def _measure() -> dict[str, dict[str, float]]:
    now = datetime(datetime.now(UTC).year, 1, 1, tzinfo=UTC)
    since = now - timedelta(days=365 * YEARS)
    ws = family_workspace(
        apps=tuple(f"app{i:02d}" for i in range(APPS)),
        events=EVENTS,
        segments=SEGMENTS,
        campaigns=CAMPAIGNS,
        canvases=CANVASES,
        since=since,
    )
    lists = {
        "events": [str(e) for e in ws.events],
        "segments": [s.id for s in ws.segments],
        "campaigns": [c.id for c in ws.campaigns],
        "canvases": [c.id for c in ws.canvases],
    }
    lives: dict[str, tuple[datetime, datetime] | None] = {}
    for c in ws.campaigns:
        lives[c.id] = None if c.first_sent is None else (c.first_sent, c.last_sent or now)
    for v in ws.canvases:
        lives[v.id] = None if v.first_entry is None else (v.first_entry, v.last_entry or now)

    async def lister(what: str) -> tuple[list[str], list[str]]:
        for key, items in lists.items():
            if key in what:
                return items, []
        return [], []

    async def lifer(dimension: str, entity: str) -> tuple[datetime, datetime] | None:
        return lives[entity]

    flags = {
        "stream": list(STREAMS),
        "start": since.date().isoformat(),
        "end": now.date().isoformat(),
        "unit": "day",
        "app_id": ["", *ws.apps],
        "segment_id": ["", "*"],
        "event": ["*"],
        "campaign_id": ["*"],
        "canvas_id": ["*"],
        "endpoint": "https://rest.iad-01.braze.com",
    }
    _, job = resolve("backfill", flags, env={"BRAZE_API_KEY": "x"}, now=now, need_key=False)
    out: dict[str, dict[str, float]] = {}
    with_life = await fan_out(job, lister, lifer, now)
    without = await fan_out(job, lister, None, now)
    for label, fan in (("life", with_life), ("whole", without)):
        ranges = [(s, lo if lo is not None else hi - 1, hi) for s, lo, hi in fan.ranges]
        p = plan(ranges, {})
        planned: Counter[str] = Counter()
        minimum: Counter[str] = Counter()
        for sp in p.series:
            name = sp.series.stream.name
            planned[name] += sp.requests
            minimum[name] += math.ceil(sp.missing / sp.max_length)
        for name in planned:
            row = out.setdefault(name, {"pool": sp_pool(job, name)})  # type: ignore[dict-item]
            row[f"planned_{label}"] = planned[name]
            row[f"minimum_{label}"] = minimum[name]
    return out


def sp_pool(job, name: str) -> str:  # type: ignore[no-untyped-def]
    return next(s.pool for s in job.streams if s.name == name)


def run(figures: Figures) -> None:
    bench = "arithmetic"
    figures.note("arithmetic: planning a 40-app, 2,000-campaign, 5-year workspace")
    rows = asyncio.run(_measure())
    per_pool: Counter[str] = Counter()
    for name, row in rows.items():
        planned = int(row.get("planned_life", 0))
        per_pool[str(row["pool"])] += planned
        figures.add(
            bench,
            f"{name}: requests planned",
            planned,
            "requests",
            minimum=int(row.get("minimum_life", 0)),
            saved_by_life_bounds=int(row.get("planned_whole", 0)) - planned,
            pool=row["pool"],
        )
    hours = {
        pool: n / (Rate.parse(POOL_RATES[pool]).per_second * 3600) for pool, n in per_pool.items()
    }
    total = sum(per_pool.values())
    figures.add(
        bench,
        "wall time at Braze's default quotas",
        round(max(hours.values()) * 60, 1),
        "min",
        requests=total,
        **{f"{pool}_min": round(h * 60, 1) for pool, h in sorted(hours.items())},
    )
