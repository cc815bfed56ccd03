"""`collector status`: what a database holds, per series: span, points, gaps, freshness, and how
the last run that asked for the series ended (complete, failed, refused, interrupted)."""

from __future__ import annotations

import json
import time
from typing import Any

from collector.core.models import describe_key
from collector.core.planner import gaps
from collector.core.streams import STREAMS
from collector.core.units import Calendar, Unit
from collector.store.base import ReadStore


def describe(store: ReadStore, location: str, workspace: str | None = None) -> dict[str, Any]:
    """Coverage and gaps per series, as plain data (printed as text or JSON)."""
    calendars: dict[str, Calendar] = {}
    series = []
    for st in store.status(workspace):
        ws, stream, dims, unit_name = st.key
        calendar = calendars.get(ws)
        if calendar is None:
            calendar = calendars[ws] = Calendar(store.timezone(ws) or "UTC")
        unit = Unit(unit_name)
        holes: list[str] = []
        if st.coverage:
            lo, hi = st.coverage[0][0], st.coverage[-1][1]
            for a, b in gaps(lo, hi, st.coverage):
                holes.append(f"{calendar.key(unit, a)}..{calendar.key(unit, b - 1)}")
        names = STREAMS[stream].dimensions if stream in STREAMS else ()
        series.append(
            {
                "workspace": ws,
                "stream": stream,
                **dict(zip(names, json.loads(dims), strict=False)),
                "unit": unit_name,
                "label": describe_key(st.key),
                "first": st.first,
                "last": st.last,
                "points": st.points,
                "gaps": holes,
                "last_fetched": st.last_fetched,
                "last_outcome": st.outcome,
                "last_error": st.error,
            }
        )
    runs = store.runs(workspace, limit=1)
    cooperation = getattr(store, "cooperation", None)
    return {
        "cooperation": None if cooperation is None else cooperation(time.time()),
        "db": location,
        "workspaces": {ws: store.timezone(ws) for ws in store.workspaces()},
        "series": series,
        "last_run": None
        if not runs
        else {
            "workspace": runs[0].workspace,
            "command": runs[0].command,
            "started_at": runs[0].started_at,
            "finished_at": runs[0].finished_at,
            "outcome": runs[0].outcome,
            "requests": runs[0].requests,
        },
    }


def render(status: dict[str, Any]) -> str:
    zones = ", ".join(f"{ws} ({tz or 'zone not set'})" for ws, tz in status["workspaces"].items())
    lines = [f"{status['db']}  workspaces: {zones or 'none yet'}"]
    if not status["series"]:
        lines.append("no series stored yet")
    for s in status["series"]:
        gap_text = ", ".join(s["gaps"]) if s["gaps"] else "none"
        span = f"{s['first']} .. {s['last']}" if s["first"] else "no points"
        outcome = s["last_outcome"] or "not run"
        error = f" ({s['last_error']})" if s["last_error"] and outcome != "complete" else ""
        lines.append(
            f"  {s['label']}: {span}, {s['points']} buckets, gaps: {gap_text}, "
            f"last fetched {s['last_fetched']}, last run: {outcome}{error}"
        )
    coop = status.get("cooperation")
    if coop:
        live = [p for p in coop["processes"] if p["state"] == "running"]
        lines.append(f"processes: {len(live)} running, {len(coop['processes']) - len(live)} ended")
        for p in coop["processes"][:20]:
            lines.append(
                f"  {p['id']} {p['command']} {p['state']}: {p['leases']} lease(s), "
                f"{p['windows_stored']}/{p['windows_planned']} windows, {p['requests']} requests "
                f"at {p['rate_per_s']}/s, heartbeat {p['heartbeat_age_s']}s ago"
            )
        for b in coop["budgets"]:
            told = (
                f"{b['remaining']} of {b['server_limit']} left, resets in {b['resets_in_s']}s"
                if b["remaining"] is not None
                else f"server limit {b['server_limit']}"
            )
            lines.append(f"  budget {b['workspace']}/{b['pool']}: {told}")
    run = status["last_run"]
    if run:
        lines.append(
            f"last run: {run['command']} {run['outcome'] or 'running or killed'} "
            f"(started {run['started_at']}, finished {run['finished_at']}, "
            f"{run['requests']} requests)"
        )
    return "\n".join(lines)
