"""`collector status`: what a database holds, per series: span, points, gaps, freshness."""

from __future__ import annotations

from typing import Any

from collector.core.planner import gaps
from collector.core.units import Calendar, Unit
from collector.store.sqlite import SQLiteStore


def describe(store: SQLiteStore) -> dict[str, Any]:
    """Coverage and gaps per series, as plain data (printed as text or JSON)."""
    calendar = Calendar(store.timezone or "UTC")
    series = []
    for st in store.status():
        unit = Unit(st.key[3])
        holes: list[str] = []
        if st.coverage:
            lo, hi = st.coverage[0][0], st.coverage[-1][1]
            for a, b in gaps(lo, hi, st.coverage):
                holes.append(f"{calendar.key(unit, a)}..{calendar.key(unit, b - 1)}")
        series.append(
            {
                "endpoint": st.key[0],
                "app_id": st.key[1],
                "segment_id": st.key[2],
                "unit": st.key[3],
                "first": st.first,
                "last": st.last,
                "points": st.points,
                "gaps": holes,
                "last_fetched": st.last_fetched,
            }
        )
    last = store.last_run()
    return {
        "db": str(store.path),
        "timezone": calendar.zone_name,
        "series": series,
        "last_run": None
        if last is None
        else {"command": last[0], "finished_at": last[1], "outcome": last[2]},
    }


def render(status: dict[str, Any]) -> str:
    lines = [f"{status['db']}  (workspace time zone {status['timezone']})"]
    if not status["series"]:
        lines.append("no points stored yet")
    for s in status["series"]:
        app = s["app_id"] or "(total)"
        seg = s["segment_id"] or "(none)"
        gap_text = ", ".join(s["gaps"]) if s["gaps"] else "none"
        lines.append(
            f"  {s['endpoint']} app={app} segment={seg} {s['unit']}: {s['first']} .. {s['last']}, "
            f"{s['points']} points, gaps: {gap_text}, last fetched {s['last_fetched']}"
        )
    run = status["last_run"]
    if run:
        lines.append(
            f"last run: {run['command']} {run['outcome'] or 'running'} at {run['finished_at']}"
        )
    return "\n".join(lines)
